import Foundation
import Testing
import VigieCore
import VigieTesting

/// Seeded data sets the sketch must summarise.
enum Distribution: String, CaseIterable, Sendable {
    case uniform, exponential, logNormal, narrow, tiny, huge, mixedSigns, integers

    func sample(_ n: Int, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in
            switch self {
            case .uniform: return Double.random(in: 0.001...1_000, using: &rng)
            case .exponential: return -log(Double.random(in: Double.ulpOfOne...1, using: &rng)) * 12
            case .logNormal:
                let u1 = Double.random(in: Double.ulpOfOne...1, using: &rng)
                let u2 = Double.random(in: 0...1, using: &rng)
                return exp(2 + 1.5 * sqrt(-2 * log(u1)) * cos(2 * .pi * u2))
            case .narrow: return 1_000 + Double.random(in: -1...1, using: &rng)
            case .tiny: return Double.random(in: 1e-9...1e-6, using: &rng)
            case .huge: return Double.random(in: 1e12...1e15, using: &rng)
            case .mixedSigns:
                let r = Int.random(in: 0..<10, using: &rng)
                if r == 0 { return 0 }
                return Double.random(in: -500...800, using: &rng)
            case .integers: return Double(Int.random(in: 1...20, using: &rng))
            }
        }
    }
}

