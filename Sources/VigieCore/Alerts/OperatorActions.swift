/// One condition of a silence: `rule`, `kpi` and `severity` match those fields of an
/// alert; any other key matches the alert's group tag of that name. A value ending in
/// `*` matches by prefix.
public struct AlertMatcher: Sendable, Equatable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `key=value`; `nil` when either side is empty.
    public init?(parsing text: String) {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        let key = String(text[..<eq])
        let value = String(text[text.index(after: eq)...])
        guard !key.isEmpty, !value.isEmpty else { return nil }
        self.init(key: key, value: value)
    }

    /// True when the alert described by the arguments satisfies this matcher.
    public func matches(rule: String, kpi: String, severity: String, group: [TagPair]) -> Bool {
        let actual: String?
        switch key {
        case "rule": actual = rule
        case "kpi": actual = kpi
        case "severity": actual = severity
        default: actual = group.first { $0.key == key }?.value
        }
        guard let actual else { return false }
        if value.hasSuffix("*") { return actual.hasPrefix(value.dropLast()) }
        return actual == value
    }

    /// `key=value`.
    public var description: String { "\(key)=\(value)" }
}

/// An operator's decision to mute notifications for matching alerts until `endsAt`.
public struct AlertSilence: Sendable, Equatable {
    /// Short id, e.g. `s-3`, used by `vigie unsilence`.
    public var id: String
    /// All must match.
    public var matchers: [AlertMatcher]
    public var startsAt: Int64
    public var endsAt: Int64
    /// Who and why.
    public var createdBy: String
    public var comment: String

    public init(
        id: String,
        matchers: [AlertMatcher],
        startsAt: Int64,
        endsAt: Int64,
        createdBy: String,
        comment: String
    ) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.comment = comment
    }

    /// True while active at `now` and every matcher matches.
    public func covers(rule: String, kpi: String, severity: String, group: [TagPair], now: Int64) -> Bool {
        now >= startsAt && now < endsAt
            && matchers.allSatisfy { $0.matches(rule: rule, kpi: kpi, severity: severity, group: group) }
    }
}

/// An operator's acknowledgment of one alert (rule and group): who, when and why.
/// It lasts until the alert resolves.
public struct AlertAcknowledgment: Sendable, Equatable {
    public var rule: String
    public var group: [TagPair]
    public var by: String
    public var comment: String
    public var at: Int64

    public init(rule: String, group: [TagPair], by: String, comment: String, at: Int64) {
        self.rule = rule
        self.group = group
        self.by = by
        self.comment = comment
        self.at = at
    }
}

/// Where acknowledgments and silences are kept.
///
/// In memory; `InMemoryOperatorActionStore` survives restarts through checkpoints
/// (`encodeState(into:)`, `restoreState(from:)`). Engine thread only.
public protocol OperatorActionStore: AnyObject {
    func acknowledge(_ ack: AlertAcknowledgment)
    func acknowledgment(rule: String, group: [TagPair]) -> AlertAcknowledgment?
    func clearAcknowledgment(rule: String, group: [TagPair])
    func addSilence(
        matchers: [AlertMatcher],
        startsAt: Int64,
        endsAt: Int64,
        by: String,
        comment: String
    ) -> AlertSilence
    func removeSilence(id: String) -> AlertSilence?
    func silences(now: Int64) -> [AlertSilence]
}

extension OperatorActionStore {
    /// The first active silence covering the alert, if any.
    public func silence(rule: String, kpi: String, severity: String, group: [TagPair], now: Int64) -> AlertSilence? {
        silences(now: now).first { $0.covers(rule: rule, kpi: kpi, severity: severity, group: group, now: now) }
    }
}

/// The in-memory `OperatorActionStore`.
public final class InMemoryOperatorActionStore: OperatorActionStore {
    // Internal, not private, for `InMemoryOperatorActionStore+State.swift`.
    /// Acknowledgments by alert.
    var acks: [AlertKey: AlertAcknowledgment] = [:]
    /// Silences, in order of creation.
    var all: [AlertSilence] = []
    /// Number of the next silence id (`s-<n>`).
    var nextID = 1

    public init() {}

    public func acknowledge(_ ack: AlertAcknowledgment) {
        acks[AlertKey(rule: ack.rule, group: ack.group)] = ack
    }

    public func acknowledgment(rule: String, group: [TagPair]) -> AlertAcknowledgment? {
        acks[AlertKey(rule: rule, group: group)]
    }

    public func clearAcknowledgment(rule: String, group: [TagPair]) {
        acks[AlertKey(rule: rule, group: group)] = nil
    }

    public func addSilence(
        matchers: [AlertMatcher],
        startsAt: Int64,
        endsAt: Int64,
        by: String,
        comment: String
    ) -> AlertSilence {
        let silence = AlertSilence(
            id: "s-\(nextID)",
            matchers: matchers,
            startsAt: startsAt,
            endsAt: endsAt,
            createdBy: by,
            comment: comment
        )
        nextID += 1
        all.append(silence)
        return silence
    }

    public func removeSilence(id: String) -> AlertSilence? {
        guard let index = all.firstIndex(where: { $0.id == id }) else { return nil }
        return all.remove(at: index)
    }

    /// Silences not yet expired at `now` (expired ones are dropped).
    public func silences(now: Int64) -> [AlertSilence] {
        all.removeAll { $0.endsAt <= now }
        return all
    }
}
