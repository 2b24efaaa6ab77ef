import Foundation
import Testing
import VigieTesting

/// `config/vigie.toml` and `config/agent.toml` together, as README shows them: vigied on
/// the city config, the example agent as the current user with `--state-dir`, a script
/// pushing through the agent, the agent's collectors, and the values landing under the
/// example KPIs. Only the fixed ports are rewritten (tests run in parallel) and the paths
/// of the collectors' input files.
@Suite("The example configurations, end to end")
struct ExampleConfigsEndToEndTests {
    static let root = VigieBinary.packageRoot

    /// `text` with `old` replaced by `new`; fails the test when `old` is not there, so a
    /// change to the example that this test relies on is noticed here.
    static func replacing(_ old: String, with new: String, in text: String) throws -> String {
        try #require(text.contains(old), "the example no longer contains \(old)")
        return text.replacingOccurrences(of: old, with: new)
    }

    /// config/vigie.toml with its endpoints on wildcard ports and its HTTP listener on port 0.
    static func daemonConfiguration() throws -> String {
        var text = try String(contentsOf: root.appendingPathComponent("config/vigie.toml"), encoding: .utf8)
        for port in 7600...7603 {
            text = try replacing("\"tcp://127.0.0.1:\(port)\"", with: "\"tcp://127.0.0.1:*\"", in: text)
        }
        return try replacing("listen = \"127.0.0.1:9464\"", with: "listen = \"127.0.0.1:0\"", in: text)
    }

    /// config/agent.toml pointed at `daemon`, its listeners on wildcard ports, its CSV
    /// collector on `csv`.
    static func agentConfiguration(daemon: DaemonProcess, csv: String) throws -> String {
        var text = try String(contentsOf: root.appendingPathComponent("config/agent.toml"), encoding: .utf8)
        let ingest = try #require(daemon.endpoints["ingest"])
        let http = try #require(daemon.endpoints["http"], "config/vigie.toml has an [http] listener")
        text = try replacing("upstream = \"tcp://127.0.0.1:7600\"", with: "upstream = \"\(ingest)\"", in: text)
        for port in [7700, 7701, 7703] {
            text = try replacing("\"tcp://127.0.0.1:\(port)\"", with: "\"tcp://127.0.0.1:*\"", in: text)
        }
        text = try replacing("http://127.0.0.1:9464/healthz", with: "http://\(http)/healthz", in: text)
        return try replacing("\"/var/lib/guichet/export/file-attente.csv\"", with: "\"\(csv)\"", in: text)
    }

    /// The entries of `vigie status --json` for `kpi`.
    static func series(_ daemon: DaemonProcess, _ kpi: String) throws -> [[String: Any]] {
        let status = try BinaryRunner.run("vigie", arguments: ["status", "--json"] + daemon.endpointArguments)
        let reply = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return (reply?["kpis"] as? [[String: Any]] ?? []).filter { $0["kpi"] as? String == kpi }
    }

    /// The value and sample count of `kpi` for `group`, or nil while it has none.
    static func value(_ daemon: DaemonProcess, _ kpi: String, _ group: [String: String]) -> (Double, Int)? {
        guard let entries = try? series(daemon, kpi),
            let entry = entries.first(where: { ($0["group"] as? [String: String]) == group }),
            let value = entry["value"] as? Double
        else { return nil }
        return (value, entry["samples"] as? Int ?? 0)
    }

    @Test func scriptsAndCollectorsOfTheExampleAgentFeedTheExampleKPIs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigie-examples-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try DaemonProcess(
            configuration: try Self.daemonConfiguration(),
            directory: directory.appendingPathComponent("daemon")
        )
        defer { daemon.stop() }

