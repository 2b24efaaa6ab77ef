import Foundation

/// The history events of logged records: an alert transition (logged as its feed body)
/// and an operator action (logged as its control request). Decoded with the same typed
/// values as control requests; `payload` is canonical JSON (sorted keys).
extension HistoryEvent {
    /// The event of an alert transition logged as its feed body; nil when the body is not one.
    public init?(alertFeedBody body: UnsafeRawBufferPointer) {
        guard let object = JSONValue.decode(Array(body))?.object,
            let tsText = object["ts"]?.string, let ts = Timestamps.parseRFC3339(tsText)
        else { return nil }
        var payload: [String: JSONValue] = [:]
        for key in ["message", "reason", "since", "flapping"] { payload[key] = object[key] }
        self.init(
            ts: ts,
            kind: .alert,
            rule: object["rule"]?.string,
            kpi: object["kpi"]?.string,
            group: Self.tags(object["group"]),
            state: object["state"]?.string,
            severity: object["severity"]?.string,
            value: object["value"]?.double,
            threshold: object["threshold"]?.double,
            payload: Self.json(payload)
        )
    }

    /// The event of an operator action logged as its control request, at `ts`; nil for
    /// anything else.
    public init?(operatorRequest request: UnsafeRawBufferPointer, at ts: Int64) {
        guard let object = JSONValue.decode(Array(request))?.object, let op = object["op"]?.string else { return nil }
        switch op {
        case "ack":
            self.init(
                ts: ts,
                kind: .ack,
                rule: object["rule"]?.string,
                group: Self.tags(object["group"]),
                actor: object["by"]?.string,
                comment: object["comment"]?.string
            )
        case "silence":
            var payload: [String: JSONValue] = [:]
            payload["matchers"] = object["matchers"]
            payload["for"] = object["for"]
            self.init(
                ts: ts,
                kind: .silence,
                actor: object["by"]?.string,
                comment: object["comment"]?.string,
                payload: Self.json(payload)
            )
        case "unsilence":
            self.init(
                ts: ts,
                kind: .unsilence,
                actor: object["by"]?.string,
                payload: Self.json(["silence_id": object["id"] ?? .string("")])
            )
        default:
            return nil
        }
    }

    private static func tags(_ value: JSONValue?) -> [TagPair] {
        guard let object = value?.object else { return [] }
        return object.keys.sorted().compactMap { key in object[key]?.string.map { TagPair(key: key, value: $0) } }
    }

    private static func json(_ object: [String: JSONValue]) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
