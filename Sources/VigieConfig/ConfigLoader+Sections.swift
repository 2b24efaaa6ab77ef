import Foundation
import VigieCore

extension ConfigLoader {
    static let daemonKeys = [
        "timezone", "state_dir", "publish_interval", "heartbeat_interval", "runtime_dir", "fsync", "fsync_interval",
        "checkpoint_interval", "checkpoint_wal_bytes",
    ]

    static func readDaemon(_ table: TableReader) -> DaemonConfiguration {
        table.rejectUnknownKeys(daemonKeys, context: "[daemon]")
        var daemon = DaemonConfiguration()
        if let zone = table.nonEmptyString("timezone", example: "timezone = \"Pacific/Noumea\"") {
            if TimeZone(identifier: zone) != nil {
                daemon.timezone = zone
            } else {
                let match = Suggestions.closest(to: zone, among: TimeZone.knownTimeZoneIdentifiers)
                let hint =
                    match.map { "did you mean \"\($0)\"?" }
                    ?? "use an IANA time zone name such as \"Pacific/Noumea\", \"Europe/Paris\" or \"UTC\""
                table.report("timezone", "unknown time zone \"\(zone)\"", hint: hint)
            }
        }
        if let dir = table.nonEmptyString("state_dir", example: "state_dir = \"/var/lib/vigie\"") {
            daemon.stateDir = dir
        }
        if let dir = table.nonEmptyString("runtime_dir", example: "runtime_dir = \"/run/vigie\"") {
            if dir.utf8.count > DaemonConfiguration.maximumRuntimeDirLength {
                table.report(
                    "runtime_dir",
                    "\(dir.utf8.count) bytes long: the control socket's path would not fit in a Unix socket address",
                    hint:
                        "use a path of at most \(DaemonConfiguration.maximumRuntimeDirLength) bytes, such as /run/vigie"
                )
            } else {
                daemon.runtimeDir = dir
            }
        }
        if let interval = table.duration("publish_interval") { daemon.publishInterval = interval }
        if let interval = table.duration("heartbeat_interval", minimum: 1_000_000) {
            daemon.heartbeatInterval = interval
        }
        if let mode = table.nonEmptyString("fsync", example: "fsync = \"batch\"") {
            if let parsed = DaemonConfiguration.FsyncMode(rawValue: mode) {
                daemon.fsync = parsed
            } else {
                let names = DaemonConfiguration.FsyncMode.allCases.map(\.rawValue)
                let match = Suggestions.closest(to: mode, among: names)
                let hint = match.map { "did you mean \"\($0)\"?" } ?? "use \"batch\", \"always\" or \"off\""
                table.report("fsync", "unknown fsync policy \"\(mode)\"", hint: hint)
            }
        }
        if let interval = table.duration("fsync_interval", minimum: 100_000) { daemon.fsyncInterval = interval }
        if let interval = table.duration("checkpoint_interval", minimum: 1_000_000_000) {
            daemon.checkpointInterval = interval
        }
        if let bytes = table.integer("checkpoint_wal_bytes", in: (1 << 20)...(1 << 40), unit: "bytes") {
            daemon.checkpointWALBytes = Int64(bytes)
        }
        return daemon
    }

    static let endpointKeys = ["ingest", "push", "feed", "control"]

    static func readEndpoints(_ table: TableReader) -> EndpointsConfiguration {
        table.rejectUnknownKeys(endpointKeys + ["feed_hwm", "control_max_request"], context: "[endpoints]")
        var endpoints = EndpointsConfiguration()
        if let hwm = table.integer("feed_hwm", in: 1...10_000_000, unit: "messages per subscriber") {
            endpoints.feedHighWaterMark = hwm
        }
        if let bytes = table.integer("control_max_request", in: 1_024...(64 << 20), unit: "bytes") {
            endpoints.controlMaxRequest = bytes
        }
        let lists = readEndpointLists(table, keys: endpointKeys, section: "endpoints", example: "tcp://127.0.0.1:7600")
        if let list = lists["ingest"] { endpoints.ingest = list }
        if let list = lists["push"] { endpoints.push = list }
        if let list = lists["feed"] { endpoints.feed = list }
        if let list = lists["control"] { endpoints.control = list }
        return endpoints
    }

    /// The endpoint lists under `keys` of `table` (a string or an array of strings each),
    /// validated (`endpointProblem`) and checked for an endpoint used twice; a key with an
    /// error is left out, its errors reported.
    static func readEndpointLists(
        _ table: TableReader,
        keys: [String],
        section: String,
        example: String
    ) -> [String: [String]] {
        var lists: [String: [String]] = [:]
        var seen: [String: String] = [:]
        for key in keys {
            guard let value = table.table[key] else { continue }
            var list: [String]
            if let single = value.string {
                list = [single]
            } else if let array = table.stringArray(key, example: "\(key) = [\"\(example)\"]") {
                list = array
            } else {
                continue
            }
            var valid = true
            for (index, endpoint) in list.enumerated() {
                let place = value.string == nil ? table.scope.child(key).element(index) : table.scope.child(key)
                if let (message, hint) = endpointProblem(endpoint) {
                    table.diagnostics.report(at: place.path, key: place.displayKey, message, hint: hint)
                    valid = false
                } else if !endpoint.hasSuffix(":*"), let other = seen[endpoint] {
                    table.diagnostics.report(
                        at: place.path,
                        key: place.displayKey,
                        "\"\(endpoint)\" is already used by \(other)",
                        hint: "each socket needs its own endpoint"
                    )
                    valid = false
                } else {
                    seen[endpoint] = "\(section).\(key)"
                }
            }
            if valid { lists[key] = list }
        }
        return lists
    }

