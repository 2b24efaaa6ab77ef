import Foundation
import Testing
import VigieCore
import VigieTesting

/// One `apply` call, recorded so that two engines can be fed exactly the same lines.
struct EngineEvent {
    var metric: String
    var tags: [(String, String)]
    var fields: [(String, SampleFieldValue)]
    var at: Int64?
    var now: Int64
}

extension KPIEngine {
    /// Applies `events` in order, advancing the windows now and then (as the daemon does).
    func play(_ events: [EngineEvent]) {
        for (i, event) in events.enumerated() {
            feed(event.metric, tags: event.tags, fields: event.fields, at: event.at, now: event.now)
            if i % 7 == 0 { advance(to: event.now) }
        }
    }

    /// The encoded state.
    func encodedState() -> [UInt8] {
        var writer = BinaryWriter()
        encodeState(into: &writer)
        return writer.bytes
    }

    /// Restores `bytes`; throws as `restoreState(from:)` does.
    @discardableResult
    func restore(_ bytes: [UInt8]) throws -> EngineRestoreReport {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            return try restoreState(from: &reader)
        }
    }
}

/// Checkpoints of the KPI engine: what comes back is exactly what was there, and
/// corrupt input never crashes.
@Suite("Engine state")
struct EngineStateTests {
    /// 2026-05-31 20:00 in Nouméa (UTC+11): four hours before a new day, ISO week
    /// (Monday 1 June) and month.
    static let start: Int64 = t0 - 15 * hour
    static let window = WindowSpec.sliding(nanoseconds: 10 * minute)

    /// Many aggregates, sliding and calendar windows, grouped and not, with a series cap.
    static func definitions(p90Window: WindowSpec = window) -> [KPIDefinition] {
        let site = ["site"]
        var kpis: [KPIDefinition] = []
        let shared: [(String, Aggregate)] = [
            ("count", .count), ("sum", .sum), ("mean", .mean), ("min", .min), ("max", .max), ("last", .last),
            ("rate", .rate(perSeconds: 60)), ("p50", .quantile(0.5)), ("p99", .quantile(0.99)),
        ]
        for (name, aggregate) in shared {
            kpis.append(
                makeKPI(
                    "attente.\(name)",
                    metric: "attente",
                    groupBy: site,
                    aggregate: aggregate,
                    window: window,
                    lateness: 6 * minute,
                    buckets: 10
                )
            )
        }
        kpis += [
            makeKPI(
                "attente.p90",
                metric: "attente",
                groupBy: site,
                aggregate: .quantile(0.9),
                window: p90Window,
                lateness: 6 * minute,
                buckets: 10
            ),
            makeKPI(
                "attente.share",
                metric: "attente",
                groupBy: site,
                aggregate: .share(threshold: 20, below: true),
                window: window,
                lateness: 6 * minute,
                buckets: 10
            ),
            makeKPI(
                "attente.global.max",
                metric: "attente",
                aggregate: .max,
                window: .sliding(nanoseconds: hour),
                minSamples: 3
            ),
            makeKPI(
                "appels.taux",
                metric: "appels",
                field: "decroche",
                groupBy: site,
                aggregate: .ratio,
                window: window,
                buckets: 5,
                denominator: SampleSelector(metric: "appels", field: "recu")
            ),
            makeKPI("attente.jour", metric: "attente", groupBy: site, aggregate: .count, window: .today),
            makeKPI("attente.jour.p90", metric: "attente", groupBy: site, aggregate: .quantile(0.9), window: .today),
            makeKPI("attente.semaine", metric: "attente", groupBy: site, aggregate: .mean, window: .week),
            makeKPI("attente.mois", metric: "attente", aggregate: .rate(perSeconds: 3_600), window: .month),
            makeKPI(
                "appels.jour",
                metric: "appels",
                field: "decroche",
                aggregate: .ratio,
                window: .today,
                denominator: SampleSelector(metric: "appels", field: "recu")
            ),
            makeKPI("ids.count", metric: "ids", groupBy: ["id", "zone"], aggregate: .count, maxSeries: 5),
        ]
        return kpis
    }

