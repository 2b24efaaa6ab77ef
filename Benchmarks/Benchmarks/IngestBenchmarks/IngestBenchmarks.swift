import Benchmark
import Foundation
import VigieCore
import VigieStore

/// The daemon's hot path without sockets: parse a received 100-line batch in place and
/// apply every line to ten KPIs (one a p90) over 1,000 series — what the engine thread
/// does per acknowledged batch. One iteration = one batch = 100 samples, so divide the
/// per-iteration figures by 100 for ns/sample and mallocs/sample.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        // No `.instructions`: where the CPU counters are not available (this VM), the
        // harness then mallocs 16 times per sample itself, hiding ours. Count
        // instructions with `valgrind --tool=callgrind` instead. `.cpuTotal` has 10 ms
        // resolution: useless at this scale.
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 2_000,
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 200_000
    )

    // The fixture is built once per benchmark by `setup` (not per sample): building
    // and freeing an engine with 10,000 series is far slower than one batch, and its
    // teardown would otherwise land inside the measurement.
    Benchmark(
        "parse+apply 100-line batch, 10 KPIs, 1000 series",
        configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])
    ) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.applyNextBatch())
        }
    } setup: {
        IngestFixture()
    }

    // Alerts: every KPI tracked, and the changes taken after each batch as the engine
    // thread would to evaluate alert rules (about 100 changed series × 10 KPIs). The one
    // malloc is the result array: applying with tracking on allocates nothing.
    Benchmark(
        "parse+apply 100-line batch + takeChangedForAlerts, 10 KPIs tracked",
        configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 1])])
    ) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.applyNextBatch())
            blackHole(fixture.engine.takeChangedForAlerts(now: fixture.now))
        }
    } setup: {
        IngestFixture(trackingAll: true)
    }

    Benchmark("parse only 100-line batch") { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.parseNextBatch())
        }
    } setup: {
        IngestFixture()
    }

    // History: the same batches parsed and folded into per-minute rollups of the same
    // ten KPIs, as the history thread does with each logged batch. Every series and its
    // pending minute exist once warm (the lines have no timestamp: they all land in the
    // receive time's minute), so this is the steady state between two `drain()`s.
    // Subtract "parse only" for the accumulator alone.
    Benchmark(
        "RollupAccumulator add 100-line batch",
        configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])
    ) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.addNextBatch())
        }
    } setup: {
        RollupFixture()
    }

    // The same with a `drain()` every 500 batches (50,000 lines: one history round at
    // 50,000 samples/s), which hands out about 10,000 rollups and re-creates every
    // pending minute afterwards: the amortized cost of a round.
    Benchmark("RollupAccumulator add 100-line batch + drain every 500 batches") { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.addNextBatch())
            if fixture.next % 500 == 0 { blackHole(fixture.accumulator.drain().count) }
        }
    } setup: {
        RollupFixture()
    }

    // History: one round of the history thread's writes at the bench's load — a
    // second's rollups of ten KPIs × 1,000 series (10,000 minute rows and their hour
    // rows, one of the KPIs with sketches), merged into rows that already exist, in one
    // transaction, in a real SQLite file. One iteration = one round.
    Benchmark(
        "HistoryStore write one round: 10,000 rollups + their hours",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(10))
    ) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            try fixture.writeRound()
        }
    } setup: {
        try HistoryWriteFixture()
    }
}

/// The ten KPIs of `IngestFixture`, on measurement `bench`: nine grouped by `series`
/// (one a p90) and one by `site`.
func benchKPIs() -> [KPIDefinition] {
    let selector = SampleSelector(metric: "bench")
    let window = WindowSpec.sliding(nanoseconds: 300 * 1_000_000_000)
    func kpi(_ name: String, _ aggregate: Aggregate, buckets: Int = 60) -> KPIDefinition {
        KPIDefinition(
            name: name,
            selector: selector,
            groupBy: ["series"],
            aggregate: aggregate,
            window: window,
            buckets: buckets,
            maxSeries: 2_000
        )
    }
    var kpis = [
        kpi("bench.count", .count), kpi("bench.sum", .sum), kpi("bench.mean", .mean), kpi("bench.min", .min),
        kpi("bench.max", .max), kpi("bench.last", .last), kpi("bench.p90", .quantile(0.9), buckets: 10),
        kpi("bench.rate", .rate(perSeconds: 1)), kpi("bench.share", .share(threshold: 500, below: true)),
    ]
    kpis.append(
        KPIDefinition(
            name: "bench.site_mean",
            selector: selector,
            groupBy: ["site"],
            aggregate: .mean,
            window: .today
        )
    )
    return kpis
}

