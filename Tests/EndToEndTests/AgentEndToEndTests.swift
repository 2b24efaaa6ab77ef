import Foundation
import Testing
import VigieCore
import VigieTesting

/// `vigie agent` between scripts (and a collector) and `vigied`, all real binaries.
@Suite("vigie agent, end to end", .serialized)
struct AgentEndToEndTests {
    static let kpis = """
        [[kpi]]
        name = "script.count"
        metric = "script"
        aggregate = "count"
        window = "7d"

        [[kpi]]
        name = "collector.count"
        metric = "coll"
        aggregate = "count"
        window = "7d"
        """

    /// A running `vigie agent`, its endpoints read from its ready line.
    final class AgentProcess {
        let child: ChildProcess
        /// The first endpoint of each kind (`ingest`, `push`, `control`).
        var endpoints: [String: String] = [:]
        /// Every endpoint of each kind, in the order of the ready line.
        var allEndpoints: [String: [String]] = [:]

        /// Runs `vigie agent --config CONFIG ARGUMENTS…` (e.g. `--state-dir DIR`).
        init(
            config: String,
            log: String,
            arguments: [String] = [],
            environment: [String: String] = [:]
        ) throws {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw HarnessError("pipe failed") }
            defer { close(fds[0]) }
            child = try ChildProcess(
                path: BinaryRunner.locate("vigie").path,
                arguments: ["agent", "--config", config] + arguments,
                stdoutFD: fds[1],
                stderrPath: log,
                environment: environment
            )
            close(fds[1])
            var line: [UInt8] = []
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                var pfd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 100) > 0 else { continue }
                var byte: UInt8 = 0
                guard read(fds[0], &byte, 1) == 1 else { break }
                if byte == 0x0A { break }
                line.append(byte)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("vigie agent ready ") else {
                child.signal(SIGKILL)
                throw HarnessError(
                    "vigie agent did not start: \(text)\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")"
                )
            }
            for part in text.dropFirst("vigie agent ready ".count).split(separator: " ") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let list = kv[1].split(separator: ",").map(String.init)
                endpoints[String(kv[0])] = list.first ?? ""
                allEndpoints[String(kv[0])] = list
            }
        }

        func stop() {
            child.signal(SIGTERM)
            if child.wait(timeout: 15) == nil {
                child.signal(SIGKILL)
                _ = child.wait(timeout: 5)
            }
        }
    }

    private func count(_ daemon: DaemonProcess, _ kpi: String) throws -> Int {
        let status = try BinaryRunner.run("vigie", arguments: ["status", "--json"] + daemon.endpointArguments)
        let reply = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let value = (reply?["kpis"] as? [[String: Any]] ?? []).first { $0["kpi"] as? String == kpi }?["value"]
        return Int(value as? Double ?? 0)
    }

    @Test func daemonDownForAMinuteWhileScriptsAndCollectorsPushThroughTheAgent() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigie-agent-e2e-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var daemon: DaemonProcess? = try DaemonProcess(
            kpis: Self.kpis,
            directory: directory.appendingPathComponent("daemon")
        )
        let fixed = daemon?.endpoints ?? [:]
        let config = directory.appendingPathComponent("agent.toml").path
        try """
        [agent]
        name = "e2e"
        upstream = "\(fixed["ingest"] ?? "")"
        ack_timeout = "1s"
        backoff_initial = "100ms"
        backoff_max = "1s"
        tags = { site = "mairie", department = "etat-civil", host = "auto" }

        [spool]
        directory = "\(directory.appendingPathComponent("spool").path)"

        [listen]
        ingest = ["ipc://\(directory.appendingPathComponent("run/ingest.sock").path)"]
        push = []
        control = ["tcp://127.0.0.1:*"]

        [[collector]]
        name = "tick"
        type = "exec"
        command = ["/bin/sh", "-c", "echo coll value=1"]
        interval = "500ms"
        timeout = "5s"
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let agent = try AgentProcess(config: config, log: directory.appendingPathComponent("agent.log").path)
        defer { agent.stop() }
        let agentIngest = agent.endpoints["ingest"] ?? ""

        var pushed = 0
        func push(_ n: Int) throws {
            let lines = (0..<n).map { "script,run=\(pushed + $0) value=\($0)\n" }.joined()
            let result = try BinaryRunner.run(
                "vigie",
                arguments: ["push", "--agent", agentIngest],
                stdin: Data(lines.utf8)
            )
            #expect(result.status == 0, "vigie push --agent: \(result.stderr)")
            if result.status == 0 { pushed += n }
        }
        try push(10)
        #expect(eventually(seconds: 10) { (try? count(daemon!, "script.count")) == 10 })

        // The daemon goes away for a minute; scripts and the collector carry on.
        daemon?.stop()
        daemon = nil
        let downUntil = Date().addingTimeInterval(60)
        var pushesWhileDown = 0
        while Date() < downUntil {
            let started = Date()
            try push(5)
            pushesWhileDown += 1
            // ACKed by the agent's spool, not waiting for the daemon.
            #expect(Date().timeIntervalSince(started) < 5)
            usleep(2_000_000)
        }
        #expect(pushesWhileDown >= 20)
        let status = try BinaryRunner.run(
            "vigie",
            arguments: ["agent", "status", "--control", agent.endpoints["control"] ?? "", "--json"]
        )
        let reply = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect((reply?["spool_unsent_records"] as? Int ?? 0) > 0, "\(status.stdout)")
        #expect(reply?["connected"] as? Bool == false)

        // Back: everything arrives, exactly once.
        let back = try DaemonProcess(
            kpis: Self.kpis,
            directory: directory.appendingPathComponent("daemon"),
            endpoints: fixed
        )
        #expect(eventually(seconds: 30) { (try? count(back, "script.count")) == pushed })
        // The collector's runs while the daemon was down arrived too: at least one per second.
        let collected = try count(back, "collector.count")
        #expect(collected >= 100, "\(collected) collector samples")
        usleep(1_500_000)
        #expect(try count(back, "script.count") == pushed, "no sample counted twice")
        let after = try BinaryRunner.run(
            "vigie",
            arguments: ["agent", "status", "--control", agent.endpoints["control"] ?? ""]
        )
        #expect(after.status == 0)
        #expect(after.stdout.contains("tick (exec): ok"), "\(after.stdout)")
        back.stop()
    }
}
