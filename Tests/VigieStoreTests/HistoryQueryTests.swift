import Foundation
import Testing
import VigieCore
import VigieTesting

@testable import VigieStore

/// KPIs of every aggregate over the same samples (`m`: `value`, `recu`, `decroche`).
let everyAggregate: [KPIDefinition] = [
    historyKPI("count", groupBy: ["site"], aggregate: .count),
    historyKPI("sum", groupBy: ["site"], aggregate: .sum),
    historyKPI("mean", groupBy: ["site"], aggregate: .mean),
    historyKPI("min", groupBy: ["site"], aggregate: .min),
    historyKPI("max", groupBy: ["site"], aggregate: .max),
    historyKPI("last", groupBy: ["site"], aggregate: .last),
    historyKPI("rate", groupBy: ["site"], aggregate: .rate(perSeconds: 3_600)),
    historyKPI("p50", groupBy: ["site"], aggregate: .quantile(0.5)),
    historyKPI("p90", groupBy: ["site"], aggregate: .quantile(0.9)),
    historyKPI("share", groupBy: ["site"], aggregate: .share(threshold: 10, below: true)),
    historyKPI(
        "ratio",
        field: "decroche",
        groupBy: ["site"],
        aggregate: .ratio,
        denominator: SampleSelector(metric: "m", field: "recu")
    ),
]

@Suite("History queries")
struct HistoryQueryTests {
    /// A store with random samples of three sites over 6 hours (from t0 + 7 min),
    /// written in three interleaved batches so that minutes and hours are merged by
    /// upserts; and the rollups as drained, to compute expectations from.
    static func randomHistory(seed: UInt64, in dir: HistoryDirectory) throws -> (HistoryStore, [KPIRollup]) {
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        var rng = SeededGenerator(seed: seed)
        var batches = Array(repeating: [Sample](), count: 3)
        for _ in 0..<3_000 {
            let site = ["centre", "nord", "sud"][Int.random(in: 0..<3, using: &rng)]
            let at = t0 + 7 * minute + Int64.random(in: 0..<(6 * hour), using: &rng)
            let sample = Sample(
                tags: [("site", site)],
                fields: [
                    ("value", .float(Double.random(in: -5...40, using: &rng))), ("recu", .int(1)),
                    ("decroche", .int(Int64.random(in: 0...1, using: &rng))),
                ],
                at: at
            )
            batches[Int.random(in: 0..<3, using: &rng)].append(sample)
        }
        var all: [KPIRollup] = []
        for (b, batch) in batches.enumerated() {
            var acc = RollupAccumulator(kpis: everyAggregate)
            acc.feed(batch)
            let rollups = acc.drain()
            all += rollups
            try store.write(rollups: rollups, events: [], position: UInt64(b))
        }
        return (store, all)
    }

    @Test(
        "every aggregate is recomputed per step from merged rows, minute and hour",
        arguments: everyAggregate.map(\.name)
    )
    func aggregates(name: String) throws {
        let dir = try HistoryDirectory()
        let (store, rollups) = try Self.randomHistory(seed: 17, in: dir)
        let kpi = try #require(everyAggregate.first { $0.name == name })
        for (step, resolution) in [(15 * minute, HistoryResolution.minute), (hour, .hour), (2 * hour, .hour)] {
            let result = try store.history(
                kpi: kpi,
                group: nil,
                from: t0 + 7 * minute,
                to: t0 + 6 * hour + 7 * minute,
                step: step
            )
            #expect(result.resolution == resolution)
            #expect(result.start == t0)
            // Expected: the drained rollups of each (series, step) merged in Swift.
            var expected: [[TagPair]: [Int64: MinuteRollup]] = [:]
            for r in rollups where r.kpi == name {
                let ts = HistoryStore.floor(r.minute, step)
                var s = expected[r.group]?[ts] ?? MinuteRollup(withSketch: kpi.aggregate.needsSketch)
                s.merge(r.stats)
                expected[r.group, default: [:]][ts] = s
            }
            #expect(Set(result.points.map(\.group)) == Set(expected.keys))
            let steps = Int((result.end - result.start) / step)
            #expect(result.points.count == steps * expected.count)
            for p in result.points {
                let e = expected[p.group]?[p.ts]
                #expect(p.samples == e?.count ?? 0)
                let value = e?.value(of: kpi.aggregate, rateSeconds: Double(step) / 1e9)
                #expect(close(p.value, value), "\(name) step \(step) \(p.group) \(p.ts)")
            }
            // Series come in order of their group values, each in time order.
            let sites = result.points.map { $0.group.first?.value ?? "" }
            #expect(sites == sites.sorted())
        }
    }

