/// One step of one KPI series in a history query: the KPI's aggregate recomputed over
/// the step from the merged rollups.
public struct HistoryPoint: Sendable, Equatable {
    /// Start of the step, ns since the epoch.
    public var ts: Int64
    /// The series' `group_by` tags, in `group_by` order.
    public var group: [TagPair]
    /// The aggregate over the step; `nil` when the step has no data (or nothing to
    /// divide by, see `MinuteRollup.value(of:rateSeconds:)`).
    public var value: Double?
    /// Samples in the step (for a ratio: denominator samples).
    public var samples: Int

    /// A point with every field given.
    public init(ts: Int64, group: [TagPair], value: Double?, samples: Int) {
        self.ts = ts
        self.group = group
        self.value = value
        self.samples = samples
    }
}
