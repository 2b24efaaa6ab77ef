import Foundation
import VigieCore

/// Answers the control operations that read history, `history` and `events`: one
/// JSON request in, one JSON reply out, as `ControlHandler` does for the others.
///
/// ```
/// {"op":"history","kpi":"etat_civil.attente_p90","group":{"site":"nord"},
///  "from":"2026-11-01T00:00:00Z","to":1793577600000000000,"step":"1h"}
/// → {"ok":true,"kpi":"etat_civil.attente_p90","unit":"min","aggregate":"p90","step_s":3600,
///    "resolution":"hour","from":"…","to":"…",
///    "points":[{"ts":"2026-11-01T00:00:00.000Z","group":{"site":"nord"},"value":12.5,"samples":40},…]}
/// {"op":"events","from":"-7d","limit":100}
/// → {"ok":true,"events":[{"id":1,"ts":"…","kind":"alert","rule":…,"kpi":…,"group":{…},"state":…,
///    "severity":…,"value":…,"threshold":…,"actor":…,"comment":…,"payload":{…}},…]}
/// ```
///
/// `from` and `to` are integer nanoseconds or text (`TimeArgument`: RFC 3339, a
/// date, `now`, `-7d`); `to` defaults to now, `from` to 24 h (`history`) or 7 days
/// (`events`) before `to`. `step` is a duration (`"15m"`, default `"1h"`) or an
/// integer number of seconds; `group` an object of `group_by` tag values (a subset
/// filters). Errors are `{"ok":false,"error":"…"}` naming the bad field; an unknown KPI
/// comes with a did-you-mean.
///
/// Meant for the history thread (a query may take tens of milliseconds, never the
/// engine thread's time). `Sendable`; allocates freely.
public final class HistoryQueryService: Sendable {
    /// The operations `answer` serves.
    public static let operations = ["history", "events"]
    /// Most events one `events` reply lists.
    public static let maxEvents = ControlRequest.maxEvents

    public let store: HistoryStore
    /// The configured KPIs (their aggregate, unit and `group_by` drive the query).
    public let kpis: [KPIDefinition]
    private let clock: any WallClock
    private let kpisByName: [String: KPIDefinition]

    /// A service reading `store` for `kpis`; `clock` gives `now` for defaults and
    /// relative times.
    public init(store: HistoryStore, kpis: [KPIDefinition], clock: any WallClock = SystemClock()) {
        self.store = store
        self.kpis = kpis
        self.clock = clock
        var byName: [String: KPIDefinition] = [:]
        for kpi in kpis where byName[kpi.name] == nil { byName[kpi.name] = kpi }
        kpisByName = byName
    }

    /// The reply to a `history` or `events` request (decoded and checked by
    /// ``ControlRequest`` on the engine thread): the JSON the client gets.
    public func answer(_ request: ControlRequest) -> [UInt8] {
        do {
            switch request {
            case .history(let query): return try history(query)
            case .events(let query): return try events(query)
            default:
                return Self.failure(
                    "unknown op \"\(request.op)\": this service answers \(Self.operations.joined(separator: ", "))"
                )
            }
        } catch let error as HistoryQueryError {
            return Self.failure(error.description)
        } catch {
            return Self.failure("history is unavailable: \(error)")
        }
    }

    // MARK: - history