    @Test("rate is samples per step × per; ratio Σnum/Σden; empty steps have no value")
    func rateAndRatio() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        var acc = RollupAccumulator(kpis: everyAggregate)
        var samples: [Sample] = []
        for i in 0..<30 {
            samples.append(
                Sample(
                    tags: [("site", "nord")],
                    fields: [("value", .float(Double(i))), ("recu", .int(2)), ("decroche", .int(i % 3 == 0 ? 2 : 1))],
                    at: t0 + Int64(i) * minute
                )
            )
        }
        acc.feed(samples)
        try store.write(rollups: acc.drain(), events: [], position: nil)
        let rate = try #require(everyAggregate.first { $0.name == "rate" })
        let points = try store.query(kpi: rate, group: nil, from: t0, to: t0 + 2 * hour, step: hour)
        // 30 samples in the first hour, per hour; none in the second.
        #expect(points.map(\.value) == [30, nil])
        #expect(points.map(\.samples) == [30, 0])
        let perMinute = try store.query(kpi: rate, group: nil, from: t0, to: t0 + 30 * minute, step: 10 * minute)
        #expect(perMinute.map(\.value) == [60, 60, 60])
        let ratio = try #require(everyAggregate.first { $0.name == "ratio" })
        let r = try store.query(kpi: ratio, group: nil, from: t0, to: t0 + hour, step: hour)
        // Σdecroche = 10 × 2 + 20 × 1 = 40; Σrecu = 60.
        #expect(r.map(\.value) == [40.0 / 60])
        #expect(r.map(\.samples) == [30])
    }

    @Test("a group filter takes a subset of group_by; unknown values match nothing")
    func groupFilter() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        let kpi = historyKPI("n", groupBy: ["site", "guichet"], aggregate: .count)
        var acc = RollupAccumulator(kpis: [kpi])
        for (site, guichet) in [("nord", "1"), ("nord", "2"), ("sud", "1"), ("nord", "1")] {
            acc.feed([Sample(tags: [("site", site), ("guichet", guichet)], fields: [("value", 1)], at: t0)])
        }
        try store.write(rollups: acc.drain(), events: [], position: nil)
        func groups(_ filter: [TagPair]?) throws -> [String] {
            try store.query(kpi: kpi, group: filter, from: t0, to: t0 + hour, step: hour).map { p in
                p.group.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + ":\(p.samples)"
            }
        }
        #expect(try groups(nil) == ["site=nord,guichet=1:2", "site=nord,guichet=2:1", "site=sud,guichet=1:1"])
        #expect(
            try groups([TagPair(key: "site", value: "nord")]) == ["site=nord,guichet=1:2", "site=nord,guichet=2:1"]
        )
        #expect(
            try groups([TagPair(key: "guichet", value: "1"), TagPair(key: "site", value: "sud")]) == [
                "site=sud,guichet=1:1"
            ]
        )
        #expect(try groups([TagPair(key: "site", value: "ouest")]) == [])
        // Series recorded under another group_by are not mixed in.
        let regrouped = historyKPI("n", groupBy: ["site"], aggregate: .count)
        #expect(try store.query(kpi: regrouped, group: nil, from: t0, to: t0 + hour, step: hour).isEmpty)
    }

    @Test("a reply is bounded: more than a million points over all series is refused with the reason")
    func replySizeIsBounded() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        let kpi = historyKPI("n", groupBy: ["site"], aggregate: .count)
        var acc = RollupAccumulator(kpis: [kpi])
        for site in 0..<11 { acc.feed([Sample(tags: [("site", "s\(site)")], fields: [("value", 1)], at: t0)]) }
        try store.write(rollups: acc.drain(), events: [], position: nil)
        // 100,000 hourly steps each: 1,100,000 points for 11 series, 1,000,000 for 10.
        let to = t0 + 100_000 * hour
        #expect(throws: HistoryQueryError.self) {
            try store.history(kpi: kpi, group: nil, from: t0, to: to, step: hour)
        }
        do {
            _ = try store.history(kpi: kpi, group: nil, from: t0, to: to, step: hour)
        } catch {
            #expect("\(error)".contains("11 series × 100000 steps is more than 1000000 points"), "\(error)")
        }
        let one = try store.history(kpi: kpi, group: [TagPair(key: "site", value: "s3")], from: t0, to: to, step: hour)
        #expect(one.points.count == 100_000)
    }

    @Test("steps are aligned to multiples of the step since the epoch; the last step contains to − 1")
    func alignment() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        let kpi = historyKPI(aggregate: .sum)
        let rollups = (0..<180).map { m in
            KPIRollup(kpi: "k", group: [], minute: t0 + Int64(m) * minute, stats: stats([(1, t0 + Int64(m) * minute)]))
        }
        try store.write(rollups: rollups, events: [], position: nil)
        let r = try store.history(
            kpi: kpi,
            group: nil,
            from: t0 + 20 * minute,
            to: t0 + 100 * minute + 1,
            step: 45 * minute
        )
        #expect(r.start == t0)
        #expect(r.end == t0 + 135 * minute)
        #expect(r.points.map(\.ts) == [t0, t0 + 45 * minute, t0 + 90 * minute])
        #expect(r.points.map(\.value) == [45, 45, 45])
        let days = try store.history(kpi: kpi, group: nil, from: t0 + hour, to: t0 + 2 * hour, step: day)
        #expect(days.resolution == .hour)
        #expect(days.points.map(\.value) == [180])
    }
}
