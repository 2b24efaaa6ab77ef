/// The state of one rule on one KPI series (or of a rule's KPI-level deadman alert).
///
/// Owned by `AlertEvaluator`; a plain value, mutated in place.
struct AlertSeriesState: Sendable {
    /// The series' group tags (empty for the KPI-level alert).
    let group: [TagPair]
    var phase: AlertPhase = .inactive
    /// Start of the current phase.
    var since: Int64
    /// Last phase or flapping change.
    var lastTransitionAt: Int64
    /// Why the alert is pending or firing: `threshold` or `absent`.
    var cause = ""
    /// The last value judged (or `nil` after an absence fired).
    var value: Double?
    /// The latest input, judged again when a closed schedule opens.
    var input: (value: Double?, samples: Int)?
    /// When the evaluator first saw the series.
    let firstSeen: Int64
    /// Latest sample time reported for the series (`KPIValue.lastSampleAt`).
    var lastSampleAt: Int64?
    /// While firing: when the condition cleared (start of `keep_firing_for`).
    var clearedAt: Int64?
    /// Breach verdicts for flap detection; `nil` when the rule has none.
    var flap: FlapHistory?

    init(group: [TagPair], now: Int64, flap: FlapDetection?) {
        self.group = group
        since = now
        lastTransitionAt = now
        firstSeen = now
        self.flap = flap.map { FlapHistory(window: $0.window) }
    }

    var isFlapping: Bool { flap?.isFlapping ?? false }

    /// Pending or firing.
    var isActive: Bool { phase == .pending || phase == .firing }
}
