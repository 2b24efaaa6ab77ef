import Foundation
import Logging
import Testing
import VigieConfig
import VigieCore
import VigieTesting
import ZeroMQ

@testable import VigieDaemon

/// Notifiers through the real daemon: exec commands and a webhook receiver written
/// with Python's http.server get each transition, never slowing ingest.
@Suite("Notifiers through the daemon")
struct NotifierDaemonTests {
    typealias Fixture = AlertDaemonTests.Fixture

    static let rule = """
        [[alert]]
        name = "longue"
        kpi = "attente"
        above = 30
        severity = "critical"
        message = "Attente de {value} min au site {group.site}"

        """

    /// A fresh directory for one test's output files.
    static func makeDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "vigie-notify-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// An exec notifier that writes the JSON on stdin and the `VIGIE_*` environment to
    /// `DIR/PREFIX-RULE-STATE` (atomically, through a temporary file).
    static func recorder(_ name: String, directory: String, extra: String = "") -> String {
        let file = "\(directory)/\(name)-$VIGIE_RULE-$VIGIE_STATE"
        return """
            [[notifier]]
            name = "\(name)"
            type = "exec"
            command = ["/bin/sh", "-c", "cat > \(file).tmp; echo >> \(file).tmp; env | grep VIGIE_ | sort >> \(file).tmp; mv \(file).tmp \(file)"]
            \(extra)

            """
    }

