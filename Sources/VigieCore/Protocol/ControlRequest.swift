/// A control request (DESIGN.md, "Control"), decoded and checked in full: every field
/// that came from outside is typed and bounded here, so the daemon, the history thread
/// and the CLI never read raw JSON. Pure.
///
/// Decoding has two steps, so that a socket's access is checked on the op before its
/// fields are: ``parse(_:)`` reads the JSON and the op, ``decode(op:_:now:)`` the rest.
public enum ControlRequest: Equatable, Sendable {
    /// The current KPI values (those whose name starts with `prefix`) and active alerts.
    case snapshot(prefix: String?)
    case stats
    case config
    case alerts
    case reload
    /// The Prometheus view; `handOver`: only read it here, the caller renders it.
    case metrics(handOver: Bool)
    case health
    /// `ack`, `silence`, `unsilence`: logged before they are carried out.
    case operatorAction(OperatorRequest)
    case history(HistoryQuery)
    case events(EventsQuery)

    /// Every op this version serves.
    public static let operations = [
        "snapshot", "stats", "config", "alerts", "ack", "silence", "unsilence", "history", "events", "reload",
        "metrics", "health",
    ]
    /// Ops that change state: logged to the write-ahead log before they are carried out.
    public static let mutatingOperations: Set<String> = ["ack", "silence", "unsilence"]
    /// Ops that need operator access (SECURITY.md).
    public static let operatorOperations: Set<String> = mutatingOperations.union(["reload"])
    /// Ops the history thread answers.
    public static let historyOperations: Set<String> = ["history", "events"]

    /// A point in time as given: integer nanoseconds, or text for ``TimeArgument``
    /// (checked at decode; relative forms are resolved when the query runs).
    public enum TimePoint: Equatable, Sendable {
        case nanoseconds(Int64)
        case text(String)

        /// The instant, relative forms taken from `now`; nil for text that is no time.
        public func resolve(now: Int64) -> Int64? {
            switch self {
            case .nanoseconds(let ns): ns
            case .text(let text): TimeArgument.parse(text, now: now)
            }
        }
    }

    /// `history`: a KPI's values over a range, per step.
    public struct HistoryQuery: Equatable, Sendable {
        public var kpi: String
        /// Tag values of the KPI's `group_by` to keep (nil: every group), by tag.
        public var group: [String: String]?
        public var from: TimePoint?
        public var to: TimePoint?
        /// Step in nanoseconds (nil: 1 h).
        public var step: Int64?

        public init(
            kpi: String,
            group: [String: String]? = nil,
            from: TimePoint? = nil,
            to: TimePoint? = nil,
            step: Int64? = nil
        ) {
            self.kpi = kpi
            self.group = group
            self.from = from
            self.to = to
            self.step = step
        }
    }

    /// `events`: alert transitions and operator actions over a range.
    public struct EventsQuery: Equatable, Sendable {
        public var from: TimePoint?
        public var to: TimePoint?
        /// Most events listed (1…``maxEvents``).
        public var limit: Int

        public init(from: TimePoint? = nil, to: TimePoint? = nil, limit: Int = 100) {
            self.from = from
            self.to = to
            self.limit = limit
        }
    }

    /// Most events one `events` reply lists.
    public static let maxEvents = 10_000

    /// Why a request was refused: the error text of the reply.
    public typealias Refusal = OperatorRequest.Refusal

    /// The op's name.
    public var op: String {
        switch self {
        case .snapshot: "snapshot"
        case .stats: "stats"
        case .config: "config"
        case .alerts: "alerts"
        case .reload: "reload"
        case .metrics: "metrics"
        case .health: "health"
        case .operatorAction(let action): action.op
        case .history: "history"
        case .events: "events"
        }
    }

    /// Reads a request's JSON and its op (not checked against the known ops).
    public static func parse(_ bytes: [UInt8]) -> Result<(op: String, body: [String: JSONValue]), Refusal> {
        guard let document = JSONValue.decode(bytes) else {
            return .failure(.init("request is not valid JSON: send one object like {\"op\":\"snapshot\"}"))
        }
        guard let body = document.object else {
            return .failure(.init("request must be a JSON object like {\"op\":\"snapshot\"}"))
        }
        guard let op = body["op"]?.string else {
            return .failure(.init("missing \"op\": one of \(operations.joined(separator: ", "))"))
        }
        return .success((op, body))
    }

