/// The body of an `alert.<rule>` feed message and of an entry of the `alerts` control op.
public struct AlertFeedMessage: Sendable, Equatable {
    public var rule: String
    public var kpi: String
    public var group: [TagPair]
    /// `pending`, `firing` or `resolved` (a pending alert that clears is `resolved`).
    public var state: AlertState
    public var severity: String
    public var value: Double?
    public var threshold: Double?
    /// When the current state began (ns).
    public var since: Int64
    public var message: String
    public var reason: String
    public var flapping: Bool
    public var acknowledgment: AlertAcknowledgment?
    public var silence: AlertSilence?
    /// When this message was made (ns).
    public var ts: Int64

    public init(
        rule: String,
        kpi: String,
        group: [TagPair],
        state: AlertState,
        severity: String,
        value: Double?,
        threshold: Double?,
        since: Int64,
        message: String,
        reason: String,
        flapping: Bool,
        acknowledgment: AlertAcknowledgment?,
        silence: AlertSilence?,
        ts: Int64
    ) {
        self.rule = rule
        self.kpi = kpi
        self.group = group
        self.state = state
        self.severity = severity
        self.value = value
        self.threshold = threshold
        self.since = since
        self.message = message
        self.reason = reason
        self.flapping = flapping
        self.acknowledgment = acknowledgment
        self.silence = silence
        self.ts = ts
    }

    /// Writes the members (without braces), byte-exact, shared by feed and control.
    public func writeMembers(into w: inout JSONWriter) {
        w.key("type")
        w.string("alert")
        w.key("rule")
        w.string(rule)
        w.key("kpi")
        w.string(kpi)
        w.key("group")
        w.beginObject()
        for pair in group {
            w.key(pair.key)
            w.string(pair.value)
        }
        w.endObject()
        w.key("state")
        w.string(state.rawValue)
        w.key("severity")
        w.string(severity)
        w.key("value")
        w.number(value)
        w.key("threshold")
        w.number(threshold)
        w.key("since")
        w.timestamp(nanoseconds: since)
        w.key("message")
        w.string(message)
        w.key("reason")
        w.string(reason)
        w.key("flapping")
        w.bool(flapping)
        w.key("acknowledged")
        w.bool(acknowledgment != nil)
        w.key("acknowledged_by")
        if let a = acknowledgment { w.string(a.by) } else { w.null() }
        w.key("ack_comment")
        if let a = acknowledgment { w.string(a.comment) } else { w.null() }
        w.key("silenced")
        w.bool(silence != nil)
        w.key("silence_id")
        if let s = silence { w.string(s.id) } else { w.null() }
        w.key("silenced_until")
        if let s = silence { w.timestamp(nanoseconds: s.endsAt) } else { w.null() }
        w.key("ts")
        w.timestamp(nanoseconds: ts)
    }

    /// A full feed body with `seq` and `epoch`.
    public func encode(seq: UInt64, epoch: String, into w: inout JSONWriter) {
        w.reset()
        w.beginObject()
        writeMembers(into: &w)
        w.key("seq")
        w.integer(seq)
        w.key("epoch")
        w.string(epoch)
        w.endObject()
    }
}
