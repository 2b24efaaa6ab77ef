import Foundation
import Testing
import VigieCore
import VigieTesting

let second: Int64 = 1_000_000_000
let minute: Int64 = 60 * second
let hour: Int64 = 3_600 * second
let day: Int64 = 86_400 * second
/// 2026-06-01T00:00:00Z: a whole day, hour and minute (bucket boundaries line up).
let t0: Int64 = 1_780_272_000 * second

/// A time zone that must exist on the test machine.
func zone(_ identifier: String) throws -> TimeZone {
    try #require(TimeZone(identifier: identifier))
}

/// UTC.
let utc = TimeZone(secondsFromGMT: 0) ?? TimeZone.current

/// A KPI on measurement `metric` (default `m`), field `value`, 1-hour sliding window.
func makeKPI(
    _ name: String = "k",
    metric: String = "m",
    field: String = "value",
    filters: [TagFilter] = [],
    groupBy: [String] = [],
    aggregate: Aggregate,
    window: WindowSpec = .sliding(nanoseconds: hour),
    target: Double? = nil,
    direction: Direction = .below,
    minSamples: Int = 1,
    lateness: Int64? = nil,
    buckets: Int = 60,
    maxSeries: Int = 1_000,
    denominator: SampleSelector? = nil
) -> KPIDefinition {
    KPIDefinition(
        name: name,
        title: "Title of \(name)",
        selector: SampleSelector(metric: metric, field: field, filters: filters),
        denominator: denominator,
        groupBy: groupBy,
        aggregate: aggregate,
        window: window,
        unit: "min",
        target: target,
        direction: direction,
        minSamples: minSamples,
        lateness: lateness,
        buckets: buckets,
        maxSeries: maxSeries
    )
}

extension KPIEngine {
    /// Applies one line; `at` is its timestamp (`nil`: none, `receivedAt` = `now`).
    @discardableResult
    func feed(
        _ metric: String = "m",
        tags: [(String, String)] = [],
        fields: [(String, SampleFieldValue)],
        at timestamp: Int64?,
        now: Int64
    ) -> Int {
        withParsedLine(measurement: metric, tags: tags, fields: fields, timestamp: timestamp) { line in
            apply(line, receivedAt: now, now: now)
        }
    }

    /// Applies `value` as field `value` of measurement `m`.
    @discardableResult
    func feed(_ value: Double, at timestamp: Int64?, now: Int64, tags: [(String, String)] = []) -> Int {
        feed(tags: tags, fields: [("value", .float(value))], at: timestamp, now: now)
    }

    /// The single series' value of the only (or first) KPI, or `nil` when it has no series.
    func onlyValue(now: Int64) -> KPIValue? {
        snapshot(now: now).first
    }
}

/// Exact quantile of `values` under the same rank rule as `QuantileSketch`:
/// the `⌈q·n⌉`-th smallest value.
func exactQuantile(_ values: [Double], _ q: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let rank = QuantileSketch.rank(of: q, in: UInt64(sorted.count))
    return sorted[Int(rank) - 1]
}

/// |a − b| / |b| (0 when both are 0).
func relativeError(_ a: Double, _ b: Double) -> Double {
    if a == b { return 0 }
    return abs(a - b) / abs(b)
}

/// True when `a` and `b` agree to `tolerance` relative (or absolutely near zero).
func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return abs(a - b) <= tolerance * Swift.max(1, abs(b))
}
