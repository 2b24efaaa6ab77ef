#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mergeable quantile sketch with relative-error guarantees (DDSketch, Masson,
/// Rim & Lee, VLDB 2019): every quantile within `α` (0.5 % by default) of the exact value
/// of its rank, exact counts, lossless merges, at most about 33 KiB of bins. The index
/// mapping, the error bound's proof and the memory layout: docs/architecture.md,
/// "Quantile sketches".
public struct QuantileSketch: Sendable {
    /// The default relative accuracy α: 0.5 %.
    public static let defaultRelativeAccuracy = 0.005
    /// The default cap on bins per sign.
    public static let defaultMaxBins = 2_048

    /// Relative accuracy α of every returned quantile (see the type's documentation).
    public let relativeAccuracy: Double
    /// γ = (1 + α) / (1 − α).
    let gamma: Double
    /// m = 7 / (10 · ln γ): bins per unit of `L` (per octave).
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
        self.multiplier = 7 / (10 * log(gamma))
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

    /// `L(x)`'s cubic on the mantissa: `P(s) = A·s³ + B·s² + C·s` (see the type's
    /// documentation).
    private static let cubicA = 6.0 / 35
    private static let cubicB = -3.0 / 5
    private static let cubicC = 10.0 / 7

    /// `L(x) = e + P(s)` for a positive normal `x = 2^e · (1 + s)`: within 0.01 of
    /// `log₂ x`, increasing, exact at powers of two.
    @inline(__always)
    static func approximateLog2(_ x: Double) -> Double {
        let bits = x.bitPattern
        let e = Double(Int((bits >> 52) & 0x7FF) - 1_023)
        let s = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000) - 1
        return ((cubicA * s + cubicB) * s + cubicC) * s + e
    }

    /// The positive `x` with `approximateLog2(x) = y` (inverse of the cubic by Newton's
    /// method: `P` is increasing and concave on [0, 1], `P′ ≥ 26/35`).
    static func inverseApproximateLog2(_ y: Double) -> Double {
        let e = y.rounded(.down)
        let t = y - e
        var s = t
        for _ in 0..<8 {
            let p = ((cubicA * s + cubicB) * s + cubicC) * s - t
            let slope = (3 * cubicA * s + 2 * cubicB) * s + cubicC
            s = Swift.min(1, Swift.max(0, s - p / slope))
        }
        return Double(sign: .plus, exponent: Int(e), significand: 1 + s)
    }

    /// Bin index of a magnitude `x ≥ minIndexable` (a normal number): `⌈m · L(x)⌉`.
    @inline(__always)
    func index(of magnitude: Double) -> Int {
        // ⌈y⌉ without a call to `ceil` (|y| < 2²⁰ here: truncate, then step up).
        let y = Self.approximateLog2(magnitude) * multiplier
        let truncated = Int(y)
        return Double(truncated) < y ? truncated + 1 : truncated
    }

    /// Representative value of bin `index`: the harmonic mean of its bounds
    /// `lo = L⁻¹((i − 1)/m)` and `hi = L⁻¹(i/m)`, within α of both.
    func value(ofIndex index: Int) -> Double {
        let lo = Self.inverseApproximateLog2(Double(index - 1) / multiplier)
        let hi = Self.inverseApproximateLog2(Double(index) / multiplier)
        return lo * (2 / (1 + lo / hi))  // 2·lo·hi / (lo + hi), without overflow
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

// MARK: - Binary encoding

extension QuantileSketch {
    /// Format version of `encode(into:)`.
    static let encodingVersion: UInt8 = 1

    /// Appends the sketch: version, accuracy, bin cap, counts, min and max, then each
    /// sign's non-zero bins as (index delta, count) varints. A sparse sketch of a few
    /// values takes a few dozen bytes; a dense one about 2 bytes per occupied bin.
    public func encode(into writer: inout BinaryWriter) {
        writer.writeUInt8(Self.encodingVersion)
        writer.writeDouble(relativeAccuracy)
        writer.writeCount(maxBins)
        writer.writeVarUInt(count)
        writer.writeVarUInt(zeroCount)
        writer.writeDouble(min)
        writer.writeDouble(max)
        for store in [positive, negative] {
            writer.writeCount(store.isEmpty ? 0 : store.occupiedBinsWithCounts)
            var previous = 0
            store.forEach(ascending: true) { index, c in
                writer.writeVarInt(Int64(index &- previous))
                writer.writeVarUInt(c)
                previous = index
                return true
            }
        }
    }

    /// Reads a sketch written by `encode(into:)`. Throws on a truncated or inconsistent
    /// encoding (counts that do not add up, an unknown version, a bin cap above
    /// `maxBinsLimit`).
    ///
    /// The bin cap bounds what a corrupt input can make the sketch allocate: at most
    /// 2 × `maxBinsLimit` × 8 bytes of dense bins.
    public static func decode(
        from reader: inout BinaryReader,
        maxBinsLimit: Int = 1 << 20
    ) throws -> QuantileSketch {
        let start = reader.offset
        let version = try reader.readUInt8()
        guard version == encodingVersion else {
            throw BinaryDecodingError(offset: start, reason: "unknown sketch version \(version)")
        }
        let alpha = try reader.readDouble()
        let maxBins = try reader.readCount(limit: maxBinsLimit)
        var sketch = QuantileSketch(relativeAccuracy: alpha, maxBins: maxBins)
        let count = try reader.readVarUInt()
        let zeroCount = try reader.readVarUInt()
        let minimum = try reader.readDouble()
        let maximum = try reader.readDouble()
        var total = zeroCount
        for sign in 0..<2 {
            let bins = try reader.readCount(limit: reader.remaining)
            var index = 0
            for _ in 0..<bins {
                index = index &+ Int(try reader.readVarInt())
                let c = try reader.readVarUInt()
                // Not `abs(index)`: a corrupt delta can make `index` `Int.min`.
                guard index > -(1 << 24), index < 1 << 24 else {
                    throw BinaryDecodingError(offset: reader.offset, reason: "sketch bin index \(index) out of range")
                }
                if sign == 0 {
                    sketch.positive.add(index: index, count: c)
                } else {
                    sketch.negative.add(index: index, count: c)
                }
                total &+= c
            }
        }
        guard total == count else {
            throw BinaryDecodingError(offset: start, reason: "sketch counts add up to \(total), header says \(count)")
        }
        sketch.count = count
        sketch.zeroCount = zeroCount
        sketch.min = count == 0 ? .infinity : minimum
        sketch.max = count == 0 ? -.infinity : maximum
        return sketch
    }
}
