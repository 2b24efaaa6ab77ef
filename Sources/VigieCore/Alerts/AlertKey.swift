/// One alert: a rule on one series (its group's tags, in the KPI's `group_by` order).
/// The key of acknowledgments, of when an alert began firing and of reminders.
public struct AlertKey: Hashable, Sendable, Comparable {
    public var rule: String
    public var group: [TagPair]

    public init(rule: String, group: [TagPair]) {
        self.rule = rule
        self.group = group
    }

    /// By rule, then tag by tag (key, then value), a shorter group first: an order that
    /// does not depend on hashing (checkpoints list acknowledgments in it).
    public static func < (a: AlertKey, b: AlertKey) -> Bool {
        if a.rule != b.rule { return a.rule < b.rule }
        for (x, y) in zip(a.group, b.group) where x != y {
            return x.key != y.key ? x.key < y.key : x.value < y.value
        }
        return a.group.count < b.group.count
    }
}

/// What a person is told an alert is: `pending`, `firing` or `resolved` (DESIGN.md; a
/// pending alert that clears before `for` is reported as resolved).
public enum AlertState: String, Sendable, Equatable, Hashable, CaseIterable {
    case pending
    case firing
    case resolved

    /// The state a phase is reported as.
    public init(_ phase: AlertPhase) {
        switch phase {
        case .pending: self = .pending
        case .firing: self = .firing
        case .resolved, .inactive: self = .resolved
        }
    }
}

extension AlertFeedMessage {
    /// The alert this message is about.
    public var key: AlertKey { AlertKey(rule: rule, group: group) }
}
