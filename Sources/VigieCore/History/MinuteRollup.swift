/// The statistics of one KPI series over one minute of event time: what history keeps
/// so that any aggregate can be recomputed later over any span of whole minutes.
///
/// The same fields as the engine's window accumulators: count, sum, min, max, the last
/// value and its timestamp, the `share` hits, a ratio's numerator and denominator sums,
/// and, for quantile KPIs, a quantile sketch. Rollups merge losslessly (`merge`): an
/// hour row is the merge of its minutes, a query step the merge of its rows, and the
/// result is what one rollup fed every sample would hold (sums up to floating-point
/// rounding). A value type owned by one thread at a time.
public struct MinuteRollup: Sendable {
    /// Samples counted: values, or for a ratio the denominator's samples (as the
    /// engine's `samples`).
    public var count: Int = 0
    /// Sum of values.
    public var sum: Double = 0
    /// Smallest value (+∞ when `count` is 0).
    public var min: Double = .infinity
    /// Largest value (−∞ when `count` is 0).
    public var max: Double = -.infinity
    /// Value of the sample with the latest timestamp (on a tie, the one added or
    /// merged last).
    public var last: Double = 0
    /// Timestamp of `last` (ns since the epoch), `Int64.min` when there is none.
    public var lastTimestamp: Int64 = .min
    /// Samples strictly beyond the KPI's `share` threshold.
    public var hits: Int = 0
    /// Ratio numerator samples.
    public var numeratorCount: Int = 0
    /// Σ numerator values.
    public var numerator: Double = 0
    /// Σ denominator values.
    public var denominator: Double = 0
    /// The values' quantile sketch, for quantile KPIs only (`nil` otherwise).
    public var sketch: QuantileSketch?

    /// An empty rollup; `withSketch` for a quantile KPI.
    public init(withSketch: Bool = false) {
        sketch = withSketch ? QuantileSketch() : nil
    }

    /// True when nothing was added or merged.
    public var isEmpty: Bool { count == 0 && numeratorCount == 0 }

    /// Adds one value at event time `timestamp`; `hit` says whether it counts for
    /// `share`. The sketch, when there is one, takes the value too. O(1).
    public mutating func add(_ value: Double, at timestamp: Int64, hit: Bool) {
        count &+= 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
        if timestamp >= lastTimestamp {
            last = value
            lastTimestamp = timestamp
        }
        if hit { hits &+= 1 }
        sketch?.add(value)
    }

    /// Adds a ratio numerator value.
    public mutating func addNumerator(_ value: Double) {
        numeratorCount &+= 1
        numerator += value
    }

    /// Adds a ratio denominator value (a counted sample).
    public mutating func addDenominator(_ value: Double) {
        count &+= 1
        denominator += value
    }

    /// Folds `other` into this rollup: counts and sums add, min and max widen, the
    /// later `last` wins (`other`'s on a tie), sketches merge (a missing sketch takes
    /// `other`'s). O(bins of `other`'s sketch).
    public mutating func merge(_ other: MinuteRollup) {
        count &+= other.count
        sum += other.sum
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
        if other.lastTimestamp != .min, other.lastTimestamp >= lastTimestamp {
            last = other.last
            lastTimestamp = other.lastTimestamp
        }
        hits &+= other.hits
        numeratorCount &+= other.numeratorCount
        numerator += other.numerator
        denominator += other.denominator
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
    /// As the engine computes it over a window: `rate` is `count / rateSeconds × per`
    /// (`rateSeconds` is the span's length), `share` is `hits / count`, `ratio` is
    /// `Σnum / Σden`; `count` of an empty rollup is `nil` here, not 0 (no data).
    public func value(of aggregate: Aggregate, rateSeconds: Double) -> Double? {
        guard !isEmpty else { return nil }
        let result: Double?
        switch aggregate {
        case .count: result = Double(count)
        case .sum: result = count > 0 ? sum : nil
        case .mean: result = count > 0 ? sum / Double(count) : nil
        case .min: result = count > 0 ? min : nil
        case .max: result = count > 0 ? max : nil
        case .last: result = lastTimestamp != .min ? last : nil
        case .rate(let perSeconds):
            result = rateSeconds > 0 ? Double(count) / rateSeconds * perSeconds : nil
        case .quantile(let q): result = sketch?.quantile(q)
        case .share: result = count > 0 ? Double(hits) / Double(count) : nil
        case .ratio: result = denominator != 0 ? numerator / denominator : nil
        }
        guard let v = result, v.isFinite else { return nil }
        return v
    }
}