    /// Checks the fields of `op`'s request `body`; `now` bounds durations (a silence
    /// must end before the last representable time) and checks relative times.
    public static func decode(op: String, _ body: [String: JSONValue], now: Int64) -> Result<ControlRequest, Refusal> {
        switch op {
        case "snapshot":
            guard let value = body["prefix"], value != .null else { return .success(.snapshot(prefix: nil)) }
            guard let prefix = value.string else { return .failure(.init("\"prefix\" must be a string")) }
            guard prefix.utf8.count <= OperatorRequest.maxText else {
                return .failure(.init("\"prefix\" is longer than \(OperatorRequest.maxText) bytes"))
            }
            return .success(.snapshot(prefix: prefix))
        case "stats": return .success(.stats)
        case "config": return .success(.config)
        case "alerts": return .success(.alerts)
        case "reload": return .success(.reload)
        case "health": return .success(.health)
        case "metrics": return .success(.metrics(handOver: body["hand_over"]?.bool == true))
        case "ack", "silence", "unsilence":
            return OperatorRequest.parse(op: op, body, now: now).map { .operatorAction($0) }
        case "history":
            return historyQuery(body, now: now).map { .history($0) }
        case "events":
            return eventsQuery(body, now: now).map { .events($0) }
        default:
            return .failure(.init("unknown op \"\(op)\": expected one of \(operations.joined(separator: ", "))"))
        }
    }

    /// ``parse(_:)`` then ``decode(op:_:now:)``.
    public static func decode(_ bytes: [UInt8], now: Int64) -> Result<ControlRequest, Refusal> {
        parse(bytes).flatMap { decode(op: $0.op, $0.body, now: now) }
    }

    private static func historyQuery(_ body: [String: JSONValue], now: Int64) -> Result<HistoryQuery, Refusal> {
        guard let kpi = body["kpi"]?.string, !kpi.isEmpty else {
            return .failure(field("kpi", "is missing: name the KPI, e.g. \"kpi\":\"etat_civil.attente_p90\""))
        }
        guard kpi.utf8.count <= OperatorRequest.maxText else {
            return .failure(field("kpi", "is longer than \(OperatorRequest.maxText) bytes"))
        }
        var query = HistoryQuery(kpi: kpi)
        if let value = body["group"], value != .null {
            guard let members = value.object else {
                return .failure(field("group", "must be an object of tag values, e.g. {\"site\":\"nord\"}"))
            }
            var group: [String: String] = [:]
            for (key, tag) in members {
                guard let text = tag.string else {
                    return .failure(field("group", "tag \"\(key)\" must have a string value"))
                }
                group[key] = text
            }
            query.group = group
        }
        switch (timePoint(body["from"], "from", now: now), timePoint(body["to"], "to", now: now)) {
        case (.failure(let refusal), _), (_, .failure(let refusal)): return .failure(refusal)
        case (.success(let from), .success(let to)):
            query.from = from
            query.to = to
        }
        if let value = body["step"], value != .null {
            if let text = value.string {
                guard let ns = DurationFormat.parse(text), ns > 0 else {
                    return .failure(field("step", DurationFormat.explain(text)))
                }
                query.step = ns
            } else if let seconds = value.integer, seconds > 0, seconds <= DurationFormat.maximum / 1_000_000_000 {
                query.step = seconds * 1_000_000_000
            } else {
                return .failure(
                    field("step", "must be a duration string such as \"1h\" or integer seconds, at most 100 years")
                )
            }
        }
        return .success(query)
    }

    private static func eventsQuery(_ body: [String: JSONValue], now: Int64) -> Result<EventsQuery, Refusal> {
        var query = EventsQuery()
        switch (timePoint(body["from"], "from", now: now), timePoint(body["to"], "to", now: now)) {
        case (.failure(let refusal), _), (_, .failure(let refusal)): return .failure(refusal)
        case (.success(let from), .success(let to)):
            query.from = from
            query.to = to
        }
        if let value = body["limit"], value != .null {
            guard let n = value.integer, n > 0, n <= Int64(maxEvents) else {
                return .failure(field("limit", "must be an integer from 1 to \(maxEvents)"))
            }
            query.limit = Int(n)
        }
        return .success(query)
    }

    /// A time field: integer ns or ``TimeArgument`` text; nil when absent.
    private static func timePoint(_ value: JSONValue?, _ name: String, now: Int64) -> Result<TimePoint?, Refusal> {
        guard let value, value != .null else { return .success(nil) }
        if let text = value.string {
            guard TimeArgument.parse(text, now: now) != nil else {
                return .failure(field(name, "\"\(text)\" is not a time: use \(TimeArgument.forms)"))
            }
            return .success(.text(text))
        }
        if let ns = value.integer { return .success(.nanoseconds(ns)) }
        return .failure(
            field(name, "must be integer nanoseconds since the epoch or a string: \(TimeArgument.forms)")
        )
    }

    /// `"field" message`, as history's own errors read.
    private static func field(_ name: String, _ message: String) -> Refusal {
        Refusal("\"\(name)\" \(message)")
    }
}
