import Foundation
import Testing
import VigieConfig
import VigieCore
import VigieTesting

/// The repository's `config/` directory, found from this file's path.
let repositoryConfigDirectory: URL = {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config")
}()

/// The errors agent configuration `text` produces (none if it parses).
func agentErrors(_ text: String, path: String = "agent.toml") -> [ConfigError] {
    do {
        _ = try ConfigLoader.parseAgent(text, path: path)
        return []
    } catch let failure as ConfigErrors {
        return failure.errors
    } catch {
        Issue.record("unexpected error type: \(error)")
        return []
    }
}

/// A minimal valid agent file to which one mistake is added.
let agentBody = """
    [agent]
    name = "etat-civil"
    """

@Suite("Agent configuration")
struct AgentConfigTests {
    @Test func minimalFileGetsEveryDefault() throws {
        let config = try ConfigLoader.parseAgent(agentBody)
        #expect(config == AgentConfiguration(name: "etat-civil"))
        #expect(config.producerID == "agent-etat-civil")
        #expect(config.upstream == "tcp://127.0.0.1:7600")
        #expect(config.window == 64)
        #expect(config.spool == AgentSpoolConfiguration())
        #expect(config.listen.ingest == ["ipc:///run/vigie-agent/ingest.sock", "tcp://127.0.0.1:7700"])
        #expect(config.collectors.isEmpty)
    }

    @Test func fullFileRoundTrips() throws {
        let text = """
            [agent]
            name = "urbanisme.nord"
            producer_id = "urba-nord-1"
            upstream = "tcp://[::1]:7600"
            window = 8
            ack_timeout = "2s"
            backoff_initial = "100ms"
            backoff_max = "1m"
            tags = { site = "nord", department = "urbanisme", zone = "a b" }

            [spool]
            directory = "/tmp/spool"
            max_bytes = 1048576
            segment_bytes = 65536
            fsync = "always"
            fsync_interval = "1ms"

            [listen]
            ingest = ["ipc:///tmp/a.sock"]
            push = "tcp://127.0.0.1:9701"
            control = []

            [[collector]]
            name = "compte"
            type = "exec"
            command = ["/bin/echo", "m v=1"]
            interval = "100ms"
            timeout = "1s"

            [[collector]]
            name = "portail"
            type = "http"
            url = "http://127.0.0.1:8080/sante"

            [[collector]]
            name = "journal"
            type = "file"
            path = "/var/log/app.lp"

            [[collector]]
            name = "guichets"
            type = "file"
            path = "/srv/file.csv"
            format = "csv"
            measurement = "guichet_attente"
            fields = ["attente"]
            """
        let config = try ConfigLoader.parseAgent(text, path: "a.toml")
        let expected = AgentConfiguration(
            name: "urbanisme.nord",
            producerID: "urba-nord-1",
            upstream: "tcp://[::1]:7600",
            window: 8,
            ackTimeout: 2_000_000_000,
            backoffInitial: 100_000_000,
            backoffMax: 60_000_000_000,
            tags: [
                .init(key: "site", value: "nord"), .init(key: "department", value: "urbanisme"),
                .init(key: "zone", value: "a b"),
            ],
            spool: AgentSpoolConfiguration(
                directory: "/tmp/spool",
                maxBytes: 1_048_576,
                segmentBytes: 65_536,
                fsync: .always,
                fsyncInterval: 1_000_000
            ),
            listen: AgentListenConfiguration(
                ingest: ["ipc:///tmp/a.sock"],
                push: ["tcp://127.0.0.1:9701"],
                control: []
            ),
            collectors: [
                CollectorConfiguration(
                    name: "compte",
                    kind: .exec(command: ["/bin/echo", "m v=1"], timeout: 1_000_000_000),
                    interval: 100_000_000
                ),
                CollectorConfiguration(
                    name: "portail",
                    kind: .http(url: "http://127.0.0.1:8080/sante", timeout: 10_000_000_000, expectStatus: nil)
                ),
                CollectorConfiguration(name: "journal", kind: .file(path: "/var/log/app.lp", format: .lineProtocol)),
                CollectorConfiguration(
                    name: "guichets",
                    kind: .file(
                        path: "/srv/file.csv",
                        format: .csv(measurement: "guichet_attente", tags: [], fields: ["attente"], timestamp: nil)
                    )
                ),
            ]
        )
        #expect(config == expected)
    }

