import Foundation
import Testing
import VigieCore
import VigieTesting

/// `vigie reload` and SIGHUP through the real binaries: a bad file is refused with every
/// error and changes nothing; a good one keeps unchanged KPIs' windows and alert states.
@Suite("Configuration reload (vigied + vigie)")
struct ReloadTests {
    static let kpis = """
        [[kpi]]
        name = "attente.count"
        metric = "guichet_attente"
        aggregate = "count"
        window = "1h"

        [[kpi]]
        name = "attente.max"
        metric = "guichet_attente"
        aggregate = "max"
        window = "1h"

        [[alert]]
        name = "attente_max"
        kpi = "attente.max"
        above = 30
        """

    static func snapshot(_ daemon: DaemonProcess) throws -> [String: Double] {
        let run = try BinaryRunner.run("vigie", arguments: ["status", "--json"] + daemon.endpointArguments)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        var values: [String: Double] = [:]
        for kpi in object?["kpis"] as? [[String: Any]] ?? [] {
            if let name = kpi["kpi"] as? String, let value = kpi["value"] as? Double { values[name] = value }
        }
        return values
    }

    static func rewrite(_ daemon: DaemonProcess, _ change: (String) -> String) throws {
        let text = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try change(text).write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
    }

    @Test func aBadFileIsRefusedAndAGoodOneKeepsUnchangedState() throws {
        let daemon = try DaemonProcess(kpis: Self.kpis)
        let push = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "--file", "-"] + daemon.endpointArguments,
            stdin: Data("guichet_attente value=12\nguichet_attente value=45\nguichet_attente value=7\n".utf8)
        )
        #expect(push.status == 0, "\(push.stderr)")
        #expect(try Self.snapshot(daemon)["attente.count"] == 3)

        // Two errors: both reported with file:line, nothing changes.
        try Self.rewrite(daemon) {
            $0.replacingOccurrences(of: #"window = "1h""#, with: #"window = "1 hour""#)
        }
        let refused = try BinaryRunner.run("vigie", arguments: ["reload"] + daemon.endpointArguments)
        #expect(refused.status == 65, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("configuration refused"))
        let errorLines = refused.stderr.split(separator: "\n").filter { $0.contains("\(daemon.configPath):") }
        #expect(errorLines.count == 2, "\(refused.stderr)")
        #expect(try Self.snapshot(daemon)["attente.count"] == 3)
        #expect(daemon.log.contains("reload refused"))

        // Good: attente.count unchanged (keeps 3), attente.max changed (starts empty), a KPI added.
        try Self.rewrite(daemon) {
            $0.replacingOccurrences(of: #"window = "1 hour""#, with: #"window = "1h""#)
                .replacingOccurrences(
                    of: "aggregate = \"max\"\nwindow = \"1h\"",
                    with: "aggregate = \"max\"\nwindow = \"30m\""
                ) + """

                    [[kpi]]
                    name = "attente.mean"
                    metric = "guichet_attente"
                    aggregate = "mean"
                    window = "1h"
                    """
        }
        let reloaded = try BinaryRunner.run("vigie", arguments: ["reload", "--json"] + daemon.endpointArguments)
        #expect(reloaded.status == 0, "\(reloaded.stderr)")
        let reply = try JSONSerialization.jsonObject(with: Data(reloaded.stdout.utf8)) as? [String: Any]
        let kpis = reply?["kpis"] as? [String: [String]]
        #expect(kpis?["kept"] == ["attente.count"])
        #expect(kpis?["restarted"] == ["attente.max"])
        #expect(kpis?["added"] == ["attente.mean"])
        #expect((reply?["needs_restart"] as? [String])?.isEmpty == true)
        let after = try Self.snapshot(daemon)
        #expect(after["attente.count"] == 3)
        #expect(after["attente.max"] == nil)

        // New samples reach the new KPI. It shares its window (metric, 1h, no group) with
        // attente.count, whose samples were carried over: its mean covers all four.
        _ = try BinaryRunner.run("vigie", arguments: ["push", "guichet_attente", "20"] + daemon.endpointArguments)
        let last = try Self.snapshot(daemon)
        #expect(last["attente.count"] == 4)
        #expect(last["attente.mean"] == 21)  // (12 + 45 + 7 + 20) / 4
        let stats = try BinaryRunner.run(
            "vigie",
            arguments: ["status", "--stats", "--json"] + daemon.endpointArguments
        )
        let counters = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(counters?["reloads"] as? Int == 1)
        #expect(counters?["reloads_refused"] as? Int == 1)
        #expect(counters?["config_file"] as? String == daemon.configPath)
        #expect(counters?["version"] as? String == VigieVersion.string)
        #expect(daemon.stop().status == 0)
    }

    @Test func sighupReloadsAndAFiringAlertOnAnUnchangedKPIStaysFiring() async throws {
        let daemon = try DaemonProcess(kpis: Self.kpis)
        _ = try BinaryRunner.run("vigie", arguments: ["push", "guichet_attente", "45"] + daemon.endpointArguments)
        func firing() throws -> Bool {
            let run = try BinaryRunner.run("vigie", arguments: ["alerts", "--json"] + daemon.endpointArguments)
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            let alerts = object?["alerts"] as? [[String: Any]] ?? []
            return alerts.contains { $0["rule"] as? String == "attente_max" && $0["state"] as? String == "firing" }
        }
        #expect(try firing())
        try Self.rewrite(daemon) {
            $0 + """

                [[kpi]]
                name = "attente.min"
                metric = "guichet_attente"
                aggregate = "min"
                window = "1h"
                """
        }
        daemon.send(SIGHUP)
        var reloaded = false
        for _ in 0..<50 where !reloaded {
            try await Task.sleep(for: .milliseconds(100))
            reloaded = try Self.snapshot(daemon)["attente.min"] == 45
        }
        #expect(reloaded, "\(daemon.log)")
        #expect(try firing())
        #expect(daemon.log.contains("configuration reloaded"))
        #expect(daemon.stop().status == 0)
    }

    @Test func endpointsAddedAreBoundAndRemovedOnesClosed() throws {
        let daemon = try DaemonProcess(kpis: Self.kpis)
        let extra = "ipc://" + daemon.directory.appendingPathComponent("ingest2.sock").path
        func pushVia(_ endpoint: String) throws -> Int32 {
            try BinaryRunner.run(
                "vigie",
                arguments: ["push", "--ingest", endpoint, "--timeout", "1s", "guichet_attente", "5"]
            ).status
        }
        #expect(try pushVia(extra) == 75)

        try Self.rewrite(daemon) {
            $0.replacingOccurrences(
                of: #"ingest = ["tcp://127.0.0.1:*"]"#,
                with: #"ingest = ["tcp://127.0.0.1:*", "\#(extra)"]"#
            )
        }
        let added = try BinaryRunner.run("vigie", arguments: ["reload", "--json"] + daemon.endpointArguments)
        #expect(added.status == 0, "\(added.stderr)")
        let reply = try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any]
        #expect(reply?["endpoints"] as? [String] == ["bound ingest \(extra)"])
        #expect(try pushVia(extra) == 0)
        #expect(try pushVia(daemon.endpoints["ingest"] ?? "") == 0)  // the first endpoint kept its socket

        try Self.rewrite(daemon) {
            $0.replacingOccurrences(of: #", "\#(extra)""#, with: "")
        }
        let removed = try BinaryRunner.run("vigie", arguments: ["reload"] + daemon.endpointArguments)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stdout.contains("closed ingest \(extra)"))
        #expect(try pushVia(extra) == 75)
        #expect(try pushVia(daemon.endpoints["ingest"] ?? "") == 0)
        #expect(try Self.snapshot(daemon)["attente.count"] == 3)

        // Add it back, then remove the first one: each reload closes the right socket.
        let first = try #require(daemon.endpoints["ingest"])
        try Self.rewrite(daemon) {
            $0.replacingOccurrences(of: #"ingest = ["tcp://127.0.0.1:*"]"#, with: #"ingest = ["\#(extra)"]"#)
        }
        let swapped = try BinaryRunner.run("vigie", arguments: ["reload"] + daemon.endpointArguments)
        #expect(swapped.status == 0, "\(swapped.stderr)")
        #expect(try pushVia(extra) == 0)
        #expect(try pushVia(first) == 75)
        // Two more: a TCP endpoint after it, then it removed (its socket, not another one).
        for list in [#"["\#(extra)", "tcp://127.0.0.1:*"]"#, #"["tcp://127.0.0.1:*"]"#] {
            try Self.rewrite(daemon) {
                $0.replacing(#/ingest = \[[^\]]*\]/#, with: "ingest = \(list)")
            }
            let run = try BinaryRunner.run("vigie", arguments: ["reload"] + daemon.endpointArguments)
            #expect(run.status == 0, "\(run.stderr)")
        }
        #expect(try pushVia(extra) == 75)
        #expect(daemon.stop().status == 0)
    }
}
