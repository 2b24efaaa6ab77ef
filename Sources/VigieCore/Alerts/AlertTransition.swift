/// One change of an alert, returned by `AlertEvaluator` for the daemon to publish
/// (feed `alert.<rule>`), log and hand to notifiers.
///
/// Usually the phase changes (`from != to`). When only the flapping flag changes,
/// `from == to` and `reason` is `flapping`. Times are nanoseconds since the epoch.
public struct AlertTransition: Sendable, Equatable, Hashable {
    /// Rule name.
    public var rule: String
    /// KPI name.
    public var kpi: String
    /// The series' group tags; empty for an ungrouped KPI and for the KPI-level
    /// deadman alert.
    public var group: [TagPair]
    /// Phase before.
    public var from: AlertPhase
    /// Phase after.
    public var to: AlertPhase
    /// The value judged; `nil` for a deadman (absence) transition or when the
    /// transition came from the clock with no value seen yet.
    public var value: Double?
    /// The rule's threshold (`above`/`below`); `nil` for a pure deadman rule.
    public var threshold: Double?
    /// The rule's severity.
    public var severity: String
    /// The rule's message template, rendered for this transition.
    public var message: String
    /// When the current phase (`to`) began.
    public var since: Int64
    /// When the transition happened (the `now` it was computed at).
    public var at: Int64
    /// Whether the alert is flapping after this transition (notifications held).
    public var flapping: Bool
    /// Why: `threshold` (breach, pending or firing), `cleared` (condition gone),
    /// `absent` (deadman fired), `sample` (a sample ended an absence), `schedule`
    /// (the schedule closed), `flapping` (flapping started or stopped).
    public var reason: String

    /// A transition with every field given.
    public init(
        rule: String,
        kpi: String,
        group: [TagPair],
        from: AlertPhase,
        to: AlertPhase,
        value: Double?,
        threshold: Double?,
        severity: String,
        message: String,
        since: Int64,
        at: Int64,
        flapping: Bool,
        reason: String
    ) {
        self.rule = rule
        self.kpi = kpi
        self.group = group
        self.from = from
        self.to = to
        self.value = value
        self.threshold = threshold
        self.severity = severity
        self.message = message
        self.since = since
        self.at = at
        self.flapping = flapping
        self.reason = reason
    }
}
