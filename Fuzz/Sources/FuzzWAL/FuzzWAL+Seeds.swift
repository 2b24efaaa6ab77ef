import Foundation
import FuzzSupport
import VigieCore
import VigieStore

extension FuzzWAL {
    /// Writes the generated seeds (`VIGIE_FUZZ_WRITE_SEEDS=DIR`): segments written by the
    /// real ``WALWriter`` holding every record kind the daemon logs, as it logs them.
    static func writeSeeds(to seeds: String) {
        let work = Scratch.directory("wal-seeds")
        let t = DaemonModel.now - 3_600_000_000_000
        let batch = (0..<12).map { i in
            "guichet_attente,service=etat-civil,site=\(["nord", "sud"][i % 2]) value=\(10 + i * 3) \(t + Int64(i) * 60_000_000_000)\n"
        }.joined()
        let probes = "service_en_ligne,service=portail up=1,latence_ms=240 \(t)\npiscine,site=centre temperature=24.5\n"
        let calls =
            "appels,service=accueil recu=12i,decroche=9i \(t)\ndemandes,categorie=voirie,canal=web delai_jours=3\n"
        let silence =
            #"{"op":"silence","matchers":["rule=attente_excessive","site=nord"],"for":"2h","by":"ops","comment":"travaux"}"#
        let ack = #"{"op":"ack","rule":"portail_lent","group":{"service":"portail"},"by":"ops","comment":"vu"}"#
        let unsilence = #"{"op":"unsilence","id":"s-1","by":"ops"}"#
        let transition =
            #"{"type":"alert","rule":"portail_lent","kpi":"en_ligne.latence_p99","group":{"service":"portail"},"#
            + #""state":"firing","severity":"warning","value":1720.5,"threshold":1500,"ts":"2026-12-07T10:00:00Z","#
            + #""since":"2026-12-07T09:55:00Z","message":"Portail lent","seq":42,"epoch":"e1"}"#
        typealias Entry = (kind: WALRecordKind, at: Int64, sequence: UInt64, producer: String, frames: [String])
        let entries: [Entry] = [
            (.ingest, t, 1, "agent-mairie-nord", [batch]),
            (.ingest, t + 1_000_000, 2, "agent-mairie-nord", [probes, calls]),
            (.push, t + 2_000_000, 0, "", [calls]),
            (.operatorAction, t + 3_000_000, 0, "", [silence]),
            (.alertTransition, t + 4_000_000, 0, "", [transition]),
            (.operatorAction, t + 5_000_000, 0, "", [ack]),
            (.ingest, t + 6_000_000, 1, "agent-piscine", [probes]),
            (.operatorAction, t + 7_000_000, 0, "", [unsilence]),
        ]

        func segments(startLSN: UInt64, segmentBytes: Int, _ entries: [Entry]) -> [[UInt8]] {
            Scratch.clear(work)
            do {
                let writer = try WALWriter(
                    directory: work,
                    startLSN: startLSN,
                    segmentBytes: segmentBytes,
                    syncPolicy: .off
                )
                for entry in entries {
                    try writer.append(
                        kind: entry.kind,
                        receivedAt: entry.at,
                        sequence: entry.sequence,
                        producer: Array(entry.producer.utf8),
                        frames: entry.frames.map { Array($0.utf8) }
                    )
                    try writer.flush()
                }
                try writer.close()
            } catch {
                fatalError("seeds: \(error)")
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []).sorted()
            return names.compactMap { FileManager.default.contents(atPath: work + "/" + $0).map { [UInt8]($0) } }
        }
        func seed(_ name: String, flags: UInt8, pick: UInt8, _ files: [[UInt8]]) {
            let split = files.count > 1 ? files[0].count : 0
            var bytes: [UInt8] = [flags, UInt8(split & 0xFF), UInt8(split >> 8), pick]
            for file in files.prefix(2) { bytes += file }
            Scratch.writeSeed(bytes, named: name, in: seeds)
        }

        let one = segments(startLSN: 0, segmentBytes: 1 << 20, entries)
        seed("all-kinds", flags: 0, pick: 3, one)
        seed("all-kinds-repair", flags: 1, pick: 5, one)
        let two = segments(startLSN: 0, segmentBytes: 1_200, entries)
        seed("two-segments", flags: 3, pick: 2, Array(two.prefix(2)))
        let named = segments(startLSN: 67_108_864, segmentBytes: 1 << 20, Array(entries.prefix(4)))
        seed("named-segment", flags: 5, pick: 1, named)
        if var torn = one.first {
            torn.removeLast(40)
            seed("torn-tail", flags: 0, pick: 0, [torn])
        }
        if var zeros = one.first {
            zeros += [UInt8](repeating: 0, count: 64)
            seed("zero-filled-tail", flags: 0, pick: 0, [zeros])
        }
        if var flipped = one.first {
            flipped[200] ^= 0x10
            seed("bit-flip", flags: 0, pick: 0, [flipped])
        }
        if var unknown = named.first {
            unknown[32 + 8] = 9  // a record kind this build does not know
            seed("unknown-kind", flags: 5, pick: 0, [unknown])
        }
        let header = segments(startLSN: 0, segmentBytes: 1 << 20, [])
        seed("header-only", flags: 0, pick: 0, header)
        if var beyond = named.first {
            // Named (and, repaired, headed) past the largest LSN: vigied used to start its
            // writer at the end of the LSN space and trap at the first append.
            beyond.store(UInt64.max, at: 16)
            seed("segment-at-max-lsn", flags: 5, pick: 0, [beyond])
            seed("corrupt-segment-at-max-lsn", flags: 4, pick: 0, [beyond])
        }
    }
}