        // The agent's files laid out as `make install` puts them in /etc/vigie: the
        // configuration, and collectors/ beside it (its exec command is relative to it).
        let etc = directory.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Self.root.appendingPathComponent("config/collectors"),
            to: etc.appendingPathComponent("collectors")
        )
        // The queue system's CSV export (two callers, stamped just now) and today's
        // appointments export (two kept, one cancelled) for the exec collector's script.
        let csv = directory.appendingPathComponent("file-attente.csv").path
        let stamp = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-5))
        try "horodatage,guichet,motif,attente_min\n\(stamp),3,acte de naissance,20\n\(stamp),1,mariage,8\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let exports = directory.appendingPathComponent("rdv")
        try FileManager.default.createDirectory(at: exports, withIntermediateDirectories: true)
        let day = DateFormatter()
        day.dateFormat = "yyyy-MM-dd"
        day.locale = Locale(identifier: "en_US_POSIX")
        let export = exports.appendingPathComponent(day.string(from: Date()) + ".csv")
        try "heure;type;statut\n09:00;mariage;honore\n10:00;reconnaissance;prevu\n11:00;mariage;annule\n"
            .write(to: export, atomically: true, encoding: .utf8)

        let config = etc.appendingPathComponent("agent.toml").path
        try Self.agentConfiguration(daemon: daemon, csv: csv).write(toFile: config, atomically: true, encoding: .utf8)
        let check = try BinaryRunner.run("vigie", arguments: ["check-config", config])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        let state = directory.appendingPathComponent("agent-state").path
        let agent = try AgentEndToEndTests.AgentProcess(
            config: config,
            log: directory.appendingPathComponent("agent.log").path,
            arguments: ["--state-dir", state],
            environment: ["RDV_EXPORT_DIR": exports.path]
        )
        defer { agent.stop() }
        // Everything the agent writes is under --state-dir, none under /var/lib or /run.
        let ingest = agent.allEndpoints["ingest"] ?? []
        #expect(ingest.contains("ipc://\(state)/run/ingest.sock"), "\(ingest)")
        #expect(FileManager.default.fileExists(atPath: state + "/run/ingest.sock"))
        #expect(FileManager.default.fileExists(atPath: state + "/spool"))
        let tcp = try #require(ingest.first { $0.hasPrefix("tcp://") }, "\(ingest)")

        // A script pushes a bare measurement: the agent's default tags make it an
        // état civil counter of the centre site.
        let push = try BinaryRunner.run("vigie", arguments: ["push", "guichet_attente", "12.5", "--agent", tcp])
        #expect(push.status == 0, "vigie push --agent: \(push.stdout)\(push.stderr)")

        // The pushed 12.5 and the CSV's 20 and 8: a mean of 13.5 over three samples.
        let site = ["site": "centre"]
        let attente = eventually(seconds: 20) { Self.value(daemon, "etat_civil.attente_moyenne", site)?.1 == 3 }
        let moyenne = (try? Self.series(daemon, "etat_civil.attente_moyenne")) ?? []
        #expect(attente, "etat_civil.attente_moyenne: \(moyenne)")
        let mean = Self.value(daemon, "etat_civil.attente_moyenne", site)
        #expect(mean.map { abs($0.0 - 13.5) < 1e-9 } == true, "\(String(describing: mean))")
        // The exec collector's total for the day: two appointments not cancelled.
        let rdv = eventually(seconds: 20) { Self.value(daemon, "etat_civil.rdv_jour", site)?.0 == 2 }
        #expect(rdv, "etat_civil.rdv_jour: \((try? Self.series(daemon, "etat_civil.rdv_jour")) ?? [])")

        // The http collector probes the daemon's own /healthz: up.
        var collector: [String: Any] = [:]
        let probed = eventually(seconds: 20) {
            let run = try? BinaryRunner.run(
                "vigie",
                arguments: ["agent", "status", "--control", agent.endpoints["control"] ?? "", "--json"]
            )
            let reply = run.flatMap { try? JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) as? [String: Any] }
            collector = (reply?["collectors"] as? [String: Any])?["sante_vigied"] as? [String: Any] ?? [:]
            return (collector["runs"] as? Int ?? 0) >= 1
        }
        #expect(probed, "\(collector)")
        #expect(collector["consecutive_failures"] as? Int == 0, "\(collector)")
    }
}