    private func history(_ query: ControlRequest.HistoryQuery) throws -> [UInt8] {
        let name = query.kpi
        guard let kpi = kpisByName[name] else {
            let names = kpis.map(\.name)
            let hint =
                Suggestions.closest(to: name, among: names).map { "did you mean \"\($0)\"?" }
                ?? (names.isEmpty ? "no KPI is configured" : "vigie status lists them")
            throw HistoryQueryError(field: "kpi", message: "\"\(name)\" is not a configured KPI: \(hint)")
        }
        let group = try groupFilter(query.group, of: kpi)
        let now = clock.now()
        let to = try time(query.to, field: "to", now: now) ?? now
        let from = try time(query.from, field: "from", now: now) ?? Self.before(to, 86_400_000_000_000)
        let step = query.step ?? HistoryResolution.hour.rawValue
        let result = try store.history(kpi: kpi, group: group, from: from, to: to, step: step)

        var w = JSONWriter(capacity: 64 + result.points.count * 96)
        w.beginObject()
        w.key("ok")
        w.bool(true)
        w.key("kpi")
        w.string(kpi.name)
        w.key("unit")
        if let unit = kpi.unit { w.string(unit) } else { w.null() }
        w.key("aggregate")
        w.string(kpi.aggregate.name)
        w.key("step_s")
        w.integer(result.step / 1_000_000_000)
        w.key("resolution")
        w.string(result.resolution.name)
        w.key("from")
        w.timestamp(nanoseconds: result.start)
        w.key("to")
        w.timestamp(nanoseconds: result.end)
        w.key("points")
        w.beginArray()
        for p in result.points {
            w.beginObject()
            w.key("ts")
            w.timestamp(nanoseconds: p.ts)
            w.key("group")
            Self.writeGroup(p.group, into: &w)
            w.key("value")
            w.number(p.value)
            w.key("samples")
            w.integer(p.samples)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// The `group` filter: `nil` when absent; tags must be `group_by` keys of `kpi`.
    private func groupFilter(_ group: [String: String]?, of kpi: KPIDefinition) throws -> [TagPair]? {
        guard let group else { return nil }
        var pairs: [TagPair] = []
        for key in group.keys.sorted() {
            guard kpi.groupBy.contains(key) else {
                let hint =
                    kpi.groupBy.isEmpty
                    ? "it has no group_by"
                    : Suggestions.closest(to: key, among: kpi.groupBy).map { "did you mean \"\($0)\"?" }
                        ?? "group_by: \(kpi.groupBy.joined(separator: ", "))"
                throw HistoryQueryError(
                    field: "group",
                    message: "names tag \"\(key)\", which KPI \"\(kpi.name)\" is not grouped by: \(hint)"
                )
            }
            pairs.append(TagPair(key: key, value: group[key] ?? ""))
        }
        return pairs
    }

    /// A time field resolved at `now`; nil when absent.
    private func time(_ point: ControlRequest.TimePoint?, field: String, now: Int64) throws -> Int64? {
        guard let point else { return nil }
        guard let t = point.resolve(now: now) else {
            throw HistoryQueryError(field: field, message: "is not a time: use \(TimeArgument.forms)")
        }
        return t
    }

    // MARK: - events

    private func events(_ query: ControlRequest.EventsQuery) throws -> [UInt8] {
        let now = clock.now()
        let to = try time(query.to, field: "to", now: now) ?? now
        let from = try time(query.from, field: "from", now: now) ?? Self.before(to, 7 * 86_400_000_000_000)
        guard to > from else { throw HistoryQueryError(field: "to", message: "must be after \"from\"") }
        let list = try store.events(from: from, to: to, limit: query.limit)
        var w = JSONWriter(capacity: 64 + list.count * 256)
        w.beginObject()
        w.key("ok")
        w.bool(true)
        w.key("events")
        w.beginArray()
        for e in list {
            w.beginObject()
            w.key("id")
            if let id = e.id { w.integer(id) } else { w.null() }
            w.key("ts")
            w.timestamp(nanoseconds: e.ts)
            w.key("kind")
            w.string(e.kind.rawValue)
            for (key, text) in [("rule", e.rule), ("kpi", e.kpi)] {
                w.key(key)
                if let text { w.string(text) } else { w.null() }
            }
            w.key("group")
            Self.writeGroup(e.group, into: &w)
            for (key, text) in [("state", e.state), ("severity", e.severity)] {
                w.key(key)
                if let text { w.string(text) } else { w.null() }
            }
            w.key("value")
            w.number(e.value)
            w.key("threshold")
            w.number(e.threshold)
            for (key, text) in [("actor", e.actor), ("comment", e.comment)] {
                w.key(key)
                if let text { w.string(text) } else { w.null() }
            }
            w.key("payload")
            if let payload = e.payload {
                if JSONValue.decode(Array(payload.utf8))?.object != nil {
                    w.raw(payload)
                } else {
                    w.string(payload)
                }
            } else {
                w.null()
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    // MARK: - Helpers

    /// `t − span`, saturating at `Int64.min`.
    private static func before(_ t: Int64, _ span: Int64) -> Int64 {
        let (v, overflow) = t.subtractingReportingOverflow(span)
        return overflow ? .min : v
    }

    private static func writeGroup(_ group: [TagPair], into w: inout JSONWriter) {
        w.beginObject()
        for pair in group {
            w.key(pair.key)
            w.string(pair.value)
        }
        w.endObject()
    }

    /// `{"ok":false,"error":message}`.
    static func failure(_ message: String) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + message.utf8.count)
        w.beginObject()
        w.key("ok")
        w.bool(false)
        w.key("error")
        w.string(message)
        w.endObject()
        return w.bytes
    }
}
