import Foundation
import Testing
import VigieCore
import VigieTesting

@testable import VigieStore

/// The size target of history: a month of a city's 24 KPIs, 5 series each, one minute
/// row per series per minute, built through `write` as the daemon would (one batch per
/// simulated hour here), then queried with a 1 h step over the month. Prints the times;
/// asserts only the results' shape (times depend on the machine and the build).
///
/// The span is `VIGIE_HISTORY_BENCH_DAYS` days, 1 by default so that the suite stays
/// short: the debug build writes about 40,000 minute rows per second (a month, 5.2
/// million rows, takes minutes), the release build several times more. For the figure:
/// `VIGIE_HISTORY_BENCH_DAYS=30 swift test --filter HistoryMonthBenchmarkTests`.
@Suite("History month benchmark")
struct HistoryMonthBenchmarkTests {
    static let sites = ["centre", "est", "nord", "ouest", "sud"]

    /// 24 KPIs: 4 quantiles, the rest scalar aggregates of every kind.
    static let kpis: [KPIDefinition] = (0..<24).map { i in
        let aggregates: [Aggregate] = [
            .quantile(0.9), .mean, .count, .max, .sum, .last, .rate(perSeconds: 3_600),
            .share(threshold: 20, below: true), .min, .ratio, .mean, .count,
        ]
        let aggregate = aggregates[i % aggregates.count]
        return KPIDefinition(
            name: "kpi\(i)",
            selector: SampleSelector(metric: "m\(i)", field: aggregate == .ratio ? "ok" : "value"),
            denominator: aggregate == .ratio ? SampleSelector(metric: "m\(i)", field: "total") : nil,
            groupBy: ["site"],
            aggregate: aggregate,
            window: .sliding(nanoseconds: hour),
            unit: "min"
        )
    }

    @Test("24 KPIs × 5 series, a minute row each per minute: build through write, query with a 1 h step")
    func month() throws {
        let days = Int(ProcessInfo.processInfo.environment["VIGIE_HISTORY_BENCH_DAYS"] ?? "") ?? 1
        let dir = try HistoryDirectory("history-bench")
        let store = try HistoryStore(path: dir.file("history.sqlite"))
        let start = t0 - Int64(days) * day

        // One minute's statistics per KPI and site: a few samples around a site's level.
        var templates: [[MinuteRollup]] = []
        for kpi in Self.kpis {
            var perSite: [MinuteRollup] = []
            for (s, _) in Self.sites.enumerated() {
                var r = MinuteRollup(withSketch: kpi.aggregate.needsSketch)
                for j in 0..<4 {
                    let v = Double(10 + 3 * s + j)
                    if kpi.aggregate == .ratio {
                        r.addNumerator(Double(j % 2))
                        r.addDenominator(1)
                    } else {
                        r.add(v, at: Int64(j) * second, hit: v < 20)
                    }
                }
                perSite.append(r)
            }
            templates.append(perSite)
        }
        let groups = Self.sites.map { [TagPair(key: "site", value: $0)] }

        let buildStart = monotonicNanoseconds()
        var rows = 0
        for h in 0..<(days * 24) {
            var batch: [KPIRollup] = []
            batch.reserveCapacity(60 * Self.kpis.count * Self.sites.count)
            for m in 0..<60 {
                let minuteStart = start + Int64(h) * hour + Int64(m) * minute
                for (k, kpi) in Self.kpis.enumerated() {
                    for s in 0..<Self.sites.count {
                        var stats = templates[k][s]
                        if stats.lastTimestamp != .min { stats.lastTimestamp += minuteStart }
                        batch.append(KPIRollup(kpi: kpi.name, group: groups[s], minute: minuteStart, stats: stats))
                    }
                }
            }
            rows += batch.count
            try store.write(rollups: batch, events: [], position: UInt64(h))
        }
        let buildSeconds = Double(monotonicNanoseconds() - buildStart) / 1e9
        let size = (try? FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int) ?? 0

        // Step 1 h over the whole span, for one quantile KPI, one mean, then all 24.
        func timed(_ kpi: KPIDefinition) throws -> (Double, Int) {
            let t = monotonicNanoseconds()
            let points = try store.query(kpi: kpi, group: nil, from: start, to: t0, step: hour)
            return (Double(monotonicNanoseconds() - t) / 1e6, points.count)
        }
        let (p90First, p90Points) = try timed(Self.kpis[0])
        let (p90Again, _) = try timed(Self.kpis[0])
        let (meanTime, meanPoints) = try timed(Self.kpis[1])
        let allStart = monotonicNanoseconds()
        for kpi in Self.kpis { _ = try store.query(kpi: kpi, group: nil, from: start, to: t0, step: hour) }
        let allTime = Double(monotonicNanoseconds() - allStart) / 1e6
        let minuteStart = monotonicNanoseconds()
        let recent = try store.history(kpi: Self.kpis[1], group: nil, from: t0 - day, to: t0, step: 15 * minute)
        let minuteTime = Double(monotonicNanoseconds() - minuteStart) / 1e6

        print(
            """
            history month benchmark: \(days) days, \(Self.kpis.count) KPIs × \(Self.sites.count) series, \
            \(rows) minute rollups written in \(String(format: "%.1f", buildSeconds)) s \
            (\(Int(Double(rows) / buildSeconds)) rows/s), file \(size / 1_048_576) MiB
            query step 1h over \(days) days: p90 \(String(format: "%.1f", p90First)) ms \
            (again \(String(format: "%.1f", p90Again)) ms, \(p90Points) points), mean \
            \(String(format: "%.1f", meanTime)) ms (\(meanPoints) points), all 24 KPIs \
            \(String(format: "%.1f", allTime)) ms
            query step 15m over the last day (minute rows): \(String(format: "%.1f", minuteTime)) ms \
            (\(recent.points.count) points)
            """
        )
        #expect(p90Points == days * 24 * Self.sites.count)
        #expect(meanPoints == days * 24 * Self.sites.count)
        #expect(recent.resolution == .minute)
        #expect(recent.points.count == 96 * Self.sites.count)
        #expect(try store.position() == UInt64(days * 24 - 1))
    }

    @Test("accumulator throughput: lines of the 24 KPIs' measurements, 5 sites, over a few minutes")
    func accumulatorThroughput() {
        var acc = RollupAccumulator(kpis: Self.kpis)
        let lines = (0..<Self.kpis.count * Self.sites.count).map { i in
            PreparedLine(
                measurement: "m\(i % Self.kpis.count)",
                tags: [("site", Self.sites[i % Self.sites.count]), ("host", "agent-1")],
                fields: [("value", .float(Double(i % 37))), ("ok", .int(1)), ("total", .int(1))],
                timestamp: t0
            )
        }
        let count = 200_000
        let start = monotonicNanoseconds()
        for n in 0..<count {
            let prepared = lines[n % lines.count]
            prepared.setTimestamp(t0 + Int64(n) * 1_000_000)
            acc.add(prepared.line, receivedAt: t0)
        }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let rollups = acc.drain()
        print(
            "history accumulator: \(count) lines in \(String(format: "%.3f", seconds)) s "
                + "(\(Int(Double(count) / seconds)) lines/s), \(rollups.count) rollups"
        )
        #expect(acc.appliedSamples == count + count / Self.kpis.count * 2)
        #expect(rollups.count == Self.kpis.count * Self.sites.count * 4)
    }
}
