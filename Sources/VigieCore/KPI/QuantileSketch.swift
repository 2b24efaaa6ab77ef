#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mergeable quantile sketch with relative-error guarantees (DDSketch, Masson,
/// Rim & Lee, VLDB 2019).
///
/// A positive value `x` goes to bin `i = ⌈log_γ(x)⌉` with `γ = (1 + α) / (1 − α)`;
/// the bin covers `(γ^(i−1), γ^i]` and is represented by `2γ^i / (γ + 1)`, which is
/// within `α·x` of every `x` in the bin. Negative values go to a second store by
/// magnitude; zero (and magnitudes too small to index) to a zero count. Counts are
/// exact, so sketches merge losslessly: the merge of two sketches answers exactly
/// as a sketch fed the union of their values (as long as neither had to collapse
/// bins, see Memory).
///
/// **Quantile definition.** `quantile(q)` is the value of rank `r = ⌈q·n⌉`
/// (1-based, lower: the r-th smallest of the `n` values, `r` at least 1), computed
/// by `QuantileSketch.rank(of:in:)`. No interpolation between ranks.
///
/// **Accuracy.** DDSketch guarantees `|x̂ − x| ≤ α·|x|` where `x` is the exact value
/// of that rank. Vigie promises 1 % for KPIs (p50…p99), so the default
/// `α = 0.005` leaves a factor of two for what the bound does not cover: the last
/// ulp of `log` at bin boundaries, and callers comparing against a neighbouring rank
/// under a slightly different rank rule. Results are also clamped to the exact
/// minimum and maximum seen, which only brings them closer.
///
/// **Memory.** Per sign, up to 32 distinct bins are kept sparse (16 bytes each: a
/// sketch of a few samples stays small whatever their spread); beyond that, dense
/// 8-byte counts over the occupied index range, at most `maxBins` (default 2,048),
/// grown (rarely) with the spread of the data: 2,048 bins of `γ ≈ 1.01005` span a
/// ratio of about 8·10⁸ between the largest and smallest magnitude. Beyond that the
/// smallest magnitudes are collapsed together (their quantiles lose accuracy; counts
/// stay exact). So a sketch holds at most 2 × (2,048 × 8 + 32 × 16) bytes of bins
/// (about 33 KiB). `clear()` keeps the storage, so a reused sketch does not allocate
/// per insert.
///
/// Complexity: `add` O(1) (one `log`); `merge` O(bins of the other sketch);
/// `quantile` O(bins). The struct itself is 160 bytes. Value type: `Sendable`, but
/// mutated by one owner at a time (the engine thread).
public struct QuantileSketch: Sendable {
    /// The default relative accuracy α: 0.5 %.
    public static let defaultRelativeAccuracy = 0.005
    /// The default cap on bins per sign.
    public static let defaultMaxBins = 2_048

    /// Relative accuracy α of every returned quantile (see the type's documentation).
    public let relativeAccuracy: Double
    /// γ = (1 + α) / (1 − α).
    let gamma: Double
    /// 1 / ln γ.
    let multiplier: Double
    /// Magnitudes below this count as zero (indices stay far from overflow).
    let minIndexable: Double

    var positive: SketchStore
    var negative: SketchStore
    /// Number of zero (or too small to index) values.
    public private(set) var zeroCount: UInt64 = 0
    /// Number of values added. Wraps past 2⁶⁴ (unreachable in practice).
    public private(set) var count: UInt64 = 0
    /// Smallest value added, or +∞ when empty.
    public private(set) var min: Double = .infinity
    /// Largest value added, or −∞ when empty.
    public private(set) var max: Double = -.infinity

    /// A sketch of relative accuracy `relativeAccuracy` (clamped into 1e-4…0.5) and
    /// at most `maxBins` bins per sign (at least 16).
    ///
    /// Allocates nothing until the first value.
    public init(
        relativeAccuracy: Double = QuantileSketch.defaultRelativeAccuracy,
        maxBins: Int = QuantileSketch.defaultMaxBins
    ) {
        let alpha = relativeAccuracy.isFinite ? Swift.min(0.5, Swift.max(1e-4, relativeAccuracy)) : 0.005
        self.relativeAccuracy = alpha
        self.gamma = (1 + alpha) / (1 - alpha)
        self.multiplier = 1 / log(gamma)
        self.minIndexable = Double.leastNormalMagnitude * gamma
        let bins = Swift.max(16, maxBins)
        self.positive = SketchStore(maxBins: bins)
        self.negative = SketchStore(maxBins: bins)
    }

    /// Most bins per sign.
    public var maxBins: Int { positive.maxBins }

    /// Dense bins currently allocated, both signs together (8 bytes each; at most
    /// `2 × maxBins`).
    public var allocatedBins: Int { positive.bins.count + negative.bins.count }

