/// An alert rule, as configured by an `[[alert]]` table: a condition on one KPI,
/// evaluated separately for each of its series (group).
///
/// Durations are nanoseconds. A rule has a threshold (`comparison`), a deadman
/// (`absentFor`), or both. See `AlertEvaluator` for how each option acts.
public struct AlertRule: Sendable, Equatable, Hashable {
    /// Unique rule name; the feed topic is `alert.<name>`.
    public var name: String
    /// Name of the KPI the rule watches (`KPIDefinition.name`).
    public var kpi: String
    /// The threshold condition; `nil` for a pure deadman rule (`absentFor` only).
    public var comparison: AlertComparison?
    /// How long the condition must hold before the alert fires, in ns; while it
    /// has not, the alert is pending. `0` fires at once.
    public var forDuration: Int64
    /// Hysteresis: a firing alert resolves only once the value is past this
    /// (`clear_below` of an `above` rule, `clear_above` of a `below` rule); `nil`
    /// resolves as soon as the condition stops holding.
    public var clearThreshold: Double?
    /// How long a firing alert stays firing after its condition cleared, in ns; a
    /// new breach in that time keeps it firing without a transition.
    public var keepFiringFor: Int64
    /// Fewest samples in the KPI's window for a verdict; a value with fewer samples
    /// (or no value at all) leaves the alert as it is.
    public var minSamples: Int
    /// Deadman, in ns: a series that got no sample for this long fires (value `nil`,
    /// reason `absent`), and so does the KPI as a whole (empty group) when no
    /// series at all appeared this long after start. `nil` = off.
    public var absentFor: Int64?
    /// Flap detection; `nil` = off.
    public var flap: FlapDetection?
    /// Free-form severity, `info`, `warning` (default) or `critical` from the config.
    public var severity: String
    /// Message template; see `AlertMessage.render` for the placeholders.
    public var message: String
    /// Evaluate only inside this weekly window (local time); `nil` = always.
    public var schedule: AlertSchedule?

    /// The message of a rule that sets none.
    public static let defaultMessage = "{kpi} {value} (seuil {threshold})"

    /// A rule; every option defaults to off (`for` 0, no hysteresis, no deadman…).
    public init(
        name: String,
        kpi: String,
        comparison: AlertComparison? = nil,
        forDuration: Int64 = 0,
        clearThreshold: Double? = nil,
        keepFiringFor: Int64 = 0,
        minSamples: Int = 0,
        absentFor: Int64? = nil,
        flap: FlapDetection? = nil,
        severity: String = "warning",
        message: String = AlertRule.defaultMessage,
        schedule: AlertSchedule? = nil
    ) {
        self.name = name
        self.kpi = kpi
        self.comparison = comparison
        self.forDuration = forDuration
        self.clearThreshold = clearThreshold
        self.keepFiringFor = keepFiringFor
        self.minSamples = minSamples
        self.absentFor = absentFor
        self.flap = flap
        self.severity = severity
        self.message = message
        self.schedule = schedule
    }
}
