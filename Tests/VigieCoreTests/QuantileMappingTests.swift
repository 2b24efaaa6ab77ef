import Foundation
import Testing
import VigieTesting

@testable import VigieCore

/// The sketch's log-like index mapping keeps every value within α of its bin's
/// representative.
@Suite("QuantileSketch index mapping")
struct QuantileMappingTests {
    @Test("approximateLog2 is within 0.01 of log₂, exact at powers of two, increasing")
    func approximateLog2() {
        var rng = SeededGenerator(seed: 11)
        var previous = -Double.infinity
        for i in 0..<100_000 {
            let x = exp(Double(i) / 100_000 * 40 - 20)
            let l = QuantileSketch.approximateLog2(x)
            #expect(abs(l - log2(x)) < 0.01)
            #expect(l > previous)
            previous = l
            let p = Double(Int.random(in: -1_000...1_000, using: &rng))
            #expect(QuantileSketch.approximateLog2(exp2(p)) == p)
        }
        for y in stride(from: -50.0, through: 50, by: 0.013) {
            let x = QuantileSketch.inverseApproximateLog2(y)
            #expect(abs(QuantileSketch.approximateLog2(x) - y) < 1e-12)
        }
    }

    @Test("every value is within α of its bin's representative", arguments: [0.005, 0.001, 0.02, 0.3])
    func relativeErrorBound(alpha: Double) {
        let sketch = QuantileSketch(relativeAccuracy: alpha)
        var rng = SeededGenerator(seed: 12)
        for _ in 0..<200_000 {
            let x = exp(Double.random(in: -600...600, using: &rng))
            let i = sketch.index(of: x)
            let representative = sketch.value(ofIndex: i)
            #expect(abs(representative - x) <= alpha * x * (1 + 1e-9), "x=\(x)")
        }
        // Bins are no wider than γ, including those that straddle a power of two.
        let gamma = (1 + alpha) / (1 - alpha)
        let span = Int(1_000 * sketch.multiplier)  // the bins of 2⁻¹⁰⁰⁰ … 2¹⁰⁰⁰
        for i in stride(from: -span, through: span, by: Swift.max(1, span / 3_000)) {
            let lo = QuantileSketch.inverseApproximateLog2(Double(i - 1) / sketch.multiplier)
            let hi = QuantileSketch.inverseApproximateLog2(Double(i) / sketch.multiplier)
            #expect(hi / lo <= gamma * (1 + 1e-12), "bin \(i)")
        }
    }
}
