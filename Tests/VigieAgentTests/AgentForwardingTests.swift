import Foundation
import Testing
import VigieAgent
import VigieConfig
import VigieCore
import VigieStore
import VigieTesting
import ZeroMQ

@Suite("Agent store-and-forward", .serialized)
struct AgentForwardingTests {
    @Test func scriptsPushThroughTheAgentAndTheDaemonCountsEverySampleOnce() async throws {
        let daemon = try DaemonHarness(toml: countKPIs)
        let directory = temporaryDirectory("forward")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = agentConfiguration(
            directory: directory,
            upstream: daemon.endpoints.ingest[0],
            tags: [.init(key: "site", value: "nord")]
        )
        let agent = try AgentRuntime(
            configuration: configuration,
            logger: testLogger(),
            healthInterval: 3_600_000_000_000,
            collectors: FixedCollectors()
        )
        let endpoints = try agent.start()
        let context = try ZMQContext(defaultLinger: 0)
        let push = try context.makeSocket(.push)
        try push.setLinger(1_000)
        try push.connect(endpoints.push[0])
        _ = try push.send("guichet_attente,site=sud value=1\nguichet_attente value=2\nnot valid\n")
        push.close()
        for batch in 0..<10 {
            let (reply, _) = try pushThroughAgent(
                context,
                endpoint: endpoints.ingest[0],
                lines: sampleLines(5, offset: batch * 5) + "bad line\n"
            )
            #expect(reply?.command == "ACK")
            #expect(reply?.body["accepted"] as? Int == 5)
            #expect(reply?.body["rejected"] as? Int == 1)
            let errors = reply?.body["errors"] as? [[String: Any]]
            #expect(errors?.first?["line"] as? Int == 6)
        }
        #expect(agent.submit(lines: sampleLines(3, offset: 100)))
        #expect(eventually { samplesAccepted(daemon) == 55 })
        #expect(eventually { kpiValue(daemon, "attente.count") == 55 })
        // Default tags fill in where a line lacks them, never override.
        #expect(kpiGroups(daemon, "attente.by_site") == ["nord": 54, "sud": 1])
        // The acknowledged position follows the daemon's ACKs, which wait for its fsync.
        #expect(
            eventually {
                (try? agentStatus(context, endpoint: endpoints.control[0]))?["acked_sequence"] as? Int == 12
            }
        )
        let status = try agentStatus(context, endpoint: endpoints.control[0])
        #expect(status["ok"] as? Bool == true)
        #expect(status["connected"] as? Bool == true)
        #expect(status["spool_unsent_records"] as? Int == 0)
        #expect(status["last_ack"] is String)
        #expect((status["collectors"] as? [String: Any])?["probe"] as? [String: String] == ["result": "ok"])
        usleep(300_000)
        #expect(samplesAccepted(daemon) == 55)
        agent.stop()
        #expect(agent.waitUntilStopped())
        context.shutdown()
        try? context.terminate()
        await daemon.stop()
    }

    @Test func scriptsGetQuickACKsWhileTheDaemonIsDownAndEverythingArrivesOnceItStarts() async throws {
        let context = try ZMQContext(defaultLinger: 0)
        let upstream = try freeEndpoint(context)
        let directory = temporaryDirectory("down")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let agent = try AgentRuntime(
            configuration: agentConfiguration(directory: directory, upstream: upstream),
            logger: testLogger(),
            healthInterval: 3_600_000_000_000
        )
        let endpoints = try agent.start()
        var latencies: [Double] = []
        for batch in 0..<20 {
            let (reply, ms) = try pushThroughAgent(
                context,
                endpoint: endpoints.ingest[0],
                lines: sampleLines(4, offset: batch * 4)
            )
            #expect(reply?.command == "ACK")
            latencies.append(ms)
        }
        #expect((latencies.max() ?? 1_000) < 500)
        let down = try agentStatus(context, endpoint: endpoints.control[0])
        #expect(down["connected"] as? Bool == false)
        #expect(down["spool_unsent_records"] as? Int == 20)
        let daemon = try DaemonHarness(toml: countKPIs) { $0.endpoints.ingest = [upstream] }
        #expect(eventually(seconds: 15) { samplesAccepted(daemon) == 80 })
        usleep(300_000)
        #expect(samplesAccepted(daemon) == 80)
        let up = try agentStatus(context, endpoint: endpoints.control[0])
        #expect(up["spool_unsent_records"] as? Int == 0)
        agent.stop()
        #expect(agent.waitUntilStopped())
        context.shutdown()
        try? context.terminate()
        await daemon.stop()
    }

    @Test func anAgentRestartedWithoutItsStateResendsAndTheDaemonDedupes() async throws {
        let daemon = try DaemonHarness(toml: countKPIs)
        let directory = temporaryDirectory("restart")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = agentConfiguration(directory: directory, upstream: daemon.endpoints.ingest[0])
        let context = try ZMQContext(defaultLinger: 0)
        do {
            let agent = try AgentRuntime(
                configuration: configuration,
                logger: testLogger(),
                healthInterval: 3_600_000_000_000
            )
            let endpoints = try agent.start()
            for batch in 0..<60 {
                _ = try pushThroughAgent(
                    context,
                    endpoint: endpoints.ingest[0],
                    lines: sampleLines(2, offset: batch * 2)
                )
            }
            // Stop while the forwarder may still have batches in flight.
            agent.stop(persistState: false)
            #expect(agent.waitUntilStopped())
        }
        // As after a SIGKILL before the first state save: nothing says what was acknowledged.
        try? FileManager.default.removeItem(atPath: directory + "/state.json")
        let agent = try AgentRuntime(
            configuration: configuration,
            logger: testLogger(),
            healthInterval: 3_600_000_000_000
        )
        let endpoints = try agent.start()
        for batch in 60..<65 {
            _ = try pushThroughAgent(context, endpoint: endpoints.ingest[0], lines: sampleLines(2, offset: batch * 2))
        }
        #expect(eventually { samplesAccepted(daemon) == 130 })
        #expect(
            eventually {
                (try? agentStatus(context, endpoint: endpoints.control[0]))?["acked_sequence"] as? Int == 65
            }
        )
        usleep(500_000)
        #expect(samplesAccepted(daemon) == 130)
        agent.stop()
        #expect(agent.waitUntilStopped())
        context.shutdown()
        try? context.terminate()
        await daemon.stop()
    }

    @Test func aWipedSpoolLosesNothing() async throws {
        // A reinstalled agent: its spool and state.json are gone, its numbers start at 1
        // again, and the daemon remembers the old life's highest. Once, the new batches
        // were answered as duplicates and dropped; now the new life has its own id.
        let daemon = try DaemonHarness(toml: countKPIs)
        let directory = temporaryDirectory("wiped")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = agentConfiguration(directory: directory, upstream: daemon.endpoints.ingest[0])
        let context = try ZMQContext(defaultLinger: 0)
        for (life, batches) in [(0, 20), (1, 5)] {
            if life == 1 { try FileManager.default.removeItem(atPath: directory) }
            let agent = try AgentRuntime(
                configuration: configuration,
                logger: testLogger(),
                healthInterval: 3_600_000_000_000
            )
            let endpoints = try agent.start()
            for batch in 0..<batches {
                _ = try pushThroughAgent(
                    context,
                    endpoint: endpoints.ingest[0],
                    lines: sampleLines(2, offset: batch * 2)
                )
            }
            let acked = eventually {
                (try? agentStatus(context, endpoint: endpoints.control[0]))?["acked_sequence"] as? Int == batches
            }
            #expect(acked)
            agent.stop()
            #expect(agent.waitUntilStopped())
        }
        #expect(eventually { samplesAccepted(daemon) == 50 })
        let stats = try daemon.control(#"{"op":"stats"}"#)
        #expect(stats["batches_duplicate"] as? Int == 0, "\(stats)")
        context.shutdown()
        try? context.terminate()
        await daemon.stop()
    }

    @Test func aFullSpoolDropsTheOldestAndTheDropCountReachesTheDaemon() async throws {
        let context = try ZMQContext(defaultLinger: 0)
        let upstream = try freeEndpoint(context)
        let directory = temporaryDirectory("full")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let agent = try AgentRuntime(
            configuration: agentConfiguration(
                directory: directory,
                upstream: upstream,
                maxBytes: 4_096,
                segmentBytes: 1_024
            ),
            logger: testLogger(),
            healthInterval: 200_000_000
        )
        let endpoints = try agent.start()
        for batch in 0..<60 {
            _ = try pushThroughAgent(context, endpoint: endpoints.ingest[0], lines: sampleLines(3, offset: batch * 3))
        }
        let status = try agentStatus(context, endpoint: endpoints.control[0])
        let dropped = status["dropped_samples"] as? Int ?? 0
        #expect(dropped > 0)
        let daemon = try DaemonHarness(toml: countKPIs) { $0.endpoints.ingest = [upstream] }
        #expect(eventually(seconds: 15) { (kpiValue(daemon, "agent.dropped") ?? 0) >= Double(dropped) })
        let received = kpiValue(daemon, "attente.count") ?? 0
        #expect(received > 0 && received < 180)
        agent.stop()
        #expect(agent.waitUntilStopped())
        context.shutdown()
        try? context.terminate()
        await daemon.stop()
    }

    @Test func aBatchTheDaemonRefusesGoesToTheDeadLetterFile() async throws {
        let daemon = try DaemonHarness(toml: countKPIs)
        let directory = temporaryDirectory("dead")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = agentConfiguration(directory: directory, upstream: daemon.endpoints.ingest[0])
        // A spool holding a good batch, a record the daemon refuses (no payload frame), a good batch.
        do {
            let spool = try AgentSpool(
                configuration: configuration.spool,
                producerID: configuration.producerID,
                logger: testLogger()
            )
            try spool.append(text: sampleLines(2), receivedAt: 1)
            try spool.close()
            let report = try WALRecovery.recover(directory: spool.segmentDirectory) { _ in }
            let writer = try WALWriter(directory: spool.segmentDirectory, startLSN: report.endLSN, syncPolicy: .off)
            try writer.append(
                kind: .ingest,
                receivedAt: 2,
                sequence: 2,
                producer: Array(configuration.producerID.utf8),
                frames: []
            )
            try writer.close()
            let again = try AgentSpool(
                configuration: configuration.spool,
                producerID: configuration.producerID,
                logger: testLogger()
            )
            #expect(try again.append(text: sampleLines(3), receivedAt: 3).sequence == 3)
            try again.close()
        }
        let agent = try AgentRuntime(
            configuration: configuration,
            logger: testLogger(),
            healthInterval: 3_600_000_000_000
        )
        let endpoints = try agent.start()
        let context = try ZMQContext(defaultLinger: 0)
        #expect(eventually { samplesAccepted(daemon) == 5 })
        #expect(
            eventually { ((try? agentStatus(context, endpoint: endpoints.control[0]))?["acked_sequence"] as? Int) == 3 }
        )
        let deadLetters = try String(contentsOfFile: directory + "/dead-letter.log", encoding: .utf8)
        let entries = deadLetters.split(separator: "\n")
        #expect(entries.count == 1)
        let entry = try JSONSerialization.jsonObject(with: Data(entries[0].utf8)) as? [String: Any]
        #expect(entry?["sequence"] as? Int == 2)
        #expect((entry?["reason"] as? String)?.contains("payload") == true)
        let status = try agentStatus(context, endpoint: endpoints.control[0])
        #expect(status["dead_letters"] as? Int == 1)
        agent.stop()
        #expect(agent.waitUntilStopped())
        context.shutdown()
        try? context.terminate()
        await daemon.stop()
    }

    @Test func aDaemonRestartedMidStreamGetsEverySampleExactlyOnce() async throws {
        let context = try ZMQContext(defaultLinger: 0)
        let upstream = try freeEndpoint(context)
        let state = temporaryDirectory("restart-daemon-state")
        let directory = temporaryDirectory("restart-daemon")
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: state)
        }
        let agent = try AgentRuntime(
            configuration: agentConfiguration(directory: directory, upstream: upstream),
            logger: testLogger(),
            healthInterval: 3_600_000_000_000
        )
        let endpoints = try agent.start()
        var pushed = 0
        func pushSome(_ count: Int) throws {
            for _ in 0..<count {
                let (reply, _) = try pushThroughAgent(
                    context,
                    endpoint: endpoints.ingest[0],
                    lines: sampleLines(4, offset: pushed)
                )
                #expect(reply?.command == "ACK")
                pushed += 4
            }
        }
        let first = try DaemonHarness(toml: countKPIs, stateDirectory: state) { $0.endpoints.ingest = [upstream] }
        try pushSome(20)
        await first.stop()
        try pushSome(20)
        let second = try DaemonHarness(toml: countKPIs, stateDirectory: state) { $0.endpoints.ingest = [upstream] }
        try pushSome(5)
        #expect(eventually(seconds: 15) { kpiValue(second, "attente.count") == Double(pushed) })
        usleep(500_000)
        #expect(kpiValue(second, "attente.count") == Double(pushed))
        agent.stop()
        #expect(agent.waitUntilStopped())
        context.shutdown()
        try? context.terminate()
        await second.stop()
    }

    @Test func ipcEndpointsGetAPrivateRuntimeDirectory() async throws {
        let directory = temporaryDirectory("ipc")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let context = try ZMQContext(defaultLinger: 0)
        var configuration = agentConfiguration(directory: directory + "/spool", upstream: try freeEndpoint(context))
        let socketPath = directory + "/run/vigie-agent/ingest.sock"
        configuration.listen.ingest = ["ipc://" + socketPath]
        let agent = try AgentRuntime(configuration: configuration, logger: testLogger())
        let endpoints = try agent.start()
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/run/vigie-agent")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o750)
        let (reply, _) = try pushThroughAgent(context, endpoint: endpoints.ingest[0], lines: "m value=1\n")
        #expect(reply?.command == "ACK")
        #expect(reply?.body["accepted"] as? Int == 1)
        agent.stop()
        #expect(agent.waitUntilStopped())
        context.shutdown()
        try? context.terminate()
    }
}

