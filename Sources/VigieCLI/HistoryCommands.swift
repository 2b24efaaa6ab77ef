import ArgumentParser
import Foundation
import VigieCore

/// `vigie history`: a KPI's value per step, recomputed by the daemon from its rollups.
public struct HistoryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show a KPI's history: its value per step, per series.",
        discussion: """
            Times are RFC 3339 (2026-11-01T08:30:00Z), a date (2026-11-01, midnight UTC), now, \
            or relative to now (-7d, -24h). Steps are aligned to multiples of the step since \
            the epoch, in UTC. Example: vigie history etat_civil.attente_p90 --group site=nord \
            --from -7d --step 1d
            Exit status: 0 on success, 1 if the daemon refuses the request (unknown KPI…), \
            64 on bad usage, 75 if the daemon does not answer.
            """
    )

    @Argument(help: "KPI name.")
    var kpi: String

    @Option(help: "Only series with this group tag, key=value (repeatable).")
    var group: [String] = []

    @Option(parsing: .unconditional, help: "Start of the range (-7d works without '=').")
    var from = "-24h"

    @Option(parsing: .unconditional, help: "End of the range (exclusive).")
    var to = "now"

    @Option(help: "Step: 15m, 1h, 1d… A step that is not whole hours needs minute rows (kept 14 days by default).")
    var step = "1h"

    @Flag(help: "CSV output: ts, one column per group tag, value, samples.")
    var csv = false

    @Flag(help: "Print the daemon's JSON reply as is.")
    var json = false

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func validate() throws {
        if csv && json { throw ValidationError("choose one of --csv and --json") }
        _ = try request(now: SystemClock().now())
    }

    /// The control request, times resolved against `now` and sent as integer ns.
    func request(now: Int64) throws -> ControlRequest {
        let (start, end) = try HistoryArguments.range(from: from, to: to, now: now)
        guard let ns = DurationFormat.parse(step) else {
            throw ValidationError("--step: \(DurationFormat.explain(step))")
        }
        guard ns >= 60_000_000_000 else {
            throw ValidationError("--step '\(step)' is shorter than 1m: use 15m, 1h or 1d")
        }
        var tags: [String: String] = [:]
        for g in group {
            guard let m = AlertMatcher(parsing: g) else {
                throw ValidationError("--group '\(g)' must be key=value")
            }
            tags[m.key] = m.value
        }
        return .history(
            .init(
                kpi: kpi,
                group: tags.isEmpty ? nil : tags,
                from: .nanoseconds(start),
                to: .nanoseconds(end),
                step: ns
            )
        )
    }

    public func run() throws {
        let request = try request(now: SystemClock().now())
        let raw = try HistoryArguments.send(request, endpoints: endpoints, command: "history")
        if json {
            print(String(decoding: raw.bytes, as: UTF8.self))
        } else if csv {
            print(Self.renderCSV(raw.reply), terminator: "")
        } else {
            print(Self.renderTable(raw.reply), terminator: "")
        }
    }

    /// The points as an aligned table: time, group, value with its unit, samples.
    static func renderTable(_ reply: [String: Any]) -> String {
        let points = reply["points"] as? [[String: Any]] ?? []
        let kpi = reply["kpi"] as? String ?? "this KPI"
        if points.isEmpty { return "no history for \(kpi) in that range\n" }
        let unit = reply["unit"] as? String
        let rows = points.map { p -> [String] in
            [
                p["ts"] as? String ?? "", HistoryArguments.groupText(p["group"]),
                KPIRow.format(HistoryArguments.double(p["value"]), unit: unit), String(p["samples"] as? Int ?? 0),
            ]
        }
        return TableRenderer.render(headers: ["Time (UTC)", "Group", "Value", "Samples"], rows: rows)
    }

    /// The points as CSV (RFC 4180 quoting, `\n` line ends): `ts`, one column per group tag (sorted by key),
    /// `value` (empty when unknown, full precision), `samples`.
    static func renderCSV(_ reply: [String: Any]) -> String {
        let points = reply["points"] as? [[String: Any]] ?? []
        var keys = Set<String>()
        for p in points { keys.formUnion((p["group"] as? [String: Any] ?? [:]).keys) }
        let columns = keys.sorted()
        var out =
            (["ts"] + columns + ["value", "samples"]).map(HistoryArguments.csvField).joined(separator: ",") + "\n"
        for p in points {
            let group = p["group"] as? [String: Any] ?? [:]
            var fields = [p["ts"] as? String ?? ""]
            for key in columns { fields.append(group[key] as? String ?? "") }
            fields.append(HistoryArguments.double(p["value"]).map(HistoryArguments.exact) ?? "")
            fields.append(String(p["samples"] as? Int ?? 0))
            out += fields.map(HistoryArguments.csvField).joined(separator: ",") + "\n"
        }
        return out
    }
}

