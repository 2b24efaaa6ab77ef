/// A mutating control request (`ack`, `silence`, `unsilence`), decoded and checked in
/// full before the daemon writes it to its log: every value that came from outside is
/// bounded here, so carrying it out (now, or when the log is replayed) cannot trap.
/// Pure; the daemon adds the checks that need its state (an alert to acknowledge, a
/// silence to remove).
public enum OperatorRequest: Equatable, Sendable {
    /// Acknowledge the active alerts of `rule` whose group has every tag of `group`.
    case ack(rule: String, group: [String: String], by: String, comment: String)
    /// Mute matching alerts for `duration` ns from now.
    case silence(matchers: [AlertMatcher], duration: Int64, by: String, comment: String)
    /// Remove silence `id`.
    case unsilence(id: String)

    /// Why a request was refused: the error text of the reply.
    public struct Refusal: Error, Equatable, Sendable {
        /// The error text of the reply.
        public let message: String

        /// A refusal saying `message`.
        public init(_ message: String) {
            self.message = message
        }
    }

    /// The longest text accepted for a name, id or comment (bytes).
    public static let maxText = 4_096

    /// The op's name.
    public var op: String {
        switch self {
        case .ack: "ack"
        case .silence: "silence"
        case .unsilence: "unsilence"
        }
    }

    /// Decodes `object` (a parsed JSON request) for `op`. `now` is the time the request
    /// is carried out at: a silence must end before the largest representable time.
    public static func parse(op: String, _ object: [String: JSONValue], now: Int64) -> Result<OperatorRequest, Refusal>
    {
        switch op {
        case "ack": return ack(object)
        case "silence": return silence(object, now: now)
        case "unsilence":
            guard let id = object["id"]?.string, !id.isEmpty else {
                return .failure(.init("unsilence needs \"id\""))
            }
            guard id.utf8.count <= 128 else { return .failure(.init("\"id\" is too long: silence ids are short")) }
            return .success(.unsilence(id: id))
        default:
            return .failure(.init("unknown operator op \"\(op)\""))
        }
    }

    private static func ack(_ object: [String: JSONValue]) -> Result<OperatorRequest, Refusal> {
        guard let rule = object["rule"]?.string, !rule.isEmpty else { return .failure(.init("ack needs \"rule\"")) }
        guard let by = object["by"]?.string, !by.isEmpty else {
            return .failure(.init("ack needs \"by\": who acknowledges"))
        }
        var group: [String: String] = [:]
        if let given = object["group"] {
            guard let tags = given.object else {
                return .failure(.init("\"group\" must be an object of tag values"))
            }
            for (key, value) in tags {
                guard let text = value.string else {
                    return .failure(.init("group tag \(JSONText.quoted(key)) must be a string"))
                }
                group[key] = text
            }
        }
        guard let comment = comment(object) else { return .failure(.init("\"comment\" must be a string")) }
        if let problem = tooLong(["rule": rule, "by": by, "comment": comment]) { return .failure(problem) }
        return .success(.ack(rule: rule, group: group, by: by, comment: comment))
    }

    private static func silence(_ object: [String: JSONValue], now: Int64) -> Result<OperatorRequest, Refusal> {
        guard let by = object["by"]?.string, !by.isEmpty else {
            return .failure(.init("silence needs \"by\": who silences"))
        }
        guard let list = object["matchers"]?.array, !list.isEmpty else {
            return .failure(.init("silence needs \"matchers\": [{\"key\":\"rule\",\"value\":\"…\"}] or [\"rule=…\"]"))
        }
        guard list.count <= 64 else { return .failure(.init("a silence has at most 64 matchers")) }
        var matchers: [AlertMatcher] = []
        for item in list {
            if let text = item.string, let m = AlertMatcher(parsing: text) {
                matchers.append(m)
            } else if let key = item["key"]?.string, let value = item["value"]?.string, !key.isEmpty, !value.isEmpty {
                matchers.append(AlertMatcher(key: key, value: value))
            } else {
                return .failure(.init("each matcher must be \"key=value\" or {\"key\":…,\"value\":…}"))
            }
        }
        guard let text = object["for"]?.string else {
            return .failure(.init("silence needs \"for\": a duration such as \"2h\""))
        }
        guard let duration = DurationFormat.parse(text), duration > 0 else {
            return .failure(.init("silence \"for\": \(DurationFormat.explain(text))"))
        }
        guard !now.addingReportingOverflow(duration).overflow else {
            return .failure(.init("silence \"for\": \(text) from now ends after the last representable time"))
        }
        guard let comment = comment(object) else { return .failure(.init("\"comment\" must be a string")) }
        if let problem = tooLong(["by": by, "comment": comment]) { return .failure(problem) }
        return .success(.silence(matchers: matchers, duration: duration, by: by, comment: comment))
    }

    /// The optional `comment`: "" when absent or null, nil when not a string.
    private static func comment(_ object: [String: JSONValue]) -> String? {
        guard let value = object["comment"], value != .null else { return "" }
        return value.string
    }

    private static func tooLong(_ fields: KeyValuePairs<String, String>) -> Refusal? {
        for (name, value) in fields where value.utf8.count > maxText {
            return Refusal("\"\(name)\" is longer than \(maxText) bytes")
        }
        return nil
    }
}