/// A collector status provider with one fixed entry.
struct FixedCollectors: CollectorStatusProvider {
    func collectorStatus() -> [String: JSONValue] { ["probe": .object(["result": .string("ok")])] }
}

@Suite("Agent crash", .serialized)
struct AgentCrashTests {
    /// Starts the real `vigie agent` on `spool` with a config file written next to it.
    func startHost(
        spool: String,
        upstream: String,
        ingest: String,
        control: String,
        producer: String
    ) throws
        -> ChildProcess
    {
        let directory = (spool as NSString).deletingLastPathComponent
        let config = directory + "/agent.toml"
        try """
        [agent]
        name = "crash"
        producer_id = "\(producer)"
        upstream = "\(upstream)"
        window = 16
        ack_timeout = "1s"
        backoff_initial = "50ms"
        backoff_max = "300ms"

        [spool]
        directory = "\(spool)"
        fsync = "batch"
        fsync_interval = "2ms"

        [listen]
        ingest = ["\(ingest)"]
        push = []
        control = ["\(control)"]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let binary = BinaryRunner.locate("vigie")
        return try ChildProcess(
            path: binary.path,
            arguments: ["agent", "--config", config],
            stderrPath: directory + "/agent.log"
        )
    }

    @Test func anAgentKilledMidForwardLosesNothingAndDoublesNothing() async throws {
        let daemon = try DaemonHarness(toml: countKPIs)
        let directory = temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let context = try ZMQContext(defaultLinger: 0)
        let ingest = try freeEndpoint(context)
        let control = try freeEndpoint(context)
        let spool = directory + "/spool"
        let producer = "agent-kill-\(UUID().uuidString.prefix(8))"
        var pushed = 0
        for run in 0..<2 {
            let host = try startHost(
                spool: spool,
                upstream: daemon.endpoints.ingest[0],
                ingest: ingest,
                control: control,
                producer: producer
            )
            for batch in 0..<40 {
                let (reply, _) = try pushThroughAgent(
                    context,
                    endpoint: ingest,
                    lines: sampleLines(3, offset: (run * 40 + batch) * 3)
                )
                // A batch is the script's responsibility until the agent ACKs it.
                if reply?.command == "ACK" { pushed += 3 }
            }
            // SIGKILL while batches are still being forwarded.
            host.signal(SIGKILL)
            _ = host.wait(timeout: 5)
        }
        #expect(pushed > 0)
        let host = try startHost(
            spool: spool,
            upstream: daemon.endpoints.ingest[0],
            ingest: ingest,
            control: control,
            producer: producer
        )
        #expect(eventually(seconds: 15) { samplesAccepted(daemon) == pushed })
        usleep(500_000)
        #expect(samplesAccepted(daemon) == pushed)
        host.signal(SIGTERM)
        _ = host.wait(timeout: 5)
        context.shutdown()
        try? context.terminate()
        await daemon.stop()
    }
}