/// `vigie events`: alert transitions and operator actions kept in history.
public struct EventsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show alert transitions, acknowledgments and silences from history.",
        discussion: """
            Lists the latest --limit events of the range, oldest first. Times as for \
            vigie history: RFC 3339, a date (UTC), now, or -7d.
            Exit status: 0 on success, 1 if the daemon refuses the request, 64 on bad usage, \
            75 if the daemon does not answer.
            """
    )

    @Option(parsing: .unconditional, help: "Start of the range (-30d works without '=').")
    var from = "-7d"

    @Option(parsing: .unconditional, help: "End of the range (exclusive).")
    var to = "now"

    @Option(help: "At most this many events (1–10000).")
    var limit = 100

    @Flag(help: "Print the daemon's JSON reply as is.")
    var json = false

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func validate() throws {
        _ = try request(now: SystemClock().now())
    }

    /// The control request, times resolved against `now` and sent as integer ns.
    func request(now: Int64) throws -> ControlRequest {
        let (start, end) = try HistoryArguments.range(from: from, to: to, now: now)
        guard (1...ControlRequest.maxEvents).contains(limit) else {
            throw ValidationError("--limit must be from 1 to \(ControlRequest.maxEvents)")
        }
        return .events(.init(from: .nanoseconds(start), to: .nanoseconds(end), limit: limit))
    }

    public func run() throws {
        let raw = try HistoryArguments.send(request(now: SystemClock().now()), endpoints: endpoints, command: "events")
        if json {
            print(String(decoding: raw.bytes, as: UTF8.self))
        } else {
            print(Self.render(raw.reply), terminator: "")
        }
    }

    /// The events as an aligned table.
    static func render(_ reply: [String: Any]) -> String {
        let events = reply["events"] as? [[String: Any]] ?? []
        if events.isEmpty { return "no events in that range\n" }
        let rows = events.map { e -> [String] in
            let value = HistoryArguments.double(e["value"])
            let threshold = HistoryArguments.double(e["threshold"])
            var judged = value.map { KPIRow.format($0, unit: nil) } ?? ""
            if let threshold { judged += " / " + KPIRow.format(threshold, unit: nil) }
            return [
                e["ts"] as? String ?? "", e["kind"] as? String ?? "", e["rule"] as? String ?? "",
                e["kpi"] as? String ?? "", HistoryArguments.groupText(e["group"]), e["state"] as? String ?? "",
                e["severity"] as? String ?? "", judged, e["actor"] as? String ?? "", e["comment"] as? String ?? "",
            ]
        }
        return TableRenderer.render(
            headers: [
                "Time (UTC)", "Kind", "Rule", "KPI", "Group", "State", "Severity", "Value / threshold", "By",
                "Comment",
            ],
            rows: rows
        )
    }
}

/// What `vigie history` and `vigie events` share: time arguments, the request, and
/// cell formatting.
enum HistoryArguments {
    /// `--from` and `--to` as ns, checked (`ValidationError`, exit 64).
    static func range(from: String, to: String, now: Int64) throws -> (Int64, Int64) {
        guard let start = TimeArgument.parse(from, now: now) else {
            throw ValidationError("--from '\(from)' is not a time: use \(TimeArgument.forms)")
        }
        guard let end = TimeArgument.parse(to, now: now) else {
            throw ValidationError("--to '\(to)' is not a time: use \(TimeArgument.forms)")
        }
        guard end > start else {
            throw ValidationError(
                "--to (\(Timestamps.rfc3339(nanoseconds: end))) must be after --from (\(Timestamps.rfc3339(nanoseconds: start)))"
            )
        }
        return (start, end)
    }

    /// Sends `request` and returns the reply: exit 1 with the daemon's message when it
    /// answers `{"ok":false}`, 75 when it does not answer, 76 when the reply is not JSON.
    static func send(
        _ request: ControlRequest,
        endpoints: EndpointOptions,
        command: String
    ) throws -> (bytes: [UInt8], reply: [String: Any]) {
        let bytes = try withControlClient(endpoints, command: command) { client in
            let bytes = try client.requestRaw(request, timeoutMilliseconds: 15_000, connectTimeoutMilliseconds: 3_000)
            guard (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any] else {
                throw CLIError.protocolError("control reply is not a JSON object")
            }
            return bytes
        }
        let reply = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
        if reply["ok"] as? Bool == false {
            let message = reply["error"] as? String ?? "request failed"
            FileHandle.standardError.write(Data("vigie \(command): \(message)\n".utf8))
            throw ExitCode(1)
        }
        return (bytes, reply)
    }

    /// `site=nord guichet=2` (keys sorted), `—` for none.
    static func groupText(_ value: Any?) -> String {
        let group = value as? [String: Any] ?? [:]
        if group.isEmpty { return "—" }
        return group.keys.sorted().map { "\($0)=\(group[$0] as? String ?? "")" }.joined(separator: " ")
    }

    /// A JSON number as `Double`; `nil` for null, absent, a boolean (an `NSNumber` of
    /// type `c` from `JSONSerialization`) or not a number.
    static func double(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        return number.doubleValue
    }

    /// `12` for integral values, else the shortest text that reads back exactly.
    static func exact(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