    /// Bins holding data, both signs together: sparse entries, or the span of a dense
    /// range (at most `2 × maxBins`).
    public var occupiedBins: Int { positive.occupiedBins + negative.occupiedBins }

    /// Bytes of bin storage allocated (not counting the 160-byte struct itself).
    public var allocatedBytes: Int { positive.allocatedBytes + negative.allocatedBytes }

    /// True when no value was added since creation or the last `clear()`.
    public var isEmpty: Bool { count == 0 }

    /// Bin index of a magnitude `m ≥ minIndexable`.
    @inline(__always)
    func index(of magnitude: Double) -> Int {
        Int((log(magnitude) * multiplier).rounded(.up))
    }

    /// Representative value of bin `index`: `2γ^i / (γ + 1)`.
    @inline(__always)
    func value(ofIndex index: Int) -> Double {
        exp(Double(index) / multiplier) * (2 / (gamma + 1))
    }

    /// Adds one value. Non-finite values are ignored.
    ///
    /// O(1); allocates only when the value widens the range beyond the bins allocated.
    @inline(__always)
    public mutating func add(_ value: Double) {
        add(value, count: 1)
    }

    /// Adds `count` occurrences of `value`. Non-finite values and a zero count are ignored.
    public mutating func add(_ value: Double, count: UInt64) {
        guard value.isFinite, count > 0 else { return }
        if value >= minIndexable {
            positive.add(index: index(of: value), count: count)
        } else if value <= -minIndexable {
            negative.add(index: index(of: -value), count: count)
        } else {
            zeroCount &+= count
        }
        self.count &+= count
        if value < min { min = value }
        if value > max { max = value }
    }

    /// Adds every value of `other`, as if they had been added to this sketch.
    ///
    /// Exact when both sketches have the same relative accuracy; otherwise each bin
    /// of `other` is re-added at its representative value. O(bins of `other`).
    public mutating func merge(_ other: QuantileSketch) {
        guard !other.isEmpty else { return }
        if other.gamma == gamma {
            positive.merge(other.positive)
            negative.merge(other.negative)
        } else {
            other.forEachBin(of: other.positive) { v, c in
                let i = index(of: v)
                positive.add(index: i, count: c)
            }
            other.forEachBin(of: other.negative) { v, c in
                let i = index(of: v)
                negative.add(index: i, count: c)
            }
        }
        zeroCount &+= other.zeroCount
        count &+= other.count
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
    }

    private func forEachBin(of store: SketchStore, _ body: (Double, UInt64) -> Void) {
        store.forEach(ascending: true) { i, c in
            body(value(ofIndex: i), c)
            return true
        }
    }

    /// Empties the sketch and keeps its bins allocated, for reuse without allocating.
    ///
    /// O(occupied bins).
    public mutating func clear() {
        positive.clear()
        negative.clear()
        zeroCount = 0
        count = 0
        min = .infinity
        max = -.infinity
    }

    /// The 1-based rank `⌈q·n⌉` that `quantile(q)` returns, clamped into `1…n`.
    ///
    /// A product `q·n` within 1e-9 (relative) of an integer counts as that integer,
    /// so that binary rounding does not move the rank: `0.7 × 10` is rank 7, not 8.
    /// Returns 0 when `n` is 0. Tests compute exact quantiles with this same rule.
    public static func rank(of q: Double, in n: UInt64) -> UInt64 {
        guard n > 0 else { return 0 }
        let clampedQ = q.isNaN ? 0.5 : Swift.min(1, Swift.max(0, q))
        let x = clampedQ * Double(n)
        let nearest = x.rounded()
        let r = abs(x - nearest) <= 1e-9 * Swift.max(1, x) ? nearest : x.rounded(.up)
        if r <= 1 { return 1 }
        if r >= Double(n) { return n }
        return UInt64(r)
    }

    /// The value of rank `⌈q·n⌉` (see the type's documentation), within
    /// `relativeAccuracy` of the exact value of that rank; `nil` when empty.
    ///
    /// `q` is clamped into 0…1. O(bins).
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        var rank = Self.rank(of: q, in: count)
        var estimate = 0.0
        if rank <= negative.total {
            // Most negative first: highest magnitude index downwards.
            var seen: UInt64 = 0
            negative.forEach(ascending: false) { i, c in
                seen &+= c
                if seen >= rank {
                    estimate = -value(ofIndex: i)
                    return false
                }
                return true
            }
        } else {
            rank -= negative.total
            if rank > zeroCount {
                rank -= zeroCount
                var seen: UInt64 = 0
                positive.forEach(ascending: true) { i, c in
                    seen &+= c
                    if seen >= rank {
                        estimate = value(ofIndex: i)
                        return false
                    }
                    return true
                }
            }
        }
        return Swift.min(max, Swift.max(min, estimate))
    }
}
