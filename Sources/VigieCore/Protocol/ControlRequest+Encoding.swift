import Foundation

/// The wire form of a request, as clients send it (`vigie`): what ``ControlRequest``
/// decodes back to the same value. Durations go as duration text (`"2h"`), times as
/// given (integer nanoseconds or text), matchers as `{"key":…,"value":…}` objects.
extension ControlRequest: Encodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(op, forKey: Key("op"))
        switch self {
        case .snapshot(let prefix):
            try c.encodeIfPresent(prefix, forKey: Key("prefix"))
        case .metrics(let handOver):
            if handOver { try c.encode(true, forKey: Key("hand_over")) }
        case .stats, .config, .alerts, .reload, .health:
            break
        case .operatorAction(.ack(let rule, let group, let by, let comment)):
            try c.encode(rule, forKey: Key("rule"))
            if !group.isEmpty { try c.encode(group, forKey: Key("group")) }
            try c.encode(by, forKey: Key("by"))
            try c.encode(comment, forKey: Key("comment"))
        case .operatorAction(.silence(let matchers, let duration, let by, let comment)):
            try c.encode(matchers.map { ["key": $0.key, "value": $0.value] }, forKey: Key("matchers"))
            try c.encode(DurationFormat.format(nanoseconds: duration), forKey: Key("for"))
            try c.encode(by, forKey: Key("by"))
            try c.encode(comment, forKey: Key("comment"))
        case .operatorAction(.unsilence(let id)):
            try c.encode(id, forKey: Key("id"))
        case .history(let query):
            try c.encode(query.kpi, forKey: Key("kpi"))
            try c.encodeIfPresent(query.group, forKey: Key("group"))
            try Self.encode(query.from, "from", into: &c)
            try Self.encode(query.to, "to", into: &c)
            if let step = query.step { try c.encode(DurationFormat.format(nanoseconds: step), forKey: Key("step")) }
        case .events(let query):
            try Self.encode(query.from, "from", into: &c)
            try Self.encode(query.to, "to", into: &c)
            try c.encode(query.limit, forKey: Key("limit"))
        }
    }

    private static func encode(_ point: TimePoint?, _ name: String, into c: inout KeyedEncodingContainer<Key>) throws {
        switch point {
        case .nanoseconds(let ns)?: try c.encode(ns, forKey: Key(name))
        case .text(let text)?: try c.encode(text, forKey: Key(name))
        case nil: break
        }
    }

    /// The request as one JSON object (keys sorted, so the same request is the same bytes).
    public var jsonBytes: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every value is a string, an integer, a boolean or a list or map of strings:
        // encoding cannot fail.
        return (try? encoder.encode(self)).map { Array($0) } ?? Array(#"{"op":"\#(op)"}"#.utf8)
    }
}
