/// The running statistics behind every scalar aggregate, for one series over one span:
/// a bucket of a sliding window, the current period of a calendar window, a minute or
/// hour of history (``MinuteRollup``).
///
/// Count, sum, min, max, the last value and its timestamp, the `share` hits, and a
/// ratio's numerator and denominator sums; a quantile sketch, when the KPI needs one,
/// is kept beside it. 80 bytes; no allocation. Accumulators merge losslessly (`merge`):
/// that is how a sliding window reads and how history sums minutes into any span.
public struct AggregateAccumulator: Sendable, Equatable {
    /// Samples counted: values, or for a ratio the denominator's samples.
    public var count: Int = 0
    /// Sum of values.
    public var sum: Double = 0
    /// Smallest value (+∞ when empty).
    public var min: Double = .infinity
    /// Largest value (−∞ when empty).
    public var max: Double = -.infinity
    /// Value of the sample with the latest timestamp (later application wins ties).
    public var last: Double = 0
    /// Timestamp of `last`, `Int64.min` when empty.
    public var lastTimestamp: Int64 = .min
    /// Samples strictly beyond a `share` threshold.
    public var hits: Int = 0
    /// Ratio numerator samples.
    public var numeratorCount: Int = 0
    /// Σ numerator values.
    public var numerator: Double = 0
    /// Σ denominator values.
    public var denominator: Double = 0

    public init() {}

    /// True when nothing was applied since the last reset.
    public var isEmpty: Bool { count == 0 && numeratorCount == 0 }

    /// Adds one value at event time `timestamp`; `hit` says whether it counts for `share`.
    @inline(__always)
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
    }

    /// Adds a ratio numerator value.
    @inline(__always)
    public mutating func addNumerator(_ value: Double) {
        numeratorCount &+= 1
        numerator += value
    }

    /// Adds a ratio denominator value (a counted sample).
    @inline(__always)
    public mutating func addDenominator(_ value: Double) {
        count &+= 1
        denominator += value
    }

    /// Folds `other` into this accumulator.
    @inline(__always)
    public mutating func merge(_ other: AggregateAccumulator) {
        count &+= other.count
        sum += other.sum
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
        if other.lastTimestamp >= lastTimestamp, other.lastTimestamp != .min {
            last = other.last
            lastTimestamp = other.lastTimestamp
        }
        hits &+= other.hits
        numeratorCount &+= other.numeratorCount
        numerator += other.numerator
        denominator += other.denominator
    }

    /// The aggregate's value, or `nil` when it has none (no samples, Σden = 0, or a
    /// non-finite result such as an overflowing sum).
    ///
    /// - Parameters:
    ///   - sketch: the merged sketch, for quantiles.
    ///   - rateSeconds: the span `rate` divides by, in seconds.
    public func value(of aggregate: Aggregate, sketch: QuantileSketch?, rateSeconds: Double) -> Double? {
        let result: Double?
        switch aggregate {
        case .count: result = Double(count)
        case .sum: result = sum
        case .mean: result = count > 0 ? sum / Double(count) : nil
        case .min: result = count > 0 ? min : nil
        case .max: result = count > 0 ? max : nil
        case .last: result = count > 0 ? last : nil
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
