import Foundation
import VigieConfig
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
    public static let maxEvents = 10_000

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

    /// The reply to a raw request frame.
    public func answer(bytes: [UInt8]) -> [UInt8] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
            return Self.failure("request is not valid JSON: send one object like {\"op\":\"history\",\"kpi\":\"…\"}")
        }
        guard let request = object as? [String: Any] else {
            return Self.failure("request must be a JSON object like {\"op\":\"history\",\"kpi\":\"…\"}")
        }
        return answer(request)
    }

    /// The reply to a parsed request object (as `JSONSerialization` returns it).
    public func answer(_ request: [String: Any]) -> [UInt8] {
        do {
            switch request["op"] as? String {
            case "history": return try history(request)
            case "events": return try events(request)
            case let op?:
                return Self.failure(
                    "unknown op \"\(op)\": this service answers \(Self.operations.joined(separator: ", "))"
                )
            case nil:
                return Self.failure("missing \"op\": one of \(Self.operations.joined(separator: ", "))")
            }
        } catch let error as HistoryQueryError {
            return Self.failure(error.description)
        } catch {
            return Self.failure("history is unavailable: \(error)")
        }
    }

    // MARK: - history

    private func history(_ request: [String: Any]) throws -> [UInt8] {
        guard let name = request["kpi"] as? String, !name.isEmpty else {
            throw HistoryQueryError(field: "kpi", message: "is missing: name the KPI, e.g. \"kpi\":\"\(example)\"")
        }
        guard let kpi = kpisByName[name] else {
            let names = kpis.map(\.name)
            let hint =
                Suggestions.closest(to: name, among: names).map { "did you mean \"\($0)\"?" }
                ?? (names.isEmpty ? "no KPI is configured" : "vigie status lists them")
            throw HistoryQueryError(field: "kpi", message: "\"\(name)\" is not a configured KPI: \(hint)")
        }
        let group = try groupFilter(request["group"], of: kpi)
        let now = clock.now()
        let to = try time(request["to"], field: "to", now: now) ?? now
        let from = try time(request["from"], field: "from", now: now) ?? Self.before(to, 86_400_000_000_000)
        let step = try step(request["step"])
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

    private var example: String { kpis.first?.name ?? "etat_civil.attente_p90" }

    /// The `group` filter: `nil` when absent; tags must be `group_by` keys of `kpi`.
    private func groupFilter(_ value: Any?, of kpi: KPIDefinition) throws -> [TagPair]? {
        guard let value, !(value is NSNull) else { return nil }
        guard let object = value as? [String: Any] else {
            throw HistoryQueryError(
                field: "group",
                message: "must be an object of tag values, e.g. {\"site\":\"nord\"}"
            )
        }
        var pairs: [TagPair] = []
        for key in object.keys.sorted() {
            guard let text = object[key] as? String else {
                throw HistoryQueryError(field: "group", message: "tag \"\(key)\" must have a string value")
            }
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
            pairs.append(TagPair(key: key, value: text))
        }
        return pairs
    }

    /// A time field: integer ns or `TimeArgument` text; `nil` when absent.
    private func time(_ value: Any?, field: String, now: Int64) throws -> Int64? {
        guard let value, !(value is NSNull) else { return nil }
        if let text = value as? String {
            guard let t = TimeArgument.parse(text, now: now) else {
                throw HistoryQueryError(field: field, message: "\"\(text)\" is not a time: use \(TimeArgument.forms)")
            }
            return t
        }
        if let ns = Self.integer(value) { return ns }
        throw HistoryQueryError(
            field: field,
            message: "must be integer nanoseconds since the epoch or a string: \(TimeArgument.forms)"
        )
    }

    /// `step`: a duration string or integer seconds; 1 h when absent.
    private func step(_ value: Any?) throws -> Int64 {
        guard let value, !(value is NSNull) else { return HistoryResolution.hour.rawValue }
        if let text = value as? String {
            guard let ns = DurationFormat.parse(text), ns > 0 else {
                throw HistoryQueryError(field: "step", message: DurationFormat.explain(text))
            }
            return ns
        }
        if let seconds = Self.integer(value), seconds > 0, seconds <= DurationFormat.maximum / 1_000_000_000 {
            return seconds * 1_000_000_000
        }
        throw HistoryQueryError(
            field: "step",
            message: "must be a duration string such as \"1h\" or integer seconds, at most 100 years"
        )
    }

    /// An exact JSON integer: not a boolean (which `JSONSerialization` also returns as
    /// an `NSNumber`, but of type `c`), not a fraction or an exponent form.
    static func integer(_ value: Any) -> Int64? {
        guard let number = value as? NSNumber else { return nil }
        switch String(cString: number.objCType) {
        case "i", "l", "q", "s": return number.int64Value
        case "I", "L", "Q", "S":
            let u = number.uint64Value
            return u <= UInt64(Int64.max) ? Int64(u) : nil
        default: return nil
        }
    }

    // MARK: - events

    private func events(_ request: [String: Any]) throws -> [UInt8] {
        let now = clock.now()
        let to = try time(request["to"], field: "to", now: now) ?? now
        let from = try time(request["from"], field: "from", now: now) ?? Self.before(to, 7 * 86_400_000_000_000)
        guard to > from else { throw HistoryQueryError(field: "to", message: "must be after \"from\"") }
        var limit = 100
        if let value = request["limit"], !(value is NSNull) {
            guard let n = Self.integer(value), n > 0, n <= Int64(Self.maxEvents) else {
                throw HistoryQueryError(field: "limit", message: "must be an integer from 1 to \(Self.maxEvents)")
            }
            limit = Int(n)
        }
        let list = try store.events(from: from, to: to, limit: limit)
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
                if (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) is [String: Any] {
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
