import Foundation
import Testing
import VigieCore
import VigieTesting

/// KPIs that share window groups and series spaces behave exactly as if each had an
/// engine of its own: same values, counters, series order and publishing.
@Suite("KPI sharing")
struct KPISharingTests {
    /// KPIs that share as much as possible, and some that differ in one property each.
    static let kpis: [KPIDefinition] = {
        let shareable: [Aggregate] = [
            .count, .sum, .mean, .min, .max, .last, .rate(perSeconds: 60), .quantile(0.9), .quantile(0.5),
            .share(threshold: 500, below: true), .share(threshold: 200, below: false),
            .share(threshold: 500, below: true),
        ]
        var kpis: [KPIDefinition] = []
        for (i, aggregate) in shareable.enumerated() {
            kpis.append(makeKPI("site.\(i)", groupBy: ["site"], aggregate: aggregate, minSamples: 0, maxSeries: 1_000))
        }
        // Same selector and group_by, other window geometry, lateness, cap or period.
        kpis += [
            makeKPI("buckets10", groupBy: ["site"], aggregate: .mean, buckets: 10),
            makeKPI(
                "late2m",
                groupBy: ["site"],
                aggregate: .count,
                window: .sliding(nanoseconds: 10 * minute),
                lateness: 2 * minute
            ),
            makeKPI(
                "late2m.p50",
                groupBy: ["site"],
                aggregate: .quantile(0.5),
                window: .sliding(nanoseconds: 10 * minute),
                lateness: 2 * minute
            ),
            makeKPI("cap3", groupBy: ["site"], aggregate: .count, maxSeries: 3),
            makeKPI("cap3.sum", groupBy: ["site"], aggregate: .sum, maxSeries: 3),
            makeKPI("cap0", groupBy: ["site"], aggregate: .count, maxSeries: 0),
            makeKPI("today.mean", groupBy: ["site"], aggregate: .mean, window: .today),
            makeKPI("today.p90", groupBy: ["site"], aggregate: .quantile(0.9), window: .today),
            makeKPI("today.rate", groupBy: ["site"], aggregate: .rate(perSeconds: 3_600), window: .today),
            makeKPI("today.rate2", groupBy: ["site"], aggregate: .rate(perSeconds: 60), window: .today),
            makeKPI("today.cap2", groupBy: ["site"], aggregate: .count, window: .today, maxSeries: 2),
        ]
        // Other group_by, filters, fields and measurements.
        kpis += [
            makeKPI("host.count", groupBy: ["host"], aggregate: .count),
            makeKPI("site.host.max", groupBy: ["site", "host"], aggregate: .max),
            makeKPI("host.site.max", groupBy: ["host", "site"], aggregate: .max),
            makeKPI("all.sum", aggregate: .sum),
            makeKPI("a.count", filters: [TagFilter(key: "site", value: "a")], groupBy: ["host"], aggregate: .count),
            makeKPI("d.sum", field: "d", groupBy: ["site"], aggregate: .sum),
            makeKPI("n.count", metric: "n", groupBy: ["site"], aggregate: .count),
            makeKPI(
                "ratio",
                groupBy: ["site"],
                aggregate: .ratio,
                denominator: SampleSelector(metric: "n", field: "value")
            ),
            makeKPI(
                "ratio.same",
                groupBy: ["site"],
                aggregate: .ratio,
                denominator: SampleSelector(metric: "m", field: "value")
            ),
            makeKPI(
                "ratio.today",
                groupBy: ["site"],
                aggregate: .ratio,
                window: .today,
                denominator: SampleSelector(metric: "m", field: "d")
            ),
        ]
        return kpis
    }()

    /// One random line: measurement, tags, fields, timestamp offset behind `now` (nil: none).
    static func randomLine(
        _ rng: inout SeededGenerator
    ) -> (metric: String, tags: [(String, String)], fields: [(String, SampleFieldValue)], behind: Int64?) {
        let metric = ["m", "m", "m", "m", "n", "other"][Int.random(in: 0..<6, using: &rng)]
        var tags: [(String, String)] = []
        if Int.random(in: 0..<10, using: &rng) > 0 {
            tags.append(("site", ["a", "b", "c", "d", "e", "f"][Int.random(in: 0..<6, using: &rng)]))
        }
        if Bool.random(using: &rng) { tags.append(("host", "h\(Int.random(in: 0..<3, using: &rng))")) }
        if Bool.random(using: &rng) { tags.reverse() }
        let value = Double(Int.random(in: -50...1_000, using: &rng))
        var fields: [(String, SampleFieldValue)] = []
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: fields = [("value", .string("oops"))]
        case 1: fields = [("value", .float(.nan))]
        case 2: fields = [("d", .float(value))]
        case 3: fields = [("value", .int(Int64(value))), ("d", .bool(true))]
        default: fields = [("value", .float(value))]
        }
        if Bool.random(using: &rng) { fields.reverse() }
        let behind: Int64? =
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: nil
            case 1: Int64.random(in: 0...(2 * hour), using: &rng)
            case 2: -Int64.random(in: 0...minute, using: &rng)
            default: Int64.random(in: 0...(3 * minute), using: &rng)
            }
        return (metric, tags, fields, behind)
    }

    @Test("a shared engine matches one engine per KPI", arguments: [1, 2, 3] as [UInt64])
    func sharedMatchesAlone(seed: UInt64) {
        let kpis = Self.kpis
        // Start an hour before midnight so `today` rolls over during the run.
        var now = t0 + 23 * hour
        let shared = KPIEngine(kpis: kpis, timeZone: utc, now: now)
        let alone = kpis.map { KPIEngine(kpis: [$0], timeZone: utc, now: now) }
        var rng = SeededGenerator(seed: seed)
        for step in 0..<6_000 {
            // Time mostly moves forward, now and then back a little.
            now += Int64.random(in: -second...(2 * second), using: &rng)
            let line = Self.randomLine(&rng)
            let at = line.behind.map { now - $0 }
            let applied = shared.feed(line.metric, tags: line.tags, fields: line.fields, at: at, now: now)
            let appliedAlone = alone.reduce(0) {
                $0 + $1.feed(line.metric, tags: line.tags, fields: line.fields, at: at, now: now)
            }
            #expect(applied == appliedAlone, "step \(step)")
            if step % 97 == 0 {
                let interval = step % 2 == 0 ? 0 : 3 * second
                let due = shared.takeDue(now: now, interval: interval)
                let dueAlone = alone.flatMap { $0.takeDue(now: now, interval: interval) }
                #expect(due == dueAlone, "takeDue at step \(step)")
            }
            if step % 1_001 == 0 {
                #expect(shared.snapshot(now: now) == alone.flatMap { $0.snapshot(now: now) }, "step \(step)")
            }
        }
        #expect(shared.snapshot(now: now) == alone.flatMap { $0.snapshot(now: now) })
        let counters = shared.counters
        #expect(counters.perKPI == alone.flatMap(\.counters.perKPI))
        #expect(counters.lines == 6_000)
        #expect(counters.seriesOverflow > 0)
        #expect(counters.late > 0)
        #expect(counters.nonNumeric > 0)
        #expect(counters.nonFinite > 0)
        for (k, kpi) in kpis.enumerated() where kpi.window == .today {
            #expect(shared.currentPeriod(ofKPI: k) == alone[k].currentPeriod(ofKPI: 0))
        }
    }
}
