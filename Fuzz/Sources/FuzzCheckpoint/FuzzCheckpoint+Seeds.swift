import Foundation
import FuzzSupport
import VigieCore
import VigieStore

extension FuzzCheckpoint {
    /// Writes the generated seeds (`VIGIE_FUZZ_WRITE_SEEDS=DIR`): checkpoints written by
    /// ``CheckpointStore`` of states with windows, alert states, operator actions and
    /// producers, as the daemon writes them.
    static func writeSeeds(to seeds: String) {
        let work = Scratch.directory("checkpoint-seeds")
        let store = CheckpointStore(directory: work, keep: 10)
        func seed(_ name: String, _ model: DaemonModel, lsn: UInt64) {
            Scratch.clear(work)
            do {
                try store.write(lsn: lsn, payload: model.encodeCheckpoint())
            } catch {
                fatalError("seeds: \(error)")
            }
            guard let file = FileManager.default.contents(atPath: work + "/" + CheckpointStore.fileName(lsn: lsn))
            else { fatalError("seeds: checkpoint not written") }
            Scratch.writeSeed([0] + [UInt8](file), named: name, in: seeds)
            Scratch.writeSeed([1] + [UInt8](file), named: name + "-repair", in: seeds)
        }
        seed("empty", DaemonModel(), lsn: 0)

        let model = DaemonModel()
        let t = DaemonModel.now - 3_600_000_000_000
        var lines = ""
        for i in 0..<40 {
            let at = t + Int64(i) * 60_000_000_000
            lines += "guichet_attente,service=etat-civil,site=\(["nord", "sud"][i % 2]) value=\(20 + i % 17) \(at)\n"
            lines += "service_en_ligne,service=portail up=\(i % 7 == 0 ? 0 : 1),latence_ms=\(1_400 + i * 13) \(at)\n"
            lines += "appels,service=accueil recu=3i,decroche=\(i % 4)i \(at)\n"
            lines += "piscine,site=centre temperature=\(24 + Double(i % 5) / 2),entrees=\(i % 9) \(at)\n"
            lines += "collecte,prestataire=p1,secteur=s\(i % 3) tournees_prevues=4,tournees_realisees=\(i % 5),"
            lines += "bacs_oublies=\(i % 2),retard_min=\(i % 45) \(at)\n"
        }
        Array(lines.utf8).withUnsafeBytes { payload in
            Array("agent-mairie-nord".utf8).withUnsafeBytes { producer in
                model.ingest(producer: producer, sequence: 7, frames: [payload], at: DaemonModel.now - 60_000_000_000)
            }
            Array("agent-piscine".utf8).withUnsafeBytes { producer in
                model.ingest(producer: producer, sequence: 1_500, frames: [], at: DaemonModel.now - 60_000_000_000)
            }
        }
        model.run(now: DaemonModel.now - 30_000_000_000)
        model.run(now: DaemonModel.now)
        let silence = #"{"op":"silence","matchers":["rule=portail_lent"],"for":"2h","by":"ops","comment":"travaux"}"#
        let ack = #"{"op":"ack","rule":"attente_excessive","by":"ops","comment":"vu"}"#
        for request in [silence, ack] {
            _ = Array(request.utf8).withUnsafeBytes { model.replay(request: $0, at: DaemonModel.now) }
        }
        seed("busy", model, lsn: 1_048_576)
        // Written by a daemon whose clock is past 2043-01-25 (2⁶¹ ns): its rate marks used
        // to be refused as out of range, and so was every such checkpoint.
        seed("clock-after-2043", DaemonModel(now: 2_400_000_000_000_000_000), lsn: 2_097_152)
    }
}
