/// Everything `AlertEvaluator` keeps for one rule: its series' states, its KPI-level
/// deadman state and its schedule.
struct AlertRuleState: Sendable {
    let rule: AlertRule
    /// Series states in the order the series were first seen.
    var series: [AlertSeriesState] = []
    /// Position in `series` of each group.
    var index: [[TagPair]: Int] = [:]
    /// The KPI-level deadman alert, once it fired.
    var kpiLevel: AlertSeriesState?
    /// Whether any series of the KPI was seen since start.
    var sawSeries = false
    /// Whether the schedule is open (always true without a schedule).
    var scheduleOpen: Bool
    /// When the schedule last opened (the evaluator's start when open from the start, or
    /// closed then): where the KPI-level deadman counts from.
    var openSince: Int64
    /// The UTC minute `cachedOpen` was computed for.
    var cachedMinute: Int64 = .min
    /// `schedule.isActive` during `cachedMinute`.
    var cachedOpen = false

    init(rule: AlertRule, open: Bool, now: Int64) {
        self.rule = rule
        scheduleOpen = open
        openSince = now
    }
}
