import Foundation
import Testing
import VigieCore
import VigieTesting
import ZeroMQ

/// Kills the real `vigied` with SIGKILL at random moments while producers push
/// acknowledged batches, restarts it on the same state, resends what was not
/// acknowledged (as a real client does after a reconnect), and checks that nothing
/// acknowledged was lost and nothing was counted twice.
@Suite("Crash recovery under load (real vigied, SIGKILL)", .serialized)
struct CrashRecoveryTests {
    static let kpis = """
        [[kpi]]
        name = "crash.count"
        metric = "crash"
        aggregate = "count"
        window = "7d"
        """

    /// Checkpoints every second, so kills land before, during and after checkpoints.
    static let settings = #"checkpoint_interval = "1s""#

    /// One producer's batches: every one is resent until acknowledged.
    final class Producer {
        let id: String
        var socket: Socket
        /// Lines of each batch by sequence number (1-based: index seq − 1).
        var lines: [Int] = []
        var acked: [Bool] = []
        /// Sequence numbers to (re)send, in order, before new ones.
        var resend: [UInt64] = []
        var inFlight = 0

        init(id: String, socket: Socket) {
            self.id = id
            self.socket = socket
        }

        var ackedSamples: Int { zip(lines, acked).reduce(0) { $0 + ($1.1 ? $1.0 : 0) } }
        var sentSamples: Int { lines.reduce(0, +) }
    }

    @Test func fiftySIGKILLsLoseNothingAcknowledgedAndCountNothingTwice() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigie-crash-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        var daemon = try DaemonProcess(kpis: Self.kpis, directory: directory, daemonSettings: Self.settings)
        let fixed = daemon.endpoints
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        func connect() throws -> Socket {
            let socket = try context.makeSocket(.dealer)
            try socket.setLinger(0)
            try socket.connect(fixed["ingest"] ?? "")
            return socket
        }
        let producers = try (0..<3).map {
            Producer(id: "crash-\($0)-\(UUID().uuidString.prefix(8))", socket: try connect())
        }
        var rng = SeededGenerator(seed: 0x5EED_C4A5)
        var duplicates = 0
        var kills = 0

        /// Sends and receives until `deadline` (ns, monotonic).
        func pump(until deadline: UInt64, newBatches: Bool) throws {
            var poller = Poller()
            for p in producers { poller.register(p.socket) }
            while monotonicNanoseconds() < deadline {
                for p in producers {
                    while p.inFlight < 16 {
                        let seq: UInt64
                        if !p.resend.isEmpty {
                            seq = p.resend.removeFirst()
                        } else if newBatches {
                            p.lines.append(Int.random(in: 1...40, using: &rng))
                            p.acked.append(false)
                            seq = UInt64(p.lines.count)
                        } else {
                            break
                        }
                        let payload = String(
                            repeating: "crash,producer=\(p.id) value=1\n",
                            count: p.lines[Int(seq) - 1]
                        )
                        try p.socket.sendPush(producer: p.id, sequence: String(seq), payloads: [payload])
                        p.inFlight += 1
                    }
                }
                guard try poller.poll(timeoutMilliseconds: 5) > 0 else { continue }
                for (i, p) in producers.enumerated() where poller.isReadable(at: i) {
                    while let frames = try p.socket.receiveMultipart(dontWait: true) {
                        guard let reply = IngestReplyFrames(frames.map(\.bytes)), reply.command == "ACK",
                            reply.rest.count == 3, let seq = Int(reply.rest[1])
                        else {
                            Issue.record("unexpected reply \(frames.map(\.string))")
                            continue
                        }
                        p.inFlight -= 1
                        if reply.body["duplicate"] as? Bool == true { duplicates += 1 }
                        if !p.acked[seq - 1] {
                            p.acked[seq - 1] = true
                            #expect(
                                reply.body["accepted"] as? Int ?? -1 == p.lines[seq - 1]
                                    || reply.body["duplicate"] as? Bool == true
                            )
                        }
                    }
                }
            }
        }

        func count() throws -> Int {
            let socket = try context.makeSocket(.dealer)
            defer { socket.close(linger: 0) }
            try socket.connect(fixed["control"] ?? "")
            try socket.sendMultipart([[], Array(#"{"op":"snapshot"}"#.utf8)])
            let frames = try #require(try socket.receiveMultipart(timeoutMilliseconds: 10_000))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(frames.last ?? [])) as? [String: Any])
            let kpis = object["kpis"] as? [[String: Any]] ?? []
            let value = kpis.first { $0["kpi"] as? String == "crash.count" }?["value"] as? Double
            return Int(value ?? 0)
        }

        for _ in 0..<50 {
            let load = UInt64(Int.random(in: 30...250, using: &rng)) * 1_000_000
            try pump(until: monotonicNanoseconds() + load, newBatches: true)
            daemon.stop(signal: SIGKILL)
            kills += 1
            let acked = producers.reduce(0) { $0 + $1.ackedSamples }
            let sent = producers.reduce(0) { $0 + $1.sentSamples }
            daemon = try DaemonProcess(
                kpis: Self.kpis,
                directory: directory,
                daemonSettings: Self.settings,
                endpoints: fixed
            )
            let recovered = try count()
            #expect(recovered >= acked, "kill \(kills): \(recovered) samples recovered, \(acked) acknowledged")
            #expect(recovered <= sent, "kill \(kills): \(recovered) samples recovered, only \(sent) ever sent")
            // Reconnect and resend, in order, everything not acknowledged.
            for p in producers {
                p.socket.close(linger: 0)
                p.socket = try connect()
                p.inFlight = 0
                p.resend = (1...max(1, p.lines.count)).map(UInt64.init).filter {
                    Int($0) <= p.lines.count && !p.acked[Int($0) - 1]
                }
            }
        }
        // Drain: every batch ever sent ends acknowledged.
        let drainDeadline = monotonicNanoseconds() + 30_000_000_000
        while producers.contains(where: { $0.acked.contains(false) }), monotonicNanoseconds() < drainDeadline {
            try pump(until: monotonicNanoseconds() + 200_000_000, newBatches: false)
            for p in producers where p.inFlight == 0 {
                p.resend = p.acked.indices.filter { !p.acked[$0] }.map { UInt64($0 + 1) }
            }
        }
        let total = producers.reduce(0) { $0 + $1.sentSamples }
        let batches = producers.reduce(0) { $0 + $1.lines.count }
        #expect(producers.allSatisfy { !$0.acked.contains(false) })
        let final = try count()
        #expect(final == total, "after \(kills) kills: \(final) counted, \(total) distinct samples acknowledged")
        print(
            "crash test: \(kills) SIGKILLs, \(batches) batches, \(total) samples acknowledged, \(final) counted, "
                + "\(duplicates) duplicate ACKs for resent batches"
        )
        for p in producers { p.socket.close(linger: 0) }
        daemon.stop()
    }
}
