/// What a history event records.
public enum HistoryEventKind: String, Sendable, Equatable, Hashable, CaseIterable {
    /// An alert transition (`pending`, `firing`, `resolved`).
    case alert
    /// An operator acknowledged an alert.
    case ack
    /// An operator silenced matching alerts.
    case silence
    /// An operator removed a silence.
    case unsilence
}

/// One alert transition or operator action, kept in history for the monthly review
/// ("who acknowledged what, when, and why").
///
/// Plain strings and numbers so that later versions can add kinds without a schema
/// change; what does not fit a column goes in `payload`, a JSON object.
public struct HistoryEvent: Sendable, Equatable {
    /// Row id assigned by the store (increasing); `nil` before it is written.
    public var id: Int64?
    /// When it happened, ns since the epoch.
    public var ts: Int64
    public var kind: HistoryEventKind
    /// Alert rule name (alerts and acks).
    public var rule: String?
    /// KPI name.
    public var kpi: String?
    /// The alert's group tags, in `group_by` order (empty when not about one series).
    public var group: [TagPair]
    /// Alert state after the transition: `pending`, `firing`, `resolved`.
    public var state: String?
    /// Rule severity: `info`, `warning`, `critical`.
    public var severity: String?
    /// The value judged.
    public var value: Double?
    /// The rule's threshold.
    public var threshold: Double?
    /// Who acted (acks, silences).
    public var actor: String?
    /// Why, as the operator wrote it.
    public var comment: String?
    /// Anything else, as the text of one JSON object (e.g. `{"silence_id":"s-1"}`);
    /// `nil` for none.
    public var payload: String?

    /// An event with every field given; `id` is the store's.
    public init(
        id: Int64? = nil,
        ts: Int64,
        kind: HistoryEventKind,
        rule: String? = nil,
        kpi: String? = nil,
        group: [TagPair] = [],
        state: String? = nil,
        severity: String? = nil,
        value: Double? = nil,
        threshold: Double? = nil,
        actor: String? = nil,
        comment: String? = nil,
        payload: String? = nil
    ) {
        self.id = id
        self.ts = ts
        self.kind = kind
        self.rule = rule
        self.kpi = kpi
        self.group = group
        self.state = state
        self.severity = severity
        self.value = value
        self.threshold = threshold
        self.actor = actor
        self.comment = comment
        self.payload = payload
    }
}

extension HistoryEvent {
    /// The event of an alert transition as published on the feed (`ts` is the
    /// message's); the payload keeps `message`, `reason`, `since` and `flapping`.
    public init(alert message: AlertFeedMessage) {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("message")
        w.string(message.message)
        w.key("reason")
        w.string(message.reason)
        w.key("since")
        w.timestamp(nanoseconds: message.since)
        w.key("flapping")
        w.bool(message.flapping)
        w.endObject()
        self.init(
            ts: message.ts,
            kind: .alert,
            rule: message.rule,
            kpi: message.kpi,
            group: message.group,
            state: message.state.rawValue,
            severity: message.severity,
            value: message.value,
            threshold: message.threshold,
            payload: w.string
        )
    }

    /// The event of an acknowledgment of `kpi`'s alert `ack.rule`.
    public init(acknowledgment ack: AlertAcknowledgment, kpi: String?) {
        self.init(
            ts: ack.at,
            kind: .ack,
            rule: ack.rule,
            kpi: kpi,
            group: ack.group,
            actor: ack.by,
            comment: ack.comment
        )
    }

    /// The event of a new silence (at its start); the payload keeps its id, matchers
    /// and end.
    public init(silence: AlertSilence) {
        self.init(
            ts: silence.startsAt,
            kind: .silence,
            actor: silence.createdBy,
            comment: silence.comment,
            payload: Self.payload(of: silence)
        )
    }

    /// The event of `silence` removed at `at` (by `actor` when known).
    public init(unsilence silence: AlertSilence, at: Int64, actor: String? = nil) {
        self.init(ts: at, kind: .unsilence, actor: actor, payload: Self.payload(of: silence))
    }

    private static func payload(of silence: AlertSilence) -> String {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("silence_id")
        w.string(silence.id)
        w.key("matchers")
        w.beginArray()
        for m in silence.matchers { w.string(m.description) }
        w.endArray()
        w.key("ends_at")
        w.timestamp(nanoseconds: silence.endsAt)
        w.endObject()
        return w.string
    }
}
