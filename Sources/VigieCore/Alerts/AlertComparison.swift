/// Which side of a threshold breaches an alert rule.
///
/// The comparison is strict: `.above(30)` breaches at 30.5, not at 30.
public enum AlertComparison: Sendable, Equatable, Hashable {
    /// Breaches when the value is strictly greater than the threshold.
    case above(Double)
    /// Breaches when the value is strictly less than the threshold.
    case below(Double)

    /// The threshold, whichever side.
    public var threshold: Double {
        switch self {
        case .above(let threshold), .below(let threshold): return threshold
        }
    }

    /// True when `value` breaches: `value > x` for `.above(x)`, `value < x` for `.below(x)`.
    public func isBreached(by value: Double) -> Bool {
        switch self {
        case .above(let threshold): return value > threshold
        case .below(let threshold): return value < threshold
        }
    }

    /// True when a firing alert may resolve at `value`.
    ///
    /// Without a clear threshold that is "no longer breached". With one (hysteresis),
    /// `value` must be past it: strictly below `clear` for `.above`, strictly above it
    /// for `.below`.
    public func isCleared(by value: Double, clearThreshold clear: Double?) -> Bool {
        guard let clear else { return !isBreached(by: value) }
        switch self {
        case .above: return value < clear
        case .below: return value > clear
        }
    }
}
