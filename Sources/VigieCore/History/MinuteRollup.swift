/// The statistics of one KPI series over one minute of event time: what history keeps
/// so that any aggregate can be recomputed later over any span of whole minutes.
///
/// The engine's own ``AggregateAccumulator`` (count, sum, min, max, last, `share`
/// hits, a ratio's sums) and, for quantile KPIs, a quantile sketch. Rollups merge
/// losslessly (`merge`): an hour row is the merge of its minutes, a query step the
/// merge of its rows, and the result is what one rollup fed every sample would hold
/// (sums up to floating-point rounding). A value type owned by one thread at a time.
@dynamicMemberLookup
public struct MinuteRollup: Sendable {
    /// Count, sum, min, max, last, `share` hits and a ratio's sums (`rollup.count`
    /// reads `totals.count`).
    public var totals = AggregateAccumulator()
    /// The values' quantile sketch, for quantile KPIs only (`nil` otherwise).
    public var sketch: QuantileSketch?

    /// An empty rollup; `withSketch` for a quantile KPI.
    public init(withSketch: Bool = false) {
        sketch = withSketch ? QuantileSketch() : nil
    }

    /// The statistics of ``totals`` by name.
    public subscript<T>(dynamicMember field: WritableKeyPath<AggregateAccumulator, T>) -> T {
        get { totals[keyPath: field] }
        set { totals[keyPath: field] = newValue }
    }

    /// True when nothing was added or merged.
    public var isEmpty: Bool { totals.isEmpty }

    /// Adds one value at event time `timestamp`; `hit` says whether it counts for
    /// `share`. The sketch, when there is one, takes the value too. O(1).
    public mutating func add(_ value: Double, at timestamp: Int64, hit: Bool) {
        totals.add(value, at: timestamp, hit: hit)
        sketch?.add(value)
    }

    /// Adds a ratio numerator value.
    public mutating func addNumerator(_ value: Double) {
        totals.addNumerator(value)
    }

    /// Adds a ratio denominator value (a counted sample).
    public mutating func addDenominator(_ value: Double) {
        totals.addDenominator(value)
    }

    /// Folds `other` into this rollup: counts and sums add, min and max widen, the
    /// later `last` wins (`other`'s on a tie), sketches merge (a missing sketch takes
    /// `other`'s). O(bins of `other`'s sketch).
    public mutating func merge(_ other: MinuteRollup) {
        totals.merge(other.totals)
        if let theirs = other.sketch {
            if sketch == nil {
                sketch = theirs
            } else {
                sketch?.merge(theirs)
            }
        }
    }

    /// The aggregate's value over the span this rollup covers, or `nil` when it has
    /// none: no samples, Σden = 0 for a ratio, no sketch for a quantile, or a
    /// non-finite result.
    ///
    /// As the engine computes it over a window (``AggregateAccumulator``): `rate` is
    /// `count / rateSeconds × per` (`rateSeconds` is the span's length), `share` is
    /// `hits / count`, `ratio` is `Σnum / Σden`; but an empty rollup has no value at
    /// all, not even a `count` of 0 (no data).
    public func value(of aggregate: Aggregate, rateSeconds: Double) -> Double? {
        guard !isEmpty else { return nil }
        return totals.value(of: aggregate, sketch: sketch, rateSeconds: rateSeconds)
    }
}