    /// Why `endpoint` is not a bindable ZeroMQ endpoint, with a hint; `nil` when it is.
    static func endpointProblem(_ endpoint: String) -> (String, String)? {
        let forms = "use tcp://host:port, ipc:///run/vigie/name.sock or inproc://name"
        if endpoint.hasPrefix("tcp://") {
            let rest = endpoint.dropFirst("tcp://".count)
            guard let colon = rest.lastIndex(of: ":") else {
                return ("\"\(endpoint)\" has no port", "write tcp://\(rest):7600 (or port * for any free port)")
            }
            let host = rest[..<colon]
            let port = rest[rest.index(after: colon)...]
            if host.isEmpty {
                return ("\"\(endpoint)\" has no host", "write tcp://127.0.0.1:\(port) for loopback or tcp://*:\(port)")
            }
            if host.contains(":") && !(host.hasPrefix("[") && host.hasSuffix("]")) {
                return ("\"\(endpoint)\": IPv6 addresses need brackets", "write tcp://[::1]:\(port)")
            }
            if host.contains(where: { $0.isWhitespace || $0 == "/" }) {
                return ("\"\(endpoint)\" has an invalid host \"\(host)\"", forms)
            }
            if port != "*" {
                guard let number = Int(port), (1...65_535).contains(number) else {
                    return (
                        "\"\(endpoint)\" has an invalid port \"\(port)\"", "ports are 1–65535, or * for any free port"
                    )
                }
            }
            return nil
        }
        for scheme in ["ipc://", "inproc://"] where endpoint.hasPrefix(scheme) {
            if endpoint.count == scheme.count {
                return ("\"\(endpoint)\" names no \(scheme == "ipc://" ? "path" : "name")", forms)
            }
            return nil
        }
        if !endpoint.contains("://"), endpoint.contains(":") {
            return ("\"\(endpoint)\" has no transport", "did you mean \"tcp://\(endpoint)\"?")
        }
        return ("\"\(endpoint)\" is not a ZeroMQ endpoint", forms)
    }

    static let ingestKeys = [
        "max_age", "max_future", "max_line_length", "max_tags", "max_fields", "max_name_length",
        "max_lines_per_batch", "max_message_size", "max_series_per_kpi", "max_producers", "max_in_flight",
        "max_series_total", "producer_idle", "max_producers_per_key",
    ]

    static func readIngest(_ table: TableReader) -> IngestConfiguration {
        table.rejectUnknownKeys(ingestKeys, context: "[ingest]")
        var ingest = IngestConfiguration()
        if let value = table.duration("max_age", minimum: 1) { ingest.maxAge = value }
        if let value = table.duration("max_future") { ingest.maxFuture = value }
        let gib = 1 << 30
        if let value = table.integer("max_line_length", in: 16...gib, unit: "bytes") { ingest.maxLineLength = value }
        if let value = table.integer("max_tags", in: 0...65_536) { ingest.maxTags = value }
        if let value = table.integer("max_fields", in: 1...65_536) { ingest.maxFields = value }
        if let value = table.integer("max_name_length", in: 1...65_536, unit: "bytes") { ingest.maxNameLength = value }
        if let value = table.integer("max_lines_per_batch", in: 1...100_000_000) { ingest.maxLinesPerBatch = value }
        if let value = table.integer("max_message_size", in: 1_024...gib, unit: "bytes") {
            ingest.maxMessageSize = Int64(value)
        }
        if let value = table.integer("max_series_per_kpi", in: 1...10_000_000) { ingest.maxSeriesPerKPI = value }
        if let value = table.integer("max_producers", in: 1...10_000_000) { ingest.maxProducers = value }
        if let value = table.duration("producer_idle", minimum: 1_000_000_000) {
            ingest.producerIdle = value
        }
        if let value = table.integer("max_producers_per_key", in: 1...10_000_000) { ingest.maxProducersPerKey = value }
        if let value = table.integer("max_in_flight", in: 1...1_000_000, unit: "batches per producer") {
            ingest.maxInFlight = value
        }
        if let value = table.integer("max_series_total", in: 1...100_000_000, unit: "series") {
            ingest.maxSeriesTotal = value
        }
        if Int64(ingest.maxLineLength) > ingest.maxMessageSize {
            table.report(
                "max_line_length",
                "\(ingest.maxLineLength) is larger than max_message_size (\(ingest.maxMessageSize))",
                hint: "a line must fit in one message: lower max_line_length or raise max_message_size"
            )
        }
        return ingest
    }
}
