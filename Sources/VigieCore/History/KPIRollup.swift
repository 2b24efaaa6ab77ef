/// One minute of one KPI series, as `RollupAccumulator.drain()` hands it to the
/// history store.
public struct KPIRollup: Sendable {
    /// KPI name (`KPIDefinition.name`).
    public var kpi: String
    /// The series' `group_by` tags, in `group_by` order; a tag the lines lacked has
    /// the empty value. Empty for an ungrouped KPI.
    public var group: [TagPair]
    /// Start of the minute, ns since the epoch (a multiple of 60 s).
    public var minute: Int64
    /// What the minute's samples add up to.
    public var stats: MinuteRollup

    /// A rollup with every field given.
    public init(kpi: String, group: [TagPair], minute: Int64, stats: MinuteRollup) {
        self.kpi = kpi
        self.group = group
        self.minute = minute
        self.stats = stats
    }
}

/// Nanoseconds in a minute and an hour, the two resolutions of history.
public enum HistoryResolution: Int64, Sendable, Equatable, Hashable {
    /// Minute rows (kept for `[history] minutes`).
    case minute = 60_000_000_000
    /// Hour rows (kept for `[history] hours`).
    case hour = 3_600_000_000_000

    /// `minute` or `hour`, as in replies.
    public var name: String { self == .minute ? "minute" : "hour" }

    /// The start of the period of this resolution that contains `time` (floor, also
    /// for times before the epoch; the first period that `Int64` can start, for times
    /// before it, in 1677).
    public func start(of time: Int64) -> Int64 {
        let size = rawValue
        let q = time / size
        guard time % size < 0 else { return q * size }
        let (start, overflow) = (q - 1).multipliedReportingOverflow(by: size)
        return overflow ? q * size : start
    }
}
