import Foundation
import TOMLKit
import VigieCore

extension ConfigLoader {
    /// The default location of an agent's configuration file.
    public static let defaultAgentPath = "/etc/vigie/agent.toml"

    static let agentTables = ["agent", "spool", "listen", "collector"]
    static let agentKeys = [
        "name", "producer_id", "upstream", "window", "ack_timeout", "backoff_initial", "backoff_max", "tags",
        "server_key", "key_file",
    ]
    static let spoolKeys = ["directory", "max_bytes", "segment_bytes", "fsync", "fsync_interval"]
    static let listenKeys = ["ingest", "push", "control"]
    static let collectorTypes = ["exec", "http", "file"]
    static let collectorCommonKeys = ["name", "type", "interval"]
    static let execCollectorKeys = ["command", "timeout"]
    static let httpCollectorKeys = ["url", "timeout", "expect_status"]
    static let fileCollectorKeys = ["path", "format", "measurement", "tags", "fields", "timestamp"]
    static let fileFormats = ["lines", "csv"]

    /// Loads and validates the agent configuration at `path` (`vigie agent --config`).
    ///
    /// `host = "auto"` in `[agent] tags` becomes this machine's host name. Collectors'
    /// relative paths are taken from the file's directory (see
    /// `resolveCollectorPaths(relativeTo:)`), so `config/agent.toml` runs its
    /// `collectors/…` script from a clone and `/etc/vigie/agent.toml` the installed one.
    ///
    /// - Throws: `ConfigErrors` listing every problem at once, also when the file is
    ///   missing, unreadable or not UTF-8.
    public static func loadAgent(path: String) throws -> AgentConfiguration {
        let text = try readText(path: path, missingHint: "check the path; the default is \(defaultAgentPath)")
        var configuration = try parseAgent(text, path: path)
        configuration.sourcePath = path
        let file = AgentConfiguration.absolute(path, from: nil)
        configuration.resolveCollectorPaths(relativeTo: (file as NSString).deletingLastPathComponent)
        return configuration
    }

    /// Parses and validates agent configuration `text`; `path` only names it in errors.
    ///
    /// - Throws: `ConfigErrors`.
    public static func parseAgent(_ text: String, path: String = "<string>") throws -> AgentConfiguration {
        try validate(text, path: path, readAgentFile)
    }