/// 64 batches of 100 lines over 1,000 `series` and 7 `site` values, no timestamps.
func benchBatches() -> [[UInt8]] {
    var rng = SystemRandomNumberGenerator()
    var line = 0
    return (0..<64).map { _ in
        var text = ""
        for _ in 0..<100 {
            let value = Double(Int.random(in: 1...100_000, using: &rng)) / 100
            text += "bench,series=s\(line % 1_000),site=site\(line % 7) value=\(value)\n"
            line += 1
        }
        return Array(text.utf8)
    }
}

/// Ten KPIs like `config/bench.toml`, warmed so every series exists; with
/// `trackingAll`, every KPI's changes are tracked for alerts (and taken once warm).
final class IngestFixture {
    let parser = LineProtocolParser()
    let engine: KPIEngine
    let batches: [[UInt8]]
    var next = 0
    let now: Int64

    init(trackingAll: Bool = false) {
        now = SystemClock().now()
        let kpis = benchKPIs()
        engine = KPIEngine(kpis: kpis, timeZone: TimeZone(identifier: "Pacific/Noumea") ?? .current, now: now)
        if trackingAll { engine.trackChanges(forKPIs: Set(kpis.indices)) }
        batches = benchBatches()
        for _ in 0..<(batches.count * 2) { _ = applyNextBatch() }
        if trackingAll { _ = engine.takeChangedForAlerts(now: now) }
    }

    func applyNextBatch() -> Int {
        let batch = batches[next % batches.count]
        next += 1
        var applied = 0
        let engine = self.engine
        let now = self.now
        batch.withUnsafeBytes { bytes in
            _ = parser.parse(bytes) { line in
                applied += engine.apply(line, receivedAt: now, now: now)
            } onError: { _ in
            }
        }
        return applied
    }

    func parseNextBatch() -> Int {
        let batch = batches[next % batches.count]
        next += 1
        var fields = 0
        batch.withUnsafeBytes { bytes in
            _ = parser.parse(bytes) { line in
                fields += line.fields.count
            } onError: { _ in
            }
        }
        return fields
    }
}

/// A history accumulator for the ten KPIs of `IngestFixture`, warmed so every series
/// and its pending minute exist.
final class RollupFixture {
    let parser = LineProtocolParser()
    var accumulator: RollupAccumulator
    let batches: [[UInt8]]
    var next = 0
    let now: Int64

    init() {
        now = SystemClock().now()
        accumulator = RollupAccumulator(kpis: benchKPIs())
        batches = benchBatches()
        for _ in 0..<(batches.count * 2) { _ = addNextBatch() }
    }

    func addNextBatch() -> Int {
        let batch = batches[next % batches.count]
        next += 1
        var applied = 0
        let now = self.now
        batch.withUnsafeBytes { bytes in
            _ = parser.parse(bytes) { line in
                applied += accumulator.add(line, receivedAt: now)
            } onError: { _ in
            }
        }
        return applied
    }
}

/// A history database in a temporary directory with one round of rollups for the ten
/// KPIs of `IngestFixture` already written, and that round to write again.
final class HistoryWriteFixture {
    let directory: URL
    let store: HistoryStore
    let rollups: [KPIRollup]
    var position: UInt64 = 0

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try HistoryStore(path: directory.appendingPathComponent("history.sqlite").path)
        let now = SystemClock().now()
        let minute = HistoryResolution.minute.start(of: now)
        var rollups: [KPIRollup] = []
        for kpi in benchKPIs() {
            let quantile = if case .quantile = kpi.aggregate { true } else { false }
            for s in 0..<1_000 {
                var stats = MinuteRollup(withSketch: quantile)
                for i in 0..<5 { stats.add(Double((s * 7 + i * 13) % 1_000) / 10, at: now + Int64(i), hit: i < 2) }
                rollups.append(
                    KPIRollup(
                        kpi: kpi.name,
                        group: [TagPair(key: "series", value: "s\(s)")],
                        minute: minute,
                        stats: stats
                    )
                )
            }
        }
        self.rollups = rollups
        try writeRound()
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    func writeRound() throws {
        position += 1
        try store.write(rollups: rollups, events: [], position: position)
    }
}
