import Foundation
import Logging
import Testing
import VigieConfig
import VigieCore
import VigieTesting
import ZeroMQ

@testable import VigieDaemon

/// The parts that start, reload and stop the engine, on their own (`EndpointSet`,
/// `ConfigReloader.merge`) and through a real daemon (`StateKeeper`'s checkpoint fallback).
@Suite(.serialized)
struct EngineStartStopTests {
    static func configuration(_ state: String, endpoints: String) throws -> VigieConfiguration {
        try ConfigLoader.parse(
            """
            [daemon]
            timezone = "Pacific/Noumea"
            state_dir = "\(state)"
            runtime_dir = "\(state)/run"
            \(endpoints)
            [[kpi]]
            name = "attente.count"
            metric = "guichet_attente"
            aggregate = "count"
            window = "1h"
            """,
            path: "<test>"
        )
    }

    static func freshDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("vigie-parts-\(UUID().uuidString)").path
    }

    @Test func aRebindThatCannotBindChangesNothingAndOneThatCanKeepsTheOldSockets() throws {
        let state = Self.freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        // A port held by another socket: binding it again fails.
        let squatter = try context.makeSocket(.router)
        try squatter.bind("tcp://127.0.0.1:*")
        let taken = try squatter.lastEndpoint
        defer { squatter.close(linger: 0) }

        let running = try Self.configuration(
            state,
            endpoints: """
                [endpoints]
                ingest = ["tcp://127.0.0.1:*"]
                push = ["tcp://127.0.0.1:*"]
                feed = ["tcp://127.0.0.1:*"]
                control = ["tcp://127.0.0.1:*"]
                """
        )
        let set = try EndpointSet(configuration: running, context: context, internalControl: nil, now: 0)
        defer { set.close(replyLinger: 0) }
        let before = set.bound
        let ingest = try #require(set.ingest.first)

        let extra = "ipc://\(state)/ingest2.sock"
        var refused = running.endpoints
        refused.ingest.append(extra)
        refused.push.append(taken)
        #expect(throws: (any Error).self) { try set.rebind(to: refused, security: running.security) }
        #expect(set.bound == before, "nothing changes when one bind fails")
        #expect(set.ingest.count == 1 && set.push.count == 1)
        #expect(!ingest.isClosed)

        var added = running.endpoints
        added.ingest.append(extra)
        added.control = []
        let changes = try set.rebind(to: added, security: running.security)
        #expect(changes.contains("bound ingest \(extra)"), "\(changes)")
        #expect(changes.contains("closed control tcp://127.0.0.1:*"), "\(changes)")
        #expect(set.ingest.count == 2)
        #expect(set.ingest.first === ingest && !ingest.isClosed, "the unchanged endpoint keeps its socket")
        #expect(set.bound.ingest.first == before.ingest.first)
        #expect(set.bound.ingest == before.ingest + [extra])
        #expect(set.bound.control.count == 1, "only the operator socket is left")
    }

    @Test func aReloadKeepsWhatNeedsARestartAndSaysSo() throws {
        let state = Self.freshDirectory()
        let running = try Self.configuration(state, endpoints: "")
        var loaded = try Self.configuration(state + "-other", endpoints: "publish_interval = \"5s\"")
        loaded.history.minuteRetention += 86_400_000_000_000
        var needsRestart: [String] = []
        let next = ConfigReloader.merge(loaded, into: running, needsRestart: &needsRestart)
        #expect(next.daemon.stateDir == state, "the state directory of the running daemon stays")
        #expect(next.history == running.history)
        #expect(needsRestart.contains { $0.contains("[daemon]") }, "\(needsRestart)")
        #expect(needsRestart.contains { $0.contains("[history]") }, "\(needsRestart)")

        var unchanged: [String] = []
        _ = ConfigReloader.merge(running, into: running, needsRestart: &unchanged)
        #expect(unchanged.isEmpty)
    }

    @Test func aDamagedNewestCheckpointFallsBackToTheOlderOneAndTheLogRebuildsTheRest() async throws {
        let state = Self.freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let kpis = """
            [[kpi]]
            name = "attente.count"
            metric = "guichet_attente"
            aggregate = "count"
            window = "1h"
            """
        func push(_ harness: DaemonHarness, _ sequences: ClosedRange<Int>) throws {
            let socket = try harness.ingestSocket()
            defer { socket.close(linger: 0) }
            for seq in sequences {
                try socket.sendPush(producer: "p", sequence: String(seq), payloads: ["guichet_attente value=1\n"])
                #expect(try nextReply(socket, timeout: 5_000).command == "ACK")
            }
        }
        func count(_ harness: DaemonHarness) throws -> Double? {
            let kpis = try harness.control(#"{"op":"snapshot"}"#)["kpis"] as? [[String: Any]] ?? []
            return kpis.first { $0["kpi"] as? String == "attente.count" }?["value"] as? Double
        }
        // Two clean stops: two checkpoints, the log kept from the older one.
        let first = try DaemonHarness(toml: kpis, stateDirectory: state)
        try push(first, 1...10)
        await first.stop()
        let second = try DaemonHarness(toml: kpis, stateDirectory: state)
        try push(second, 11...15)
        await second.stop()
        let directory = state + "/checkpoints"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }
            .sorted()
        #expect(files.count == 2, "\(files)")
        let newest = try #require(files.last)
        // Damage the newest checkpoint's payload (its checksum no longer matches).
        let handle = try #require(FileHandle(forUpdatingAtPath: directory + "/" + newest))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 16))
        try handle.close()

        let third = try DaemonHarness(toml: kpis, stateDirectory: state)
        #expect(try count(third) == 15, "the older checkpoint, then the log since it")
        let stats = try third.control(#"{"op":"stats"}"#)
        #expect((stats["records_replayed"] as? Int ?? 0) >= 5)
        let wal = try #require(stats["wal"] as? [String: Any])
        let problems = wal["recovery_problems"] as? [String] ?? []
        #expect(problems.contains { $0.contains(newest) }, "the skipped checkpoint is reported: \(problems)")
        await third.stop()
    }
}