    @Test func tagsKeepFileOrderAndHostAutoIsTheHostName() throws {
        let text = agentBody + "\ntags = { zeta = \"1\", host = \"auto\", alpha = \"2\" }"
        let config = try ConfigLoader.parseAgent(text)
        #expect(config.tags.map(\.key) == ["zeta", "host", "alpha"])
        let host = try #require(config.tags.first { $0.key == "host" }?.value)
        #expect(host != "auto" && !host.isEmpty && !host.contains("."))
        let dotted = try ConfigLoader.parseAgent(agentBody + "\n[agent.tags]\nb = \"x\"\na = \"y\"")
        #expect(dotted.tags.map(\.key) == ["b", "a"])
    }

    @Test func loadsFromDiskAndReportsMissingFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("agent.toml").path
        try Data(agentBody.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ConfigLoader.loadAgent(path: path).sourcePath == path)
        #expect(throws: ConfigErrors.self) { try ConfigLoader.loadAgent(path: path + ".absent") }
        #expect(ConfigLoader.isAgentConfiguration(agentBody))
        #expect(!ConfigLoader.isAgentConfiguration("[daemon]\ntimezone = \"UTC\""))
    }

    static let cases: [BadConfig] = [
        BadConfig(
            label: "missing [agent]",
            toml: "[spool]\ndirectory = \"/tmp\"",
            line: 0,
            key: "agent",
            message: "missing [agent] table",
            hint: "name = "
        ),
        BadConfig(
            label: "missing name",
            toml: "[agent]\nwindow = 4",
            line: 1,
            key: "agent",
            message: "missing name",
            hint: "etat-civil-mairie"
        ),
        BadConfig(
            label: "bad name",
            toml: "[agent]\nname = \"état civil\"",
            line: 2,
            key: "agent.name",
            message: "not a valid agent name",
            hint: "letters, digits"
        ),
        BadConfig(
            label: "unknown key in [agent]",
            toml: agentBody + "\nupstreem = \"tcp://h:7600\"",
            line: 3,
            key: "agent.upstreem",
            message: "unknown key in [agent]",
            hint: "did you mean \"upstream\"?"
        ),
        BadConfig(
            label: "upstream without transport",
            toml: agentBody + "\nupstream = \"vigie:7600\"",
            line: 3,
            key: "agent.upstream",
            message: "has no transport",
            hint: "did you mean \"tcp://vigie:7600\"?"
        ),
        BadConfig(
            label: "upstream with a wildcard port",
            toml: agentBody + "\nupstream = \"tcp://vigie:*\"",
            line: 3,
            key: "agent.upstream",
            message: "has no fixed port",
            hint: ":7600"
        ),
        BadConfig(
            label: "window out of range",
            toml: agentBody + "\nwindow = 2048",
            line: 3,
            key: "agent.window",
            message: "2048 is out of range",
            hint: "between 1 and 1024"
        ),
        BadConfig(
            label: "bad duration",
            toml: agentBody + "\nack_timeout = \"5 seconds\"",
            line: 3,
            key: "agent.ack_timeout",
            message: "is not a duration",
            hint: "did you mean \"5s\"?"
        ),
        BadConfig(
            label: "backoff_max below backoff_initial",
            toml: agentBody + "\nbackoff_initial = \"10s\"\nbackoff_max = \"1s\"",
            line: 4,
            key: "agent.backoff_max",
            message: "shorter than backoff_initial",
            hint: "at least the first one"
        ),
        BadConfig(
            label: "tags not a table",
            toml: agentBody + "\ntags = [\"site\"]",
            line: 3,
            key: "agent.tags",
            message: "expected a table",
            hint: "tags = { site = "
        ),
        BadConfig(
            label: "tag value not a string",
            toml: agentBody + "\ntags = { site = 3 }",
            line: 3,
            key: "agent.tags.site",
            message: "expected a string",
            hint: "site = \"3\""
        ),
        BadConfig(
            label: "tag value with a newline",
            toml: agentBody + "\ntags = { site = \"a\\nb\" }",
            line: 3,
            key: "agent.tags.site",
            message: "cannot hold newlines",
            hint: "one line"
        ),
        BadConfig(
            label: "spool too small",
            toml: agentBody + "\n[spool]\nmax_bytes = 1000",
            line: 4,
            key: "spool.max_bytes",
            message: "1000 is out of range",
            hint: "at least 1048576"
        ),
        BadConfig(
            label: "unknown fsync policy",
            toml: agentBody + "\n[spool]\nfsync = \"allways\"",
            line: 4,
            key: "spool.fsync",
            message: "unknown fsync policy",
            hint: "did you mean \"always\"?"
        ),
        BadConfig(
            label: "unknown key in [spool]",
            toml: agentBody + "\n[spool]\ndirectori = \"/tmp\"",
            line: 4,
            key: "spool.directori",
            message: "unknown key in [spool]",
            hint: "did you mean \"directory\"?"
        ),
        BadConfig(
            label: "bad listen endpoint",
            toml: agentBody + "\n[listen]\ningest = [\"ipc:///tmp/a.sock\", \"tcp://127.0.0.1\"]",
            line: 4,
            key: "listen.ingest[1]",
            message: "has no port",
            hint: "tcp://127.0.0.1:7600"
        ),
        BadConfig(
            label: "listen endpoint used twice",
            toml: agentBody + "\n[listen]\ningest = [\"tcp://127.0.0.1:7700\"]\npush = [\"tcp://127.0.0.1:7700\"]",
            line: 5,
            key: "listen.push[0]",
            message: "already used by listen.ingest",
            hint: "its own endpoint"
        ),
        BadConfig(
            label: "[collector] single brackets",
            toml: agentBody + "\n[collector]\nname = \"x\"",
            line: 3,
            key: "collector",
            message: "must be an array of tables",
            hint: "[[collector]]"
        ),
        BadConfig(
            label: "collector without type",
            toml: agentBody + "\n[[collector]]\nname = \"x\"",
            line: 3,
            key: "collector \"x\"",
            message: "missing type",
            hint: "type = \"exec\""
        ),
        BadConfig(
            label: "unknown collector type",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"htp\"",
            line: 5,
            key: "collector \"x\": type",
            message: "unknown collector type \"htp\"",
            hint: "did you mean \"http\"?"
        ),
        BadConfig(
            label: "duplicate collector name",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"file\"\npath = \"/a\"\n"
                + "[[collector]]\nname = \"x\"\ntype = \"file\"\npath = \"/b\"",
            line: 8,
            key: "collector \"x\": name",
            message: "duplicate collector name",
            hint: "already defined at line 4"
        ),
        BadConfig(
            label: "interval too short",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"file\"\npath = \"/a\"\ninterval = \"10ms\"",
            line: 7,
            key: "collector \"x\": interval",
            message: "is too short",
            hint: "at least 100ms"
        ),
        BadConfig(
            label: "exec: command a string",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"exec\"\ncommand = \"/bin/true\"",
            line: 6,
            key: "collector \"x\": command",
            message: "expected an array of strings",
            hint: "command = [\"/bin/true\"]"
        ),
        BadConfig(
            label: "exec: empty command",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"exec\"\ncommand = []",
            line: 6,
            key: "collector \"x\": command",
            message: "must name a program",
            hint: "argv"
        ),
        BadConfig(
            label: "exec: unknown key",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"exec\"\ncommand = [\"a\"]\ntimout = \"1s\"",
            line: 7,
            key: "collector \"x\": timout",
            message: "unknown key in an exec [[collector]]",
            hint: "did you mean \"timeout\"?"
        ),
        BadConfig(
            label: "exec: http key",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"exec\"\ncommand = [\"a\"]\nurl = \"http://a\"",
            line: 7,
            key: "collector \"x\": url",
            message: "unknown key in an exec [[collector]]",
            hint: "known keys"
        ),
        BadConfig(
            label: "http: not a URL",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"http\"\nurl = \"ftp://a/b\"",
            line: 6,
            key: "collector \"x\": url",
            message: "is not an http:// or https:// URL",
            hint: "https://"
        ),
        BadConfig(
            label: "http: missing url",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"http\"",
            line: 3,
            key: "collector \"x\"",
            message: "missing url",
            hint: "url = "
        ),
        BadConfig(
            label: "http: expect_status out of range",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"http\"\nurl = \"https://a\"\nexpect_status = 99",
            line: 7,
            key: "collector \"x\": expect_status",
            message: "99 is out of range",
            hint: "between 100 and 599"
        ),
        BadConfig(
            label: "file: unknown format",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"file\"\npath = \"/a\"\nformat = \"cvs\"",
            line: 7,
            key: "collector \"x\": format",
            message: "unknown file format \"cvs\"",
            hint: "did you mean \"csv\"?"
        ),
        BadConfig(
            label: "file: csv without fields",
            toml: agentBody
                + "\n[[collector]]\nname = \"x\"\ntype = \"file\"\npath = \"/a\"\nformat = \"csv\"\nmeasurement = \"m\"",
            line: 3,
            key: "collector \"x\": fields",
            message: "missing fields",
            hint: "fields = ["
        ),
        BadConfig(
            label: "file: csv with empty fields",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"file\"\npath = \"/a\"\nformat = \"csv\"\n"
                + "measurement = \"m\"\nfields = []",
            line: 9,
            key: "collector \"x\": fields",
            message: "no fields listed",
            hint: "needs a field"
        ),
        BadConfig(
            label: "file: csv keys on a lines file",
            toml: agentBody + "\n[[collector]]\nname = \"x\"\ntype = \"file\"\npath = \"/a\"\nfields = [\"v\"]",
            line: 7,
            key: "collector \"x\": fields",
            message: "only used with format = \"csv\"",
            hint: "format = \"csv\""
        ),
    ]

    @Test(arguments: cases)
    func reportsLineKeyAndHint(_ row: BadConfig) throws {
        let errors = agentErrors(row.toml)
        let error = try #require(errors.first, "expected an error")
        #expect(errors.count == 1, "\(errors)")
        #expect(error.file == "agent.toml")
        #expect(error.line == (row.line == 0 ? nil : row.line), "\(error)")
        #expect(error.key == row.key, "\(error)")
        #expect(error.message.contains(row.message), "\(error)")
        #expect(error.hint?.contains(row.hint) == true, "\(error)")
    }

    @Test func reportsEveryProblemAtOnceInFileOrder() {
        let text = """
            [agent]
            name = "a"
            window = 0
            colour = "blue"

            [spool]
            fsync = "never"

            [[collector]]
            name = "x"
            type = "http"
            url = "nope"
            """
        let errors = agentErrors(text)
        #expect(errors.map(\.line) == [3, 4, 7, 12])
        #expect(errors.map(\.key) == ["agent.window", "agent.colour", "spool.fsync", "collector \"x\": url"])
    }

    @Test func exampleFileLoads() throws {
        let path = repositoryConfigDirectory.appendingPathComponent("agent.toml").path
        let config = try ConfigLoader.loadAgent(path: path)
        #expect(config.name == "etat-civil-mairie")
        #expect(config.tags.map(\.key) == ["service", "site", "host"])
        #expect(config.tags.prefix(2).map(\.value) == ["etat-civil", "centre"])
        #expect(config.tags.last?.value != "auto")
        #expect(config.listen == AgentListenConfiguration())
        #expect(config.spool == AgentSpoolConfiguration())
        let kinds = config.collectors.map { collector -> String in
            switch collector.kind {
            case .exec: return "exec"
            case .http: return "http"
            case .file(_, .csv): return "csv"
            case .file: return "lines"
            }
        }
        #expect(kinds == ["exec", "http", "csv"])
        // The exec command is relative to the file: config/collectors/ in a clone.
        guard case .exec(let command, _) = config.collectors.first?.kind else {
            Issue.record("the first collector is not exec")
            return
        }
        let script = repositoryConfigDirectory.appendingPathComponent("collectors/rdv-etat-civil.sh").path
        #expect(command == [script])
        #expect(FileManager.default.isExecutableFile(atPath: script))
    }

    /// What the example agent sends matches the `where` and `group_by` of example KPIs:
    /// its CSV collector's measurement and field, and a bare `guichet_attente` pushed by
    /// a script, carry the agent's default tags into etat_civil.* series.
    @Test func exampleAgentFeedsTheExampleKPIs() throws {
        let agent = try ConfigLoader.loadAgent(
            path: repositoryConfigDirectory.appendingPathComponent("agent.toml").path
        )
        let city = try ConfigLoader.load(path: repositoryConfigDirectory.appendingPathComponent("vigie.toml").path)
        let tags = Dictionary(uniqueKeysWithValues: agent.tags.map { ($0.key, $0.value) })
        func feeds(_ measurement: String, field: String, extraTags: [String: String] = [:]) -> [String] {
            let carried = tags.merging(extraTags) { own, _ in own }
            return city.kpis.filter { kpi in
                kpi.selector.metric == measurement && kpi.selector.field == field
                    && kpi.selector.filters.allSatisfy { carried[$0.key] == $0.value }
                    && kpi.groupBy.allSatisfy { carried[$0] != nil }
            }.map(\.name)
        }
        #expect(feeds("guichet_attente", field: "value").contains("etat_civil.attente_p90"))
        let csv = try #require(
            agent.collectors.compactMap { collector -> (String, [String], [String], [String: String])? in
                guard case .file(_, .csv(let measurement, let tags, let fields, _, let names)) = collector.kind
                else { return nil }
                return (measurement, tags, fields, names)
            }.first
        )
        for column in csv.2 {
            let field = csv.3[column] ?? column
            let extra = Dictionary(uniqueKeysWithValues: csv.1.map { ($0, "x") })
            #expect(!feeds(csv.0, field: field, extraTags: extra).isEmpty, "\(csv.0) \(field) feeds no KPI")
        }
        // The exec collector's total line.
        #expect(feeds("etat_civil_rdv", field: "prevus", extraTags: ["type": "total"]) == ["etat_civil.rdv_jour"])
    }

    @Test func stateDirectoryMovesTheSpoolAndTheIPCSockets() throws {
        var config = try ConfigLoader.loadAgent(
            path: repositoryConfigDirectory.appendingPathComponent("agent.toml").path
        )
        config.relocate(stateDirectory: "/home/marie/./agent/")
        #expect(config.spool.directory == "/home/marie/agent")
        #expect(config.listen.ingest == ["ipc:///home/marie/agent/run/ingest.sock", "tcp://127.0.0.1:7700"])
        #expect(config.listen.push == ["tcp://127.0.0.1:7701"])
        #expect(config.listen.control == ["tcp://127.0.0.1:7703"])
        #expect(config.upstream == "tcp://127.0.0.1:7600")

        var relative = AgentConfiguration(listen: AgentListenConfiguration(control: ["ipc:///run/x/control.sock"]))
        relative.relocate(stateDirectory: "state/../agent", workingDirectory: "/srv/vigie")
        #expect(relative.spool.directory == "/srv/vigie/agent")
        #expect(relative.listen.control == ["ipc:///srv/vigie/agent/run/control.sock"])
        #expect(relative.listen.ingest.first == "ipc:///srv/vigie/agent/run/ingest.sock")
    }

    @Test func collectorPathsAreRelativeToTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentrel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("agent.toml").path
        let text =
            agentBody + """

                [[collector]]
                name = "script"
                type = "exec"
                command = ["./bin/../collectors/compte.sh", "arg/relative"]

                [[collector]]
                name = "bare"
                type = "exec"
                command = ["python3", "-c", "print(1)"]

                [[collector]]
                name = "journal"
                type = "file"
                path = "exports/file.lp"

                [[collector]]
                name = "absolu"
                type = "file"
                path = "/var/log/app.lp"
                """
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let kinds = try ConfigLoader.loadAgent(path: path).collectors.map(\.kind)
        let base = directory.path
        #expect(
            kinds == [
                .exec(command: ["\(base)/collectors/compte.sh", "arg/relative"], timeout: 10_000_000_000),
                .exec(command: ["python3", "-c", "print(1)"], timeout: 10_000_000_000),
                .file(path: "\(base)/exports/file.lp", format: .lineProtocol),
                .file(path: "/var/log/app.lp", format: .lineProtocol),
            ]
        )
        // parseAgent (no file) leaves them as written.
        let parsed = try ConfigLoader.parseAgent(text).collectors.map(\.kind)
        #expect(parsed.last == .file(path: "/var/log/app.lp", format: .lineProtocol))
        #expect(parsed[2] == .file(path: "exports/file.lp", format: .lineProtocol))
    }

    @Test func csvFieldsTableNamesFieldsAfterTheirColumns() throws {
        let text =
            agentBody + """

                [[collector]]
                name = "guichets"
                type = "file"
                path = "/srv/file.csv"
                format = "csv"
                measurement = "guichet_attente"
                fields = { value = "attente_min", appel = "appel", duree = "duree_s" }
                """
        let config = try ConfigLoader.parseAgent(text)
        #expect(
            config.collectors.first?.kind
                == .file(
                    path: "/srv/file.csv",
                    format: .csv(
                        measurement: "guichet_attente",
                        tags: [],
                        fields: ["attente_min", "appel", "duree_s"],
                        timestamp: nil,
                        fieldNames: ["attente_min": "value", "duree_s": "duree"]
                    )
                )
        )
        let empty = agentErrors(
            agentBody + "\n[[collector]]\nname = \"g\"\ntype = \"file\"\npath = \"/f\"\nformat = \"csv\"\n"
                + "measurement = \"m\"\nfields = {}\n"
        )
        #expect(empty.map(\.message) == ["no fields listed"])
        let twice = agentErrors(
            agentBody + "\n[[collector]]\nname = \"g\"\ntype = \"file\"\npath = \"/f\"\nformat = \"csv\"\n"
                + "measurement = \"m\"\nfields = { a = \"c\", b = \"c\" }\n"
        )
        #expect(twice.map(\.message) == ["column \"c\" is listed twice"])
    }

    @Test func exampleCollectorScriptPrintsLineProtocol() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rdv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let export =
            "heure;type;statut\n09:00;mariage;honore\n10:00;reconnaissance anticipée;prevu\n11:00;mariage;annule\n"
        try Data(export.utf8).write(to: directory.appendingPathComponent(formatter.string(from: Date()) + ".csv"))

        let process = Process()
        process.executableURL = repositoryConfigDirectory.appendingPathComponent("collectors/rdv-etat-civil.sh")
        var environment = ProcessInfo.processInfo.environment
        environment["RDV_EXPORT_DIR"] = directory.path
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        var lines: [ParsedLineSnapshot] = []
        var errors: [LineProtocolError] = []
        _ = output.withUnsafeBytes { bytes in
            LineProtocolParser().parse(
                bytes,
                onLine: { lines.append(ParsedLineSnapshot($0)) },
                onError: { errors.append($0) }
            )
        }
        #expect(errors.isEmpty)
        let byType = Dictionary(
            uniqueKeysWithValues: lines.map { ($0.tags.first?.value ?? "", $0.fields.map(\.value)) }
        )
        #expect(byType["mariage"] == [.int(1), .int(1)])
        #expect(byType["reconnaissance anticipée"] == [.int(1), .int(0)])
        #expect(byType["total"] == [.int(2), .int(1)])
    }
}