    /// `count` random lines from `from` on, about `step` apart: on time, late, expired,
    /// in the future, without timestamp, non-numeric, non-finite.
    static func events(from: Int64, count: Int, step: Int64, seed: UInt64) -> [EngineEvent] {
        var rng = SeededGenerator(seed: seed)
        var out: [EngineEvent] = []
        for i in 0..<count {
            let now = from + Int64(i) * step + Int64.random(in: 0..<step, using: &rng)
            let at: Int64?
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<65: at = now - Int64.random(in: 0..<(2 * minute), using: &rng)
            case 65..<75: at = nil
            case 75..<88: at = now - Int64.random(in: (5 * minute)..<(40 * minute), using: &rng)
            case 88..<95: at = now + Int64.random(in: 0..<(30 * second), using: &rng)
            default: at = now - 2 * day
            }
            let site = ["nord", "sud", "centre", "mairie-annexe", ""][Int.random(in: 0..<5, using: &rng)]
            let tags = site.isEmpty ? [("host", "h1")] : [("site", site), ("host", "h\(i % 3)")]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6:
                var value: SampleFieldValue = .float(Double(Int.random(in: -5...60, using: &rng)) * 0.5)
                if i % 97 == 0 { value = .string("n/a") }
                if i % 151 == 0 { value = .float(.nan) }
                out.append(EngineEvent(metric: "attente", tags: tags, fields: [("value", value)], at: at, now: now))
            case 6..<8:
                let received = Int64.random(in: 0..<20, using: &rng)
                let answered = Int64.random(in: 0...received, using: &rng)
                out.append(
                    EngineEvent(
                        metric: "appels",
                        tags: tags,
                        fields: [("recu", .int(received)), ("decroche", .int(answered))],
                        at: at,
                        now: now
                    )
                )
            default:
                let id = "agent-\(Int.random(in: 0..<9, using: &rng))"
                out.append(
                    EngineEvent(
                        metric: "ids",
                        tags: [("id", id), ("zone", i % 2 == 0 ? "z" : "")],
                        fields: [("value", .uint(1))],
                        at: at,
                        now: now
                    )
                )
            }
        }
        return out
    }

    /// An engine fed 4,000 lines from `start`, and the time of its last line.
    static func fedEngine(_ kpis: [KPIDefinition] = definitions()) throws -> (KPIEngine, Int64) {
        let engine = KPIEngine(kpis: kpis, timeZone: try zone("Pacific/Noumea"), now: start)
        let events = Self.events(from: start, count: 4_000, step: 700 * 1_000_000, seed: 7)
        engine.play(events)
        _ = engine.takeDue(now: events[events.count - 1].now, interval: second)
        return (engine, events[events.count - 1].now)
    }

    @Test("a restored engine reports every value the original does, and still does after more samples")
    func roundTrip() throws {
        let (original, now) = try Self.fedEngine()
        let bytes = original.encodedState()
        let restored = KPIEngine(kpis: Self.definitions(), timeZone: try zone("Pacific/Noumea"), now: now)
        let report = try restored.restore(bytes)
        #expect(report.restoredKPIs == Self.definitions().map(\.name))
        #expect(report.emptyKPIs.isEmpty)
        #expect(report.droppedGroups.isEmpty)

        let before = original.snapshot(now: now)
        #expect(before.count > 60)
        #expect(before.contains { $0.kpi == "attente.p90" && $0.value != nil })
        #expect(original.counters.seriesOverflow > 0)
        #expect(original.counters.late > 0)
        #expect(restored.snapshot(now: now) == before)
        #expect(restored.counters == original.counters)
        // One KPI per window group (the others share these groups).
        let groupKPIs: Set = [
            "attente.count", "attente.global.max", "appels.taux", "attente.jour", "attente.semaine", "attente.mois",
            "appels.jour", "ids.count",
        ]
        let series = original.counters.perKPI.filter { groupKPIs.contains($0.kpi) }.reduce(0) { $0 + $1.series }
        #expect(report.seriesRestored == series)
        // Re-encoding gives the same bytes: nothing was lost or reordered.
        #expect(restored.encodedState() == bytes)

        // The same lines afterwards, across bucket ends, midnight (a new day, ISO week and
        // month in Nouméa) and beyond: the engines stay equal.
        let later = Self.events(from: now + second, count: 3_000, step: 4 * second, seed: 8)
        var checks = 0
        for chunk in stride(from: 0, to: later.count, by: 250) {
            let part = Array(later[chunk..<Swift.min(later.count, chunk + 250)])
            original.play(part)
            restored.play(part)
            let at = part[part.count - 1].now + 3 * minute
            #expect(restored.snapshot(now: at) == original.snapshot(now: at))
            checks += 1
        }
        let end = later[later.count - 1].now + 2 * hour
        #expect(end > t0 - 11 * hour)  // past midnight in Nouméa
        #expect(restored.snapshot(now: end) == original.snapshot(now: end))
        #expect(restored.counters == original.counters)
        #expect(checks == 12)
    }

    @Test("every restored series is due for publishing and for alerts, in order")
    func restoredSeriesAreChanged() throws {
        let (original, now) = try Self.fedEngine()
        let restored = KPIEngine(kpis: Self.definitions(), timeZone: try zone("Pacific/Noumea"), now: now)
        restored.trackChanges(forKPIs: [0, 11])
        try restored.restore(original.encodedState())
        let all = original.snapshot(now: now)
        #expect(restored.takeDue(now: now, interval: second) == all)
        #expect(restored.takeDue(now: now, interval: second).isEmpty)
        let alerts = restored.takeChangedForAlerts(now: now)
        #expect(alerts == all.filter { $0.kpi == "attente.count" || $0.kpi == "attente.global.max" })
    }

    @Test("a calendar period that ended before the restore comes back rolled over")
    func calendarRollsOver() throws {
        let (original, now) = try Self.fedEngine()
        let bytes = original.encodedState()
        // Restart the next morning: today, week and month have all begun again.
        let morning = t0 - 2 * hour
        let restored = KPIEngine(kpis: Self.definitions(), timeZone: try zone("Pacific/Noumea"), now: morning)
        try restored.restore(bytes)
        #expect(original.snapshot(now: now).contains { $0.kpi == "attente.jour" && $0.samples > 0 })
        let values = original.snapshot(now: morning)
        #expect(values.filter { $0.kpi == "attente.jour" }.allSatisfy { $0.samples == 0 && $0.lastSampleAt != nil })
        #expect(restored.snapshot(now: morning) == values)
        for kpi in 0..<restored.kpis.count {
            #expect(restored.currentPeriod(ofKPI: kpi) == original.currentPeriod(ofKPI: kpi))
        }
        let later = Self.events(from: morning, count: 500, step: 3 * second, seed: 9)
        original.play(later)
        restored.play(later)
        let end = later[later.count - 1].now
        #expect(restored.snapshot(now: end) == original.snapshot(now: end))
    }

    @Test("an edited KPI starts empty; the others keep their state; the report names both")
    func editedDefinition() throws {
        let (original, now) = try Self.fedEngine()
        let edited = Self.definitions(p90Window: .sliding(nanoseconds: 15 * minute))
        let restored = KPIEngine(kpis: edited, timeZone: try zone("Pacific/Noumea"), now: now)
        let report = try restored.restore(original.encodedState())
        #expect(report.emptyKPIs == ["attente.p90"])
        #expect(report.restoredKPIs == edited.map(\.name).filter { $0 != "attente.p90" })
        #expect(report.droppedGroups.isEmpty)  // p90's old group lives on with p50 and p99
        let values = restored.snapshot(now: now)
        #expect(!values.contains { $0.kpi == "attente.p90" })
        #expect(values == original.snapshot(now: now).filter { $0.kpi != "attente.p90" })

        // Dropping the quantiles changes the shared group (no sketches): it starts empty,
        // and the report says which stored group was dropped.
        let noQuantiles = Self.definitions().filter { !$0.aggregate.needsSketch || $0.window == .today }
        let other = KPIEngine(kpis: noQuantiles, timeZone: try zone("Pacific/Noumea"), now: now)
        let second = try other.restore(original.encodedState())
        #expect(
            second.droppedGroups == [
                "attente.count, attente.sum, attente.mean, attente.min, attente.max, attente.last, attente.rate, "
                    + "attente.p50, attente.p99, attente.p90, attente.share (10m)"
            ]
        )
        #expect(second.emptyKPIs == noQuantiles.prefix(8).map(\.name))
        #expect(second.restoredKPIs == noQuantiles.dropFirst(8).map(\.name))
    }

    @Test("only non-empty, unexpired buckets are written")
    func sparse() throws {
        let kpis = [makeKPI(groupBy: ["site"], aggregate: .count, buckets: 60)]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        let empty = engine.encodedState().count
        engine.feed(1, at: t0, now: t0, tags: [("site", "a")])
        let one = engine.encodedState().count
        #expect(one - empty < 80)
        // The bucket leaves the window: once `advance` saw it go, it is not written.
        engine.advance(to: t0 + 2 * hour)
        #expect(engine.encodedState().count < one)
        let restored = KPIEngine(kpis: kpis, timeZone: utc, now: t0 + 2 * hour)
        try restored.restore(engine.encodedState())
        #expect(restored.snapshot(now: t0 + 2 * hour) == engine.snapshot(now: t0 + 2 * hour))
    }

    @Test("an unknown section or version, and a used engine, are refused")
    func versions() throws {
        let (original, now) = try Self.fedEngine()
        var bytes = original.encodedState()
        #expect(Array(bytes.prefix(2)) == [0x4B, 1])
        let fresh = { KPIEngine(kpis: Self.definitions(), timeZone: utc, now: now) }
        bytes[1] = 2
        #expect(throws: BinaryDecodingError.self) { try fresh().restore(bytes) }
        bytes[1] = 1
        bytes[0] = 0x41
        #expect(throws: BinaryDecodingError.self) { try fresh().restore(bytes) }
        #expect(throws: BinaryDecodingError.self) { try original.restore(original.encodedState()) }
    }

    @Test("truncated or corrupt state throws or restores something usable, never crashes")
    func corruptInput() throws {
        let (original, now) = try Self.fedEngine()
        let bytes = original.encodedState()
        let noumea = try zone("Pacific/Noumea")
        let after = Self.events(from: now, count: 40, step: 20 * second, seed: 10)
        func attempt(_ input: [UInt8]) -> Bool {
            let engine = KPIEngine(kpis: Self.definitions(), timeZone: noumea, now: now)
            let threw = (try? engine.restore(input)) == nil
            // Whatever came back must be usable.
            _ = engine.snapshot(now: now)
            _ = engine.takeDue(now: now, interval: 0)
            engine.play(after)
            _ = engine.snapshot(now: now + 2 * day)
            _ = engine.counters
            return threw
        }
        var truncations = 0
        for cut in stride(from: 0, to: bytes.count, by: 97) {
            #expect(attempt(Array(bytes[..<cut])), "cut at \(cut)")
            truncations += 1
        }
        #expect(truncations > 20)
        var rng = SeededGenerator(seed: 11)
        var threw = 0
        for _ in 0..<300 {
            var flipped = bytes
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<flipped.count, using: &rng)
                flipped[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            }
            if attempt(flipped) { threw += 1 }
        }
        #expect(threw > 0)
    }

    /// Set `VIGIE_STATE_TIMING=1` (and build in release) to measure the 1,000 series ×
    /// 10 KPIs × 60 buckets case.
    @Test(
        "encode and restore time for 1,000 series × 10 KPIs × 60 buckets",
        .enabled(if: ProcessInfo.processInfo.environment["VIGIE_STATE_TIMING"] != nil),
        arguments: [false, true]
    )
    func timing(sharedGroup: Bool) throws {
        let aggregates: [Aggregate] = [
            .count, .sum, .mean, .min, .max, .last, .rate(perSeconds: 60), .quantile(0.5), .quantile(0.9),
            .quantile(0.99),
        ]
        // Shared: one metric, so the 10 KPIs share one window group (with sketches).
        // Not shared: 10 metrics, 10 groups of 60,000 buckets each (no sketches).
        let kpis = aggregates.enumerated().map { i, aggregate in
            makeKPI(
                "k\(i)",
                metric: sharedGroup ? "m" : "m\(i)",
                groupBy: ["id"],
                aggregate: sharedGroup ? aggregate : .mean,
                buckets: 60
            )
        }
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        // Three samples of different values per bucket: every accumulator field is set,
        // every sketch has three bins.
        var lines: [PreparedLine] = []
        for i in 0..<1_000 {
            for metric in sharedGroup ? ["m"] : (0..<10).map({ "m\($0)" }) {
                for k in 0..<3 {
                    lines.append(
                        PreparedLine(
                            measurement: metric,
                            tags: [("id", "series-\(i)")],
                            fields: [("value", .float(Double(i % 97) + 0.25 + Double(k) * 7.5))],
                            timestamp: nil
                        )
                    )
                }
            }
        }
        for b in 0..<60 {
            let now = t0 + Int64(b) * minute
            for (j, line) in lines.enumerated() {
                line.setTimestamp(now + Int64(j % 3) * second)
                engine.apply(line.line, receivedAt: now, now: now)
            }
        }
        let now = t0 + 59 * minute + 30 * second
        engine.advance(to: now)
        var writer = BinaryWriter(capacity: 1 << 20)
        engine.encodeState(into: &writer)  // warm-up
        let clock = ContinuousClock()
        var best = Duration.seconds(100)
        for _ in 0..<5 {
            writer.removeAll()
            best = Swift.min(best, clock.measure { engine.encodeState(into: &writer) })
        }
        let bytes = writer.bytes
        var restoreBest = Duration.seconds(100)
        for _ in 0..<3 {
            let restored = KPIEngine(kpis: kpis, timeZone: utc, now: now)
            restoreBest = Swift.min(restoreBest, try clock.measure { _ = try restored.restore(bytes) })
            #expect(restored.counters == engine.counters)
        }
        print(
            "engine state, \(sharedGroup ? "1 shared group with sketches" : "10 groups"): "
                + "encode \(best), restore \(restoreBest), \(bytes.count) bytes"
        )
    }
}
