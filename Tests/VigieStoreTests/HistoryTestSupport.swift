import Foundation
import Testing
import VigieCore
import VigieTesting

@testable import VigieStore

let second: Int64 = 1_000_000_000
let minute: Int64 = 60 * second
let hour: Int64 = 3_600 * second
let day: Int64 = 86_400 * second
/// 2026-06-01T00:00:00Z.
let t0: Int64 = 1_780_272_000 * second

/// A directory of its own under the system's temporary directory, removed when the
/// object goes away.
final class HistoryDirectory {
    let path: String

    init(_ label: String = "history") throws {
        path = NSTemporaryDirectory() + "vigie-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A KPI on measurement `m`, field `value`.
func historyKPI(
    _ name: String = "k",
    metric: String = "m",
    field: String = "value",
    groupBy: [String] = [],
    aggregate: Aggregate,
    denominator: SampleSelector? = nil,
    unit: String? = "min"
) -> KPIDefinition {
    KPIDefinition(
        name: name,
        selector: SampleSelector(metric: metric, field: field),
        denominator: denominator,
        groupBy: groupBy,
        aggregate: aggregate,
        window: .sliding(nanoseconds: hour),
        unit: unit
    )
}

/// One sample for an accumulator.
struct Sample {
    var tags: [(String, String)] = []
    var fields: [(String, SampleFieldValue)]
    var at: Int64
}

extension RollupAccumulator {
    mutating func feed(_ samples: [Sample], metric: String = "m") {
        for s in samples {
            _ = withParsedLine(measurement: metric, tags: s.tags, fields: s.fields, timestamp: s.at) { line in
                add(line, receivedAt: s.at)
            }
        }
    }
}

/// The statistics of one rollup with the given values at the given times.
func stats(_ values: [(Double, Int64)], sketch: Bool = false) -> MinuteRollup {
    var r = MinuteRollup(withSketch: sketch)
    for (v, t) in values { r.add(v, at: t, hit: v < 10) }
    return r
}

/// Exact quantile under the sketch's rank rule.
func exactQuantile(_ values: [Double], _ q: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    return sorted[Int(QuantileSketch.rank(of: q, in: UInt64(sorted.count))) - 1]
}

/// True when `a` and `b` agree to `tolerance` relative.
func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return abs(a - b) <= tolerance * Swift.max(1, abs(b))
}