@Suite("QuantileSketch")
struct QuantileSketchTests {
    static let quantiles: [Double] = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]

    @Test(
        "rank is ⌈q·n⌉, clamped, robust to binary rounding",
        arguments: [
            (0.5, 10, 5), (0.9, 10, 9), (0.7, 10, 7), (0.75, 4, 3), (0.99, 1_000, 990), (0.99, 100, 99),
            (0.5, 1, 1), (0.0, 7, 1), (1.0, 7, 7), (0.95, 7, 7), (0.5, 3, 2), (0.01, 50, 1), (0.3, 10, 3),
            (0.1, 3, 1), (0.9, 11, 10),
        ] as [(Double, UInt64, UInt64)]
    )
    func rank(q: Double, n: UInt64, expected: UInt64) {
        #expect(QuantileSketch.rank(of: q, in: n) == expected)
    }

    @Test("quantiles are within α of the exact value of the same rank", arguments: Distribution.allCases)
    func accuracy(distribution: Distribution) {
        let values = distribution.sample(20_000, seed: 7)
        var sketch = QuantileSketch()
        for v in values { sketch.add(v) }
        #expect(sketch.count == UInt64(values.count))
        let alpha = QuantileSketch.defaultRelativeAccuracy
        for q in Self.quantiles {
            let exact = exactQuantile(values, q) ?? .nan
            let estimate = sketch.quantile(q) ?? .nan
            let error = relativeError(estimate, exact)
            #expect(error <= alpha + 1e-9, "q=\(q) exact \(exact) estimate \(estimate)")
            #expect(error <= 0.01)
        }
    }

    @Test("small counts and repeated values", arguments: [1, 2, 3, 5, 10, 11, 100])
    func smallCounts(n: Int) {
        let values = Distribution.logNormal.sample(n, seed: UInt64(n))
        var sketch = QuantileSketch()
        for v in values { sketch.add(v) }
        for q in Self.quantiles {
            let exact = exactQuantile(values, q) ?? .nan
            #expect(relativeError(sketch.quantile(q) ?? .nan, exact) <= 0.005 + 1e-9, "q=\(q) n=\(n)")
        }
        var same = QuantileSketch()
        for _ in 0..<n { same.add(42.5) }
        #expect(same.quantile(0.9) == 42.5, "clamped to the exact min and max")
    }

    @Test("negatives, zeros and positives keep their order")
    func negativesAndZeros() {
        var values: [Double] = []
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<3_000 { values.append(-Double.random(in: 0.5...2_000, using: &rng)) }
        for _ in 0..<1_000 { values.append(0) }
        for _ in 0..<2_000 { values.append(Double.random(in: 0.5...2_000, using: &rng)) }
        values.shuffle(using: &rng)
        var sketch = QuantileSketch()
        for v in values { sketch.add(v) }
        #expect(sketch.zeroCount == 1_000)
        for q in Self.quantiles + [0.4, 0.5, 0.55, 0.6, 0.66, 0.67] {
            let exact = exactQuantile(values, q) ?? .nan
            let estimate = sketch.quantile(q) ?? .nan
            if exact == 0 {
                #expect(estimate == 0, "q=\(q)")
            } else {
                #expect(relativeError(estimate, exact) <= 0.005 + 1e-9, "q=\(q) exact \(exact) estimate \(estimate)")
            }
        }
        var onlyNegative = QuantileSketch()
        for v in [-1.0, -10, -100] { onlyNegative.add(v) }
        #expect(relativeError(onlyNegative.quantile(0) ?? .nan, -100) <= 0.005)
        #expect(relativeError(onlyNegative.quantile(1) ?? .nan, -1) <= 0.005)
        #expect(relativeError(onlyNegative.quantile(0.5) ?? .nan, -10) <= 0.005)
        var zeros = QuantileSketch()
        zeros.add(0, count: 5)
        #expect(zeros.quantile(0.99) == 0)
    }

    @Test("the merge of two sketches answers exactly as the sketch of the union")
    func mergeEqualsUnion() {
        let a = Distribution.logNormal.sample(5_000, seed: 1)
        let b = Distribution.mixedSigns.sample(3_000, seed: 2)
        var sa = QuantileSketch()
        var sb = QuantileSketch()
        var union = QuantileSketch()
        for v in a {
            sa.add(v)
            union.add(v)
        }
        for v in b {
            sb.add(v)
            union.add(v)
        }
        var merged = sa
        merged.merge(sb)
        #expect(merged.count == union.count)
        #expect(merged.zeroCount == union.zeroCount)
        #expect(merged.min == union.min)
        #expect(merged.max == union.max)
        for i in 0...200 {
            let q = Double(i) / 200
            #expect(merged.quantile(q) == union.quantile(q), "q=\(q)")
        }
        var empty = QuantileSketch()
        empty.merge(sa)
        #expect(empty.quantile(0.9) == sa.quantile(0.9))
        var unchanged = sa
        unchanged.merge(QuantileSketch())
        #expect(unchanged.quantile(0.9) == sa.quantile(0.9))
        #expect(unchanged.count == sa.count)
    }

    @Test("merging sketches of other accuracies re-adds their bins")
    func mergeDifferentAccuracy() {
        let values = Distribution.uniform.sample(5_000, seed: 3)
        var coarse = QuantileSketch(relativeAccuracy: 0.001, maxBins: 8_192)
        for v in values { coarse.add(v) }
        var sketch = QuantileSketch()
        sketch.merge(coarse)
        #expect(sketch.count == 5_000)
        for q in Self.quantiles {
            let exact = exactQuantile(values, q) ?? .nan
            #expect(relativeError(sketch.quantile(q) ?? .nan, exact) <= 0.01, "q=\(q)")
        }
    }

    @Test("bins stay bounded over a huge range; counts stay exact; high quantiles stay accurate")
    func boundedBins() {
        var sketch = QuantileSketch(maxBins: 2_048)
        var values: [Double] = []
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<50_000 {
            let v = pow(10, Double.random(in: -300...300, using: &rng))
            values.append(Bool.random(using: &rng) ? v : -v)
        }
        for v in values { sketch.add(v) }
        #expect(sketch.count == 50_000)
        #expect(sketch.occupiedBins <= 2 * 2_048)
        #expect(sketch.allocatedBins <= 2 * 2_048)
        // Collapsing only merges the smallest magnitudes: the largest ones (kept bins
        // span about 9 decades below the largest magnitude) stay accurate.
        for q in [0.0001, 0.001, 0.999, 0.9999] {
            let exact = exactQuantile(values, q) ?? .nan
            #expect(relativeError(sketch.quantile(q) ?? .nan, exact) <= 0.005 + 1e-9, "q=\(q)")
        }
        // Typical KPI data (0.1 … 10,000) needs far fewer bins.
        var waits = QuantileSketch()
        for v in Distribution.uniform.sample(10_000, seed: 6) { waits.add(v * 10 + 0.1) }
        #expect(waits.allocatedBins <= 2_048)
        #expect(waits.occupiedBins < 2_400)
    }

    @Test("clear empties the sketch and keeps its bins: refilling allocates nothing")
    func clearKeepsCapacity() {
        var sketch = QuantileSketch()
        let values = Distribution.exponential.sample(2_000, seed: 8)
        for v in values { sketch.add(v) }
        let allocated = sketch.allocatedBins
        #expect(allocated > 0)
        sketch.clear()
        #expect(sketch.isEmpty)
        #expect(sketch.count == 0)
        #expect(sketch.quantile(0.5) == nil)
        #expect(sketch.allocatedBins == allocated)
        for v in values { sketch.add(v) }
        #expect(sketch.allocatedBins == allocated)
        #expect(
            sketch.quantile(0.9)
                == {
                    var fresh = QuantileSketch()
                    for v in values { fresh.add(v) }
                    return fresh.quantile(0.9)
                }()
        )
    }

    @Test("empty sketches, non-finite values and weighted adds")
    func edges() {
        var sketch = QuantileSketch()
        #expect(sketch.quantile(0.5) == nil)
        sketch.add(.nan)
        sketch.add(.infinity)
        sketch.add(-.infinity)
        #expect(sketch.isEmpty)
        sketch.add(3, count: 0)
        #expect(sketch.isEmpty)
        var weighted = QuantileSketch()
        var repeated = QuantileSketch()
        for (v, c) in [(1.0, 3), (5.0, 10), (-2.0, 4), (0.0, 2)] as [(Double, Int)] {
            weighted.add(v, count: UInt64(c))
            for _ in 0..<c { repeated.add(v) }
        }
        #expect(weighted.count == repeated.count)
        for q in Self.quantiles { #expect(weighted.quantile(q) == repeated.quantile(q)) }
    }

    @Test("values arriving in rising then falling order re-centre the store correctly")
    func driftingData() {
        var sketch = QuantileSketch()
        var values: [Double] = []
        for i in 1...3_000 { values.append(Double(i) * 0.37) }
        for i in stride(from: 3_000, through: 1, by: -1) { values.append(Double(i) * 0.011) }
        for v in values { sketch.add(v) }
        #expect(sketch.allocatedBins <= 2_048)
        for q in Self.quantiles {
            let exact = exactQuantile(values, q) ?? .nan
            #expect(relativeError(sketch.quantile(q) ?? .nan, exact) <= 0.005 + 1e-9, "q=\(q)")
        }
    }

    @Test(
        "sparse (≤ 32 distinct bins) and dense stores give the same answers, and merge across",
        arguments: [1, 5, 31, 32, 33, 40, 64, 500]
    )
    func sparseAndDense(distinct: Int) {
        // `distinct` values in distinct bins, each repeated, both signs.
        var values: [Double] = []
        for i in 0..<distinct {
            let v = pow(1.02, Double(i))  // about two bins apart
            values.append(contentsOf: [v, v, -v])
        }
        var whole = QuantileSketch()
        var evens = QuantileSketch()
        var odds = QuantileSketch()
        for (i, v) in values.enumerated() {
            whole.add(v)
            if i % 2 == 0 { evens.add(v) } else { odds.add(v) }
        }
        for q in Self.quantiles {
            let exact = exactQuantile(values, q) ?? .nan
            #expect(relativeError(whole.quantile(q) ?? .nan, exact) <= 0.005 + 1e-9, "q=\(q)")
        }
        var merged = evens
        merged.merge(odds)
        var mergedOtherWay = odds
        mergedOtherWay.merge(evens)
        for i in 0...100 {
            let q = Double(i) / 100
            #expect(merged.quantile(q) == whole.quantile(q), "q=\(q)")
            #expect(mergedOtherWay.quantile(q) == whole.quantile(q), "q=\(q)")
        }
        #expect(merged.count == whole.count)
    }

    @Test("a sketch of a few widely spread samples stays small; dense storage is kept after clear")
    func smallSketchMemory() {
        var sketch = QuantileSketch()
        for v in [0.01, 1, 100, 10_000, 1e6, 1e8, -5, -5_000, 0] { sketch.add(v) }
        #expect(sketch.allocatedBins == 0, "still sparse")
        #expect(sketch.allocatedBytes <= 2 * 16 * 16)
        #expect(sketch.occupiedBins == 8)
        #expect(sketch.quantile(1) == 1e8)
        for v in Distribution.logNormal.sample(1_000, seed: 9) { sketch.add(v) }
        let dense = sketch.allocatedBins
        let bytes = sketch.allocatedBytes
        #expect(dense > 0)
        #expect(bytes <= 2 * (2_048 * 8 + 32 * 16))
        sketch.clear()
        #expect(sketch.allocatedBins == dense)
        #expect(sketch.allocatedBytes == bytes)
        for v in [3.0, 4, 5] { sketch.add(v) }
        #expect(sketch.count == 3)
        #expect(relativeError(sketch.quantile(0.5) ?? .nan, 4) <= 0.005)
    }
}
