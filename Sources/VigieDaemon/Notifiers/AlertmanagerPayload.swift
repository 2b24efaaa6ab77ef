import VigieCore

/// The body of an Alertmanager webhook (version 4) for one transition, so existing
/// Alertmanager receivers accept Vigie's notifications.
///
/// Labels are `alertname` (the rule), `kpi`, `severity` and the group tags; annotations
/// `summary` (the rendered message), `value` and `threshold`. A firing or pending
/// alert has `endsAt` `0001-01-01T00:00:00Z`; a resolved one ends when it resolved.
enum AlertmanagerPayload {
    static func labels(of m: AlertFeedMessage) -> [(String, String)] {
        var labels = [("alertname", m.rule), ("kpi", m.kpi), ("severity", m.severity)]
        for pair in m.group where !["alertname", "kpi", "severity"].contains(pair.key) {
            labels.append((pair.key, pair.value))
        }
        return labels
    }

    static func annotations(of m: AlertFeedMessage) -> [(String, String)] {
        [
            ("summary", m.message), ("value", m.value.map(AlertMessage.format) ?? ""),
            ("threshold", m.threshold.map(AlertMessage.format) ?? ""),
        ]
    }

    /// 16 hex digits of FNV-1a 64 over the sorted labels: stable per rule and series.
    static func fingerprint(_ labels: [(String, String)]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (key, value) in labels.sorted(by: { $0.0 < $1.0 }) {
            for byte in Array(key.utf8) + [0xFF] + Array(value.utf8) + [0xFE] {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The JSON body for `event`, sent by the notifier named `receiver`.
    static func encode(_ event: NotifierEvent, receiver: String) -> [UInt8] {
        let m = event.message
        let status = m.state == .resolved ? "resolved" : "firing"
        let labels = labels(of: m)
        let annotations = annotations(of: m)
        var w = JSONWriter(capacity: 2_048)
        func object(_ pairs: [(String, String)]) {
            w.beginObject()
            for (key, value) in pairs {
                w.key(key)
                w.string(value)
            }
            w.endObject()
        }
        w.beginObject()
        w.key("version")
        w.string("4")
        w.key("groupKey")
        w.string("{}:{alertname=\"\(m.rule)\"}")
        w.key("truncatedAlerts")
        w.integer(0)
        w.key("status")
        w.string(status)
        w.key("receiver")
        w.string(receiver)
        w.key("groupLabels")
        object([("alertname", m.rule)])
        w.key("commonLabels")
        object(labels)
        w.key("commonAnnotations")
        object(annotations)
        w.key("externalURL")
        w.string("")
        w.key("alerts")
        w.beginArray()
        w.beginObject()
        w.key("status")
        w.string(status)
        w.key("labels")
        object(labels)
        w.key("annotations")
        object(annotations)
        w.key("startsAt")
        w.timestamp(nanoseconds: event.startsAt)
        w.key("endsAt")
        w.string(status == "resolved" ? Timestamps.rfc3339(nanoseconds: m.since) : "0001-01-01T00:00:00Z")
        w.key("generatorURL")
        w.string("")
        w.key("fingerprint")
        w.string(fingerprint(labels))
        w.endObject()
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
