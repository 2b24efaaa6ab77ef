/// Monotonic counters of one KPI since the engine was created.
public struct KPICounters: Sendable, Equatable {
    /// KPI name.
    public var kpi: String
    /// (sample, series) applications: samples that landed in a window.
    public var applied: Int = 0
    /// Samples selected by the KPI but older than its window (or `lateness`): not applied.
    public var late: Int = 0
    /// Samples dropped because they would have created a series beyond `maxSeries`.
    public var seriesOverflow: Int = 0
    /// Selected fields holding a string: ignored.
    public var nonNumeric: Int = 0
    /// Selected fields holding NaN or ±∞ (rejected upstream; ignored here too).
    public var nonFinite: Int = 0
    /// Series currently held (not monotonic: a gauge).
    public var series: Int = 0

    /// Zeroed counters for KPI `kpi`.
    public init(kpi: String) {
        self.kpi = kpi
    }
}

/// The engine's counters since it was created: totals and one `KPICounters` per KPI.
///
/// All monotonic except `series`. Read with `KPIEngine.counters` (allocates; not per sample).
public struct EngineCounters: Sendable, Equatable {
    /// Lines passed to `apply`.
    public var lines: Int = 0
    /// Lines whose measurement, field and `where` filters matched no KPI selector.
    public var unmatchedLines: Int = 0
    /// Σ `applied` over KPIs.
    public var applied: Int = 0
    /// Σ `late` over KPIs.
    public var late: Int = 0
    /// Σ `seriesOverflow` over KPIs.
    public var seriesOverflow: Int = 0
    /// Σ `nonNumeric` over KPIs.
    public var nonNumeric: Int = 0
    /// Σ `nonFinite` over KPIs.
    public var nonFinite: Int = 0
    /// Series held, all KPIs together.
    public var series: Int = 0
    /// Per KPI, in definition order.
    public var perKPI: [KPICounters] = []

    /// Zeroed counters.
    public init() {}
}
