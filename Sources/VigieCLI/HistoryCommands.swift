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
        let raw = try HistoryArguments.send(
            request,
            as: ControlReply.History.self,
            endpoints: endpoints,
            command: "history"
        )
        if json {
            print(String(decoding: raw.bytes, as: UTF8.self))
        } else if csv {
            print(Self.renderCSV(raw.reply), terminator: "")
        } else {
            print(Self.renderTable(raw.reply), terminator: "")
        }
    }

    /// The points as an aligned table: time, group, value with its unit, samples.
    static func renderTable(_ reply: ControlReply.History) -> String {
        if reply.points.isEmpty { return "no history for \(reply.kpi) in that range\n" }
        let rows = reply.points.map { p -> [String] in
            [p.ts, KPIRow.groupText(p.group), KPIRow.format(p.value, unit: reply.unit), String(p.samples)]
        }
        return TableRenderer.render(headers: ["Time (UTC)", "Group", "Value", "Samples"], rows: rows)
    }

    /// The points as CSV (RFC 4180 quoting, `\n` line ends): `ts`, one column per group tag (sorted by key),
    /// `value` (empty when unknown, full precision), `samples`.
    static func renderCSV(_ reply: ControlReply.History) -> String {
        var keys = Set<String>()
        for p in reply.points { keys.formUnion(p.group.keys) }
        let columns = keys.sorted()
        var out =
            (["ts"] + columns + ["value", "samples"]).map(HistoryArguments.csvField).joined(separator: ",") + "\n"
        for p in reply.points {
            var fields = [p.ts]
            for key in columns { fields.append(p.group[key] ?? "") }
            fields.append(p.value.map(HistoryArguments.exact) ?? "")
            fields.append(String(p.samples))
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
        let raw = try HistoryArguments.send(
            request(now: SystemClock().now()),
            as: ControlReply.Events.self,
            endpoints: endpoints,
            command: "events"
        )
        if json {
            print(String(decoding: raw.bytes, as: UTF8.self))
        } else {
            print(Self.render(raw.reply), terminator: "")
        }
    }

    /// The events as an aligned table.
    static func render(_ reply: ControlReply.Events) -> String {
        if reply.events.isEmpty { return "no events in that range\n" }
        let rows = reply.events.map { e -> [String] in
            var judged = e.value.map { KPIRow.format($0, unit: nil) } ?? ""
            if let threshold = e.threshold { judged += " / " + KPIRow.format(threshold, unit: nil) }
            return [
                e.ts, e.kind.rawValue, e.rule ?? "", e.kpi ?? "", KPIRow.groupText(e.group), e.state?.rawValue ?? "",
                e.severity ?? "", judged, e.actor ?? "", e.comment ?? "",
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

    /// Sends `request` and returns the reply, as sent and decoded: exit 1 with the
    /// daemon's message when it answers `{"ok":false}`, 75 when it does not answer, 76
    /// when the reply is not an `R`.
    static func send<R: Decodable>(
        _ request: ControlRequest,
        as type: R.Type,
        endpoints: EndpointOptions,
        command: String
    ) throws -> (bytes: [UInt8], reply: R) {
        let (bytes, decoded) = try withControlClient(endpoints, command: command) { client in
            let bytes = try client.requestRaw(request, timeoutMilliseconds: 15_000, connectTimeoutMilliseconds: 3_000)
            switch ControlReply.decode(type, from: bytes) {
            case .success(let reply): return (bytes, Result<R, ControlReply.Failure>.success(reply))
            case .failure(.refused(let failure)): return (bytes, .failure(failure))
            case .failure(let error): throw CLIError.protocolError(error.description)
            }
        }
        switch decoded {
        case .success(let reply):
            return (bytes, reply)
        case .failure(let failure):
            FileHandle.standardError.write(Data("vigie \(command): \(failure.error)\n".utf8))
            throw ExitCode(1)
        }
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