    /// Waits up to `timeout` seconds for the file at `path`; its text, or nil.
    static func waitForFile(_ path: String, timeout: Double = 5) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: path) { return String(decoding: data, as: UTF8.self) }
            usleep(10_000)
        }
        return nil
    }

    /// The counters of notifier `name` in the `stats` control op.
    static func counters(_ f: Fixture, _ name: String) throws -> [String: Int] {
        let stats = try f.harness.control(#"{"op":"stats"}"#)
        return ((stats["notifiers"] as? [String: Any])?[name] as? [String: Int]) ?? [:]
    }

    /// Waits until `condition` holds on the counters of `name` (up to `timeout` s).
    static func waitForCounters(
        _ f: Fixture,
        _ name: String,
        timeout: Double = 5,
        _ condition: ([String: Int]) -> Bool
    ) throws -> [String: Int] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Int] = [:]
        while Date() < deadline {
            last = try counters(f, name)
            if condition(last) { return last }
            usleep(20_000)
        }
        return last
    }

    @Test func execReceivesJSONAndEnvironmentForFiringAndResolved() async throws {
        let dir = try Self.makeDirectory()
        let f = try Fixture(rules: Self.rule + Self.recorder("journal", directory: dir))
        try f.push(45)
        let firing = try #require(Self.waitForFile("\(dir)/journal-longue-firing"))
        let lines = firing.split(separator: "\n").map(String.init)
        let first = try #require(lines.first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(json["type"] as? String == "alert")
        #expect(json["rule"] as? String == "longue")
        #expect(json["state"] as? String == "firing")
        #expect(json["value"] as? Double == 45)
        #expect((json["group"] as? [String: String]) == ["site": "nord"])
        let env = Set(lines.dropFirst())
        for expected in [
            "VIGIE_RULE=longue", "VIGIE_KPI=attente", "VIGIE_STATE=firing", "VIGIE_SEVERITY=critical",
            "VIGIE_VALUE=45", "VIGIE_THRESHOLD=30", "VIGIE_MESSAGE=Attente de 45 min au site nord",
            "VIGIE_GROUP_SITE=nord", "VIGIE_STATE_DIR=\(f.harness.stateDirectory)",
        ] {
            #expect(env.contains(expected), "\(expected) missing from \(env.sorted())")
        }
        #expect(env.contains { $0.hasPrefix("VIGIE_SINCE=20") })
        try f.push(10)
        let resolved = try #require(Self.waitForFile("\(dir)/journal-longue-resolved"))
        #expect(resolved.contains("\"state\":\"resolved\""))
        #expect(resolved.contains("VIGIE_STATE=resolved"))
        #expect(resolved.contains("VIGIE_VALUE=10"))
        let counters = try Self.waitForCounters(f, "journal") { $0["sent"] == 2 }
        #expect(counters["sent"] == 2)
        #expect(counters["failed"] == 0)
        await f.stop()
    }

    /// A firing transition of config/vigie.toml's `attente_excessive` for site nord.
    static func exampleEvent() -> NotifierEvent {
        let message = AlertFeedMessage(
            rule: "attente_excessive",
            kpi: "etat_civil.attente_p90",
            group: [TagPair(key: "site", value: "nord")],
            state: .firing,
            severity: "warning",
            value: 34.5,
            threshold: 30,
            since: 1_780_272_000_000_000_000,
            message: "Attente p90 de 34.5 min au site nord",
            reason: "above",
            flapping: false,
            acknowledgment: nil,
            silence: nil,
            ts: 1_780_272_000_000_000_000
        )
        return NotifierEvent(message: message, startsAt: message.since)
    }

    @Test func execInheritsSystemdDirectoriesWhenSet() {
        let event = Self.exampleEvent()
        let systemd = ExecNotifier.environment(
            for: event,
            stateDirectory: "/var/lib/vigie",
            inherited: [
                "LOGS_DIRECTORY": "/var/log/vigie", "STATE_DIRECTORY": "/var/lib/vigie",
                "RUNTIME_DIRECTORY": "/run/vigie", "PATH": "/usr/bin:/bin", "HOME": "/root",
                "CREDENTIALS_DIRECTORY": "/run/credentials/vigied.service",
            ]
        )
        for expected in [
            "VIGIE_STATE_DIR=/var/lib/vigie", "LOGS_DIRECTORY=/var/log/vigie", "STATE_DIRECTORY=/var/lib/vigie",
            "RUNTIME_DIRECTORY=/run/vigie", "PATH=/usr/bin:/bin", "VIGIE_RULE=attente_excessive",
        ] {
            #expect(systemd.contains(expected), "\(expected) missing from \(systemd)")
        }
        // Nothing else of the daemon's environment leaks through.
        #expect(!systemd.contains { $0.hasPrefix("HOME=") || $0.hasPrefix("CREDENTIALS_DIRECTORY=") })
        let plain = ExecNotifier.environment(for: event, stateDirectory: "/tmp/s", inherited: ["LOGS_DIRECTORY": ""])
        #expect(plain.contains("VIGIE_STATE_DIR=/tmp/s"))
        #expect(!plain.contains { $0.hasPrefix("LOGS_DIRECTORY") || $0.hasPrefix("RUNTIME_DIRECTORY") })
    }

    @Test func relativeStateDirectoryIsMadeAbsolute() {
        let logger = Logger(label: "t")
        let dispatcher = NotifierDispatcher(configurations: [], stateDirectory: ".demo/state", logger: logger)
        #expect(dispatcher.stateDirectory == FileManager.default.currentDirectoryPath + "/.demo/state")
        let absolute = NotifierDispatcher(configurations: [], stateDirectory: "/var/lib/vigie", logger: logger)
        #expect(absolute.stateDirectory == "/var/lib/vigie")
    }

    /// config/vigie.toml's `journal_alertes` command, run with the environment the daemon
    /// gives it: its log lands in $LOGS_DIRECTORY under systemd, in the state directory
    /// otherwise (make demo), never in /tmp (private to the unit).
    @Test(arguments: [true, false])
    func exampleJournalNotifierWritesWhereItCanBeRead(underSystemd: Bool) throws {
        let config = try ConfigLoader.load(path: Self.exampleConfigPath)
        #expect(!config.notifiers.contains { if case .webhook = $0.kind { true } else { false } })
        let journal = try #require(config.notifiers.first { $0.name == "journal_alertes" })
        guard case .exec(let exec) = journal.kind else {
            Issue.record("journal_alertes is not an exec notifier")
            return
        }
        #expect(!exec.command.joined(separator: " ").contains("/tmp"))
        let state = try Self.makeDirectory()
        let logs = try Self.makeDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: state)
            try? FileManager.default.removeItem(atPath: logs)
        }
        var inherited = ["PATH": "/usr/bin:/bin"]
        if underSystemd { inherited["LOGS_DIRECTORY"] = logs }
        let environment = ExecNotifier.environment(
            for: Self.exampleEvent(),
            stateDirectory: state,
            inherited: inherited
        )
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(exec.command.first))
        process.arguments = Array(exec.command.dropFirst())
        process.environment = Dictionary(
            environment.compactMap { entry -> (String, String)? in
                guard let equals = entry.firstIndex(of: "=") else { return nil }
                return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
            },
            uniquingKeysWith: { _, last in last }
        )
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let written = (underSystemd ? logs : state) + "/alertes.log"
        let other = (underSystemd ? state : logs) + "/alertes.log"
        let text = try String(contentsOfFile: written, encoding: .utf8)
        let since = try #require(environment.first { $0.hasPrefix("VIGIE_SINCE=") }?.dropFirst(12))
        #expect(text == "\(since) firing attente_excessive: Attente p90 de 34.5 min au site nord\n")
        #expect(!FileManager.default.fileExists(atPath: other))
    }

    /// The repository's `config/vigie.toml`.
    static let exampleConfigPath: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/vigie.toml").path

    @Test func slowOrFailingExecDoesNotSlowIngestOrOtherNotifiers() async throws {
        let dir = try Self.makeDirectory()
        let f = try Fixture(
            rules: Self.rule
                + """
                [[notifier]]
                name = "lent"
                type = "exec"
                command = ["/bin/sh", "-c", "sleep 30"]
                max_concurrent = 1

                [[notifier]]
                name = "casse"
                type = "exec"
                command = ["/bin/sh", "-c", "exit 3"]

                """ + Self.recorder("rapide", directory: dir)
        )
        let start = ContinuousClock.now
        try f.push(45)
        #expect(Self.waitForFile("\(dir)/rapide-longue-firing", timeout: 2) != nil)
        #expect(ContinuousClock.now - start < .seconds(2))
        // Ingest keeps flowing while "lent" sleeps: 200 pushes, each waiting for its ACK.
        let pushes = ContinuousClock.now
        for i in 0..<200 { try f.push(Double(40 + i % 5)) }
        let elapsed = ContinuousClock.now - pushes
        #expect(elapsed < .seconds(2), "200 ACKed pushes took \(elapsed)")
        let casse = try Self.waitForCounters(f, "casse") { $0["failed"] == 1 }
        #expect(casse["failed"] == 1)
        #expect(casse["sent"] == 0)
        #expect(try Self.counters(f, "lent")["sent"] == 0)
        // stop() abandons the sleeping child (SIGKILL) and still finishes quickly.
        let stopTime = f.harness.stopSynchronously()
        #expect(stopTime < .seconds(2), "stop took \(stopTime)")
        await f.stop()
    }

    @Test func pendingThatClearsNotifiesNoOne() async throws {
        let dir = try Self.makeDirectory()
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "lente"
                kpi = "attente"
                above = 30
                for = "5m"

                """ + Self.recorder("journal", directory: dir)
        )
        try f.push(50)
        #expect(try f.nextAlert()?["state"] as? String == "pending")
        try f.push(10)
        #expect(try f.nextAlert()?["state"] as? String == "resolved")
        // It never fired: no notification for the pending nor for its end.
        #expect(Self.waitForFile("\(dir)/journal-lente-resolved", timeout: 1) == nil)
        #expect(try Self.counters(f, "journal")["sent"] ?? 0 == 0)
        // A real firing and resolution are both notified.
        try f.push(50)
        _ = try f.nextAlert()
        f.advance(.seconds(301))
        #expect(try f.nextAlert(timeout: 5_000)?["state"] as? String == "firing")
        try f.push(10)
        #expect(Self.waitForFile("\(dir)/journal-lente-resolved") != nil)
        await f.stop()
    }

    @Test func repeatIntervalRemindsWhileFiring() async throws {
        let dir = try Self.makeDirectory()
        let log = "\(dir)/reminders"
        let f = try Fixture(
            rules: Self.rule + """
                [[notifier]]
                name = "rappel"
                type = "exec"
                command = ["/bin/sh", "-c", "echo \\"$VIGIE_STATE\\" >> \(log)"]
                repeat_interval = "10m"

                """
        )
        func lines() -> [String] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        func waitForLines(_ n: Int) -> [String] {
            for _ in 0..<100 where lines().count < n { usleep(50_000) }
            return lines()
        }
        try f.push(50)
        #expect(waitForLines(1) == ["firing"])
        f.advance(.seconds(300))
        usleep(1_500_000)
        #expect(lines() == ["firing"], "no reminder before the interval")
        f.advance(.seconds(301))
        #expect(waitForLines(2) == ["firing", "firing"])
        f.advance(.seconds(601))
        #expect(waitForLines(3) == ["firing", "firing", "firing"])
        try f.push(10)
        #expect(waitForLines(4).last == "resolved")
        f.advance(.seconds(1_200))
        usleep(1_500_000)
        #expect(lines().count == 4, "no reminder once resolved")
        await f.stop()
    }

    @Test func silencedAlertsNotifyNoOne() async throws {
        let dir = try Self.makeDirectory()
        let f = try Fixture(rules: Self.rule + Self.recorder("journal", directory: dir))
        let silence = try f.harness.control(
            #"{"op":"silence","matchers":["site=sud"],"for":"2h","by":"paul","comment":"travaux"}"#
        )
        #expect(silence["ok"] as? Bool == true)
        try f.push(50, site: "sud")
        #expect(try f.nextAlert()?["silenced"] as? Bool == true)
        try f.push(45, site: "nord")
        #expect(Self.waitForFile("\(dir)/journal-longue-firing") != nil)
        let json = try #require(FileManager.default.contents(atPath: "\(dir)/journal-longue-firing"))
        #expect(String(decoding: json, as: UTF8.self).contains("VIGIE_GROUP_SITE=nord"))
        let stats = try f.harness.control(#"{"op":"stats"}"#)
        #expect(stats["notifications_held"] as? Int == 1)
        #expect(try Self.waitForCounters(f, "journal") { $0["sent"] == 1 }["sent"] == 1)
        await f.stop()
    }

    @Test func routesBySeverityAndKPIPrefix() async throws {
        let dir = try Self.makeDirectory()
        let f = try Fixture(
            rules: Self.rule
                + """
                [[alert]]
                name = "moyenne"
                kpi = "attente"
                above = 20
                severity = "warning"

                """
                + Self.recorder("critique", directory: dir, extra: "severities = [\"critical\"]")
                + Self.recorder("prefixe", directory: dir, extra: "kpi_prefix = \"att\"")
                + Self.recorder("collecte", directory: dir, extra: "kpi_prefix = \"collecte.\"")
                + Self.recorder("tout", directory: dir, extra: "states = [\"firing\", \"resolved\", \"pending\"]")
        )
        try f.push(45)
        for file in [
            "critique-longue-firing", "prefixe-longue-firing", "prefixe-moyenne-firing", "tout-longue-firing",
            "tout-moyenne-firing",
        ] {
            #expect(Self.waitForFile("\(dir)/\(file)") != nil, "\(file)")
        }
        #expect(try Self.waitForCounters(f, "tout") { $0["sent"] == 2 }["sent"] == 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(
            names == [
                "critique-longue-firing", "prefixe-longue-firing", "prefixe-moyenne-firing", "tout-longue-firing",
                "tout-moyenne-firing",
            ]
        )
        #expect(try Self.counters(f, "collecte")["sent"] == 0)
        await f.stop()
    }
}