    /// Whether `text` looks like an agent configuration (it has an `[agent]` table).
    ///
    /// Used by `vigie check-config` to pick the loader; does not validate anything.
    public static func isAgentConfiguration(_ text: String) -> Bool {
        guard headerWithoutKey(text) == nil, let root = try? TOMLTable(string: text) else {
            return text.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "[agent]" }
        }
        return root["agent"] != nil
    }

    static func readAgentFile(_ root: TableReader) -> AgentConfiguration {
        root.rejectUnknownKeys(agentTables, context: "the top level of an agent file")
        var configuration = AgentConfiguration()
        if let table = root.table("agent", example: "[agent] on its own line") {
            readAgent(table, into: &configuration)
        } else if !root.contains("agent") {
            root.reportMissing(
                "agent",
                known: agentTables,
                "missing [agent] table",
                hint: "add [agent] with name = \"etat-civil-mairie\" (names this agent)"
            )
        }
        if let table = root.table("spool", example: "[spool] on its own line") {
            configuration.spool = readSpool(table)
        }
        if let table = root.table("listen", example: "[listen] on its own line") {
            configuration.listen = readListen(table)
        }
        configuration.collectors = readCollectors(root)
        return configuration
    }

    /// An agent name: `[A-Za-z0-9_.-]+`.
    static func isValidAgentName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                    return true
                default: return false
                }
            }
    }

    static func readAgent(_ table: TableReader, into configuration: inout AgentConfiguration) {
        table.rejectUnknownKeys(agentKeys, context: "[agent]")
        if !table.contains("name") {
            table.reportMissing(
                "name",
                known: agentKeys,
                "missing name",
                hint: "add name = \"etat-civil-mairie\" (letters, digits, _ . -; names this agent)",
                onTable: true
            )
        } else if let name = table.nonEmptyString("name", example: "name = \"etat-civil-mairie\"") {
            if isValidAgentName(name) {
                configuration.name = name
                configuration.producerID = "agent-\(name)"
            } else {
                table.report(
                    "name",
                    "\"\(name)\" is not a valid agent name",
                    hint: "use letters, digits and _ . - only, e.g. \"etat-civil-mairie\""
                )
            }
        }
        if let id = table.nonEmptyString("producer_id", example: "producer_id = \"agent-etat-civil\"") {
            if id.utf8.count > 128 {
                table.report("producer_id", "is \(id.utf8.count) bytes long", hint: "producer ids are 1–128 bytes")
            } else {
                configuration.producerID = id
            }
        }
        if let upstream = table.nonEmptyString("upstream", example: "upstream = \"tcp://vigie.mairie.nc:7600\"") {
            if let (message, hint) = upstreamProblem(upstream) {
                table.report("upstream", message, hint: hint)
            } else {
                configuration.upstream = upstream
            }
        }
        readUpstreamCurve(table, into: &configuration)
        if let window = table.integer("window", in: 1...1_024, unit: "batches in flight") {
            configuration.window = window
        }
        if let value = table.duration("ack_timeout", minimum: 1_000_000) { configuration.ackTimeout = value }
        if let value = table.duration("backoff_initial", minimum: 1_000_000) { configuration.backoffInitial = value }
        if let value = table.duration("backoff_max", minimum: 1_000_000) { configuration.backoffMax = value }
        if configuration.backoffMax < configuration.backoffInitial {
            table.report(
                "backoff_max",
                "\(DurationFormat.format(nanoseconds: configuration.backoffMax)) is shorter than backoff_initial "
                    + "(\(DurationFormat.format(nanoseconds: configuration.backoffInitial)))",
                hint: "the longest reconnect delay must be at least the first one"
            )
        }
        if let tags = table.table("tags", example: "tags = { site = \"mairie\", department = \"etat-civil\" }") {
            configuration.tags = readTagDefaults(tags)
        }
    }

    /// The problem with the daemon endpoint an agent connects to, or `nil`.
    static func upstreamProblem(_ endpoint: String) -> (String, String)? {
        if let problem = endpointProblem(endpoint) { return problem }
        if endpoint.hasPrefix("tcp://"), endpoint.hasSuffix(":*") {
            return (
                "\"\(endpoint)\" has no fixed port", "the agent connects: name the daemon's ingest port, e.g. :7600"
            )
        }
        if endpoint.hasPrefix("tcp://*:") {
            return (
                "\"\(endpoint)\" names no host", "the agent connects: name the daemon's host, e.g. tcp://vigie:7600"
            )
        }
        if endpoint.hasPrefix("inproc://") {
            return ("\"\(endpoint)\" is in-process only", "use tcp://host:7600 or ipc:///run/vigie/ingest.sock")
        }
        return nil
    }

    /// `tags = { site = "mairie", host = "auto" }` in file order (sorted when the
    /// source map has no positions); `host = "auto"` is this machine's host name.
    static func readTagDefaults(_ table: TableReader) -> [AgentConfiguration.TagDefault] {
        var tags: [AgentConfiguration.TagDefault] = []
        for key in orderedKeys(table) {
            guard let value = table.nonEmptyString(key) else { continue }
            if (key + value).unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                table.report(key, "tags cannot hold newlines or control characters", hint: "write it on one line")
                continue
            }
            if key.isEmpty || key.hasPrefix("_") {
                table.report(
                    key,
                    "\"\(key)\" is not a usable tag key",
                    hint: "tag keys must not be empty or start with _"
                )
                continue
            }
            if key == "host" && value == "auto" {
                tags.append(.init(key: key, value: localHostName()))
            } else {
                tags.append(.init(key: key, value: value))
            }
        }
        return tags
    }

    /// The keys of `table` in file order (sorted when the source map has no positions).
    static func orderedKeys(_ table: TableReader) -> [String] {
        let sourceMap = table.diagnostics.sourceMap
        return table.keys.sorted { lhs, rhs in
            let left = sourceMap.exactLocation(of: table.scope.path.appending(lhs))
            let right = sourceMap.exactLocation(of: table.scope.path.appending(rhs))
            switch (left, right) {
            case let (left?, right?):
                return (left.line, left.column) < (right.line, right.column)
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return lhs < rhs
            }
        }
    }

    /// This machine's host name (short form, as `hostname` prints it).
    static func localHostName() -> String {
        let name = ProcessInfo.processInfo.hostName
        let short = name.split(separator: ".").first.map(String.init) ?? name
        return short.isEmpty ? "localhost" : short
    }

    static func readSpool(_ table: TableReader) -> AgentSpoolConfiguration {
        table.rejectUnknownKeys(spoolKeys, context: "[spool]")
        var spool = AgentSpoolConfiguration()
        if let dir = table.nonEmptyString("directory", example: "directory = \"/var/lib/vigie-agent\"") {
            spool.directory = dir
        }
        if let bytes = table.integer("max_bytes", in: (1 << 20)...Int.max, unit: "bytes, 1 MiB at least") {
            spool.maxBytes = Int64(bytes)
        }
        if let bytes = table.integer("segment_bytes", in: (64 << 10)...(1 << 30), unit: "bytes") {
            spool.segmentBytes = bytes
        }
        if Int64(spool.segmentBytes) > spool.maxBytes {
            table.report(
                "segment_bytes",
                "\(spool.segmentBytes) is larger than max_bytes (\(spool.maxBytes))",
                hint: "a segment must fit in the spool: lower segment_bytes or raise max_bytes"
            )
        }
        if let mode = table.nonEmptyString("fsync", example: "fsync = \"batch\"") {
            if let parsed = DaemonConfiguration.FsyncMode(rawValue: mode) {
                spool.fsync = parsed
            } else {
                let names = DaemonConfiguration.FsyncMode.allCases.map(\.rawValue)
                let match = Suggestions.closest(to: mode, among: names)
                let hint = match.map { "did you mean \"\($0)\"?" } ?? "use \"batch\", \"always\" or \"off\""
                table.report("fsync", "unknown fsync policy \"\(mode)\"", hint: hint)
            }
        }
        if let interval = table.duration("fsync_interval", minimum: 100_000) { spool.fsyncInterval = interval }
        return spool
    }

    static func readListen(_ table: TableReader) -> AgentListenConfiguration {
        table.rejectUnknownKeys(listenKeys, context: "[listen]")
        var listen = AgentListenConfiguration()
        let lists = readEndpointLists(table, keys: listenKeys, section: "listen", example: "tcp://127.0.0.1:7700")
        if let list = lists["ingest"] { listen.ingest = list }
        if let list = lists["push"] { listen.push = list }
        if let list = lists["control"] { listen.control = list }
        return listen
    }

    static func readCollectors(_ root: TableReader) -> [CollectorConfiguration] {
        readArrayOfTables(
            root,
            "collector",
            above: "collector",
            example: "[[collector]] above each",
            element: "collector as a [[collector]] table",
            readCollector
        )
    }

    /// One `[[collector]]` table, or `nil` when it has problems (all of them reported).
    static func readCollector(_ unnamed: TableReader, firstLines: inout [String: Int?]) -> CollectorConfiguration? {
        let diagnostics = unnamed.diagnostics
        let errorsBefore = diagnostics.errors.count
        let allKeys = collectorCommonKeys + ["command", "timeout", "url", "expect_status"] + fileCollectorKeys
        let (name, table) = readTableName(
            unnamed,
            label: "collector",
            noun: "collector",
            known: allKeys,
            missingHint: "add name = \"rdv_etat_civil\" ([A-Za-z0-9_.:-]; the collector tag of its health samples)",
            example: "name = \"rdv_etat_civil\"",
            validExample: "rdv_etat_civil",
            firstLines: &firstLines
        )

        let type = table.type(
            among: collectorTypes,
            of: "collector",
            known: allKeys,
            missingHint: "add type = \"exec\" (runs a command), \"http\" (probes a URL) or \"file\" (tails a file)",
            onTable: true
        )
        switch type {
        case "exec": table.rejectUnknownKeys(collectorCommonKeys + execCollectorKeys, context: "an exec [[collector]]")
        case "http": table.rejectUnknownKeys(collectorCommonKeys + httpCollectorKeys, context: "an http [[collector]]")
        case "file": table.rejectUnknownKeys(collectorCommonKeys + fileCollectorKeys, context: "a file [[collector]]")
        default: table.rejectUnknownKeys(allKeys, context: "a [[collector]] table")
        }
        let interval = table.duration("interval", minimum: 100_000_000)

        var kind: CollectorConfiguration.Kind?
        switch type {
        case "exec": kind = readExecCollector(table)
        case "http": kind = readHTTPCollector(table)
        case "file": kind = readFileCollector(table)
        default: break
        }
        guard diagnostics.errors.count == errorsBefore, let kind else { return nil }
        return CollectorConfiguration(name: name, kind: kind, interval: interval ?? 60_000_000_000)
    }

    static func readExecCollector(_ table: TableReader) -> CollectorConfiguration.Kind? {
        var command: [String]?
        if !table.contains("command") {
            table.reportMissing(
                "command",
                known: collectorCommonKeys + execCollectorKeys,
                "missing command",
                hint: "add command = [\"/etc/vigie/collectors/rdv-etat-civil.sh\"] (argv, no shell)",
                onTable: true
            )
        } else if let list = table.stringArray("command", example: "command = [\"/usr/local/bin/compte\", \"--jour\"]")
        {
            if list.isEmpty || list[0].isEmpty {
                table.report(
                    "command",
                    "command must name a program",
                    hint: "argv as an array: command = [\"/bin/sh\", \"-c\", \"…\"]"
                )
            } else {
                command = list
            }
        }
        let timeout = table.duration("timeout", minimum: 1_000_000) ?? 10_000_000_000
        return command.map { .exec(command: $0, timeout: timeout) }
    }

    static func readHTTPCollector(_ table: TableReader) -> CollectorConfiguration.Kind? {
        var url: String?
        if !table.contains("url") {
            table.reportMissing(
                "url",
                known: collectorCommonKeys + httpCollectorKeys,
                "missing url",
                hint: "add url = \"https://paiement.ville.nc/\"",
                onTable: true
            )
        } else if let text = table.nonEmptyString("url", example: "url = \"https://paiement.ville.nc/\"") {
            if isValidWebhookURL(text) {
                url = text
            } else {
                table.report(
                    "url",
                    "\"\(text)\" is not an http:// or https:// URL with a host",
                    hint: "e.g. url = \"https://paiement.ville.nc/\""
                )
            }
        }
        let timeout = table.duration("timeout", minimum: 1_000_000) ?? 10_000_000_000
        let expect = table.integer("expect_status", in: 100...599, unit: "an HTTP status code")
        return url.map { .http(url: $0, timeout: timeout, expectStatus: expect) }
    }

    static func readFileCollector(_ table: TableReader) -> CollectorConfiguration.Kind? {
        var path: String?
        if !table.contains("path") {
            table.reportMissing(
                "path",
                known: collectorCommonKeys + fileCollectorKeys,
                "missing path",
                hint: "add path = \"/var/lib/guichet/file-attente.csv\" (the file to tail)",
                onTable: true
            )
        } else {
            path = table.nonEmptyString("path", example: "path = \"/var/lib/guichet/file-attente.csv\"")
        }
        var format = "lines"
        if let text = table.nonEmptyString("format", example: "format = \"csv\"") {
            if fileFormats.contains(text) {
                format = text
            } else {
                table.report(
                    "format",
                    "unknown file format \"\(text)\"",
                    hint: Suggestions.hint(for: text, among: fileFormats, listName: "formats")
                )
                return nil
            }
        }
        let csvKeys = ["measurement", "tags", "fields", "timestamp"]
        guard format == "csv" else {
            for key in csvKeys where table.contains(key) {
                table.report(key, "only used with format = \"csv\"", hint: "remove it, or set format = \"csv\"")
            }
            return path.map { .file(path: $0, format: .lineProtocol) }
        }
        var measurement: String?
        if !table.contains("measurement") {
            table.report(
                "measurement",
                "missing measurement",
                hint: "a csv file needs measurement = \"guichet_attente\" (the measurement of its samples)"
            )
        } else {
            measurement = table.nonEmptyString("measurement", example: "measurement = \"guichet_attente\"")
        }
        let tags = table.stringArray("tags", example: "tags = [\"guichet\"]") ?? []
        var fields: [String]?
        var fieldNames: [String: String] = [:]
        if !table.contains("fields") {
            table.report("fields", "missing fields", hint: "list the value columns: fields = [\"attente_min\"]")
        } else if table.table["fields"]?.table != nil,
            let mapping = table.table("fields", example: "fields = { value = \"attente_min\" }")
        {
            // { field = "column" }: the column's values under another field name.
            var columns: [String] = []
            for field in orderedKeys(mapping) {
                guard let column = mapping.nonEmptyString(field, example: "\(field) = \"attente_min\"") else {
                    continue
                }
                columns.append(column)
                if column != field { fieldNames[column] = field }
            }
            if columns.isEmpty {
                table.report(
                    "fields",
                    "no fields listed",
                    hint: "a sample needs a field: fields = { value = \"attente_min\" }"
                )
            } else {
                fields = columns
            }
        } else if let list = table.stringArray("fields", example: "fields = [\"attente_min\"]") {
            if list.isEmpty {
                table.report("fields", "no fields listed", hint: "a sample needs a field: fields = [\"attente_min\"]")
            } else {
                fields = list
            }
        }
        let timestamp = table.nonEmptyString("timestamp", example: "timestamp = \"horodatage\"")
        if let fields {
            let columns = tags + fields + (timestamp.map { [$0] } ?? [])
            var counted: Set<String> = []
            for column in columns where !counted.insert(column).inserted {
                table.report(
                    "fields",
                    "column \"\(column)\" is listed twice",
                    hint: "a column is a tag, a field or the timestamp, once"
                )
            }
        }
        guard let path, let measurement, let fields else { return nil }
        return .file(
            path: path,
            format: .csv(
                measurement: measurement,
                tags: tags,
                fields: fields,
                timestamp: timestamp,
                fieldNames: fieldNames
            )
        )
    }

    /// `server_key` (the daemon's Z85 public key or public certificate file) and
    /// `key_file` (this agent's secret certificate): both or neither.
    static func readUpstreamCurve(_ table: TableReader, into configuration: inout AgentConfiguration) {
        let server = table.nonEmptyString("server_key", example: "server_key = \"/etc/vigie-agent/vigied.key\"")
        let key = table.nonEmptyString("key_file", example: "key_file = \"/etc/vigie-agent/mairie-nord.key_secret\"")
        switch (server, key) {
        case (nil, nil):
            return
        case (.some, nil):
            table.report(
                "server_key",
                "server_key without key_file",
                hint: "add key_file = \"/etc/vigie-agent/NAME.key_secret\" (vigie keygen NAME)"
            )
        case (nil, .some):
            table.report(
                "key_file",
                "key_file without server_key",
                hint: "add server_key = \"/etc/vigie-agent/vigied.key\" (the daemon's public certificate)"
            )
        case (.some(let server), .some(let key)):
            do {
                configuration.upstreamCurve = try CurveClientCredentials.load(serverKey: server, keyFile: key)
            } catch let error as CurveClientCredentials.CredentialError {
                table.report(error.option == .serverKey ? "server_key" : "key_file", error.message)
            } catch {
                table.report("key_file", "\(error)")
            }
        }
    }
}
