/// A pending or firing alert, as listed by the `alerts` control op and snapshots.
public struct ActiveAlert: Sendable, Equatable, Hashable {
    /// Rule name.
    public var rule: String
    /// KPI name.
    public var kpi: String
    /// Group tags of the series; empty for an ungrouped KPI or the KPI-level deadman.
    public var group: [TagPair]
    /// `pending` or `firing`.
    public var phase: AlertPhase
    /// The rule's severity.
    public var severity: String
    /// The last value judged; `nil` when firing for absence.
    public var value: Double?
    /// The rule's threshold; `nil` for a pure deadman rule.
    public var threshold: Double?
    /// When the current phase began, ns since the epoch.
    public var since: Int64
    /// The rule's message rendered with the current value and phase.
    public var message: String
    /// Whether the alert is flapping (notifications held).
    public var flapping: Bool
    /// When the alert last changed (phase or flapping), ns since the epoch.
    public var lastTransitionAt: Int64
    /// Why it is in this phase: `threshold` or `absent`.
    public var reason: String

    /// An active alert with every field given.
    public init(
        rule: String,
        kpi: String,
        group: [TagPair],
        phase: AlertPhase,
        severity: String,
        value: Double?,
        threshold: Double?,
        since: Int64,
        message: String,
        flapping: Bool,
        lastTransitionAt: Int64,
        reason: String
    ) {
        self.rule = rule
        self.kpi = kpi
        self.group = group
        self.phase = phase
        self.severity = severity
        self.value = value
        self.threshold = threshold
        self.since = since
        self.message = message
        self.flapping = flapping
        self.lastTransitionAt = lastTransitionAt
        self.reason = reason
    }
}
