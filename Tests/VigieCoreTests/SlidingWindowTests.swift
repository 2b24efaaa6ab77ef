import Foundation
import Testing
import VigieTesting

@testable import VigieCore

/// Sliding windows: bucket granularity, expiry, late, lateness and future samples.
@Suite("Sliding windows")
struct SlidingWindowTests {
    /// A count KPI over 1 h in 60 one-minute buckets.
    func countEngine(lateness: Int64? = nil, buckets: Int = 60, now: Int64 = t0) -> KPIEngine {
        KPIEngine(
            kpis: [makeKPI(aggregate: .count, minSamples: 0, lateness: lateness, buckets: buckets)],
            timeZone: utc,
            now: now
        )
    }

    @Test("geometry: bucket width is window ÷ buckets; epochs floor, also before 1970")
    func geometry() {
        let g = SlidingWindow.Geometry(window: hour, buckets: 60, lateness: nil)
        #expect(g.width == minute)
        #expect(g.lateness == hour)
        #expect(g.epoch(of: 0) == 0)
        #expect(g.epoch(of: minute - 1) == 0)
        #expect(g.epoch(of: -1) == -1)
        #expect(g.epoch(of: -minute) == -1)
        #expect(g.epoch(of: -minute - 1) == -2)
        #expect(g.slot(of: -1) == 59)
        #expect(g.slot(of: 61) == 1)
        let odd = SlidingWindow.Geometry(window: 7 * second, buckets: 60, lateness: 2 * second)
        #expect(odd.width == 116_666_666)
        #expect(odd.lateness == 2 * second)
        let clamped = SlidingWindow.Geometry(window: 10, buckets: 0, lateness: -5)
        #expect(clamped.bucketCount == 1)
        #expect(clamped.lateness == 0)
    }

    /// (sample time after t0, read time after t0, counted?) for a 1 h window in 1 min buckets.
    static let granularity: [(Int64, Int64, Bool)] = [
        (0, 0, true),
        (0, 59 * minute + 59 * second, true),  // still in the window one ns short of 1 h
        (0, hour, false),  // its bucket left exactly 1 h after the bucket began
        (30 * second, hour - 1, true),
        (30 * second, hour, false),  // so a sample counts between window − width and window
        (59 * second, hour - 1, true),
        (59 * second, hour, false),  // 59 min 1 s after the sample: the minimum, window − width
        (minute, hour, true),
        (minute, hour + minute - 1, true),
        (minute, hour + minute, false),
    ]

    @Test("a sample counts from its bucket until `buckets` buckets later", arguments: granularity)
    func bucketGranularity(sampleOffset: Int64, readOffset: Int64, counted: Bool) {
        let engine = countEngine()
        #expect(engine.feed(1, at: t0 + sampleOffset, now: t0 + sampleOffset) == 1)
        let value = engine.onlyValue(now: t0 + readOffset)
        #expect(value?.value == (counted ? 1 : 0))
        #expect(value?.samples == (counted ? 1 : 0))
    }

    @Test("values leave the window as it slides: count, sum, max and p90 follow")
    func expiry() {
        let kpis = [
            makeKPI("count", aggregate: .count, window: .sliding(nanoseconds: 10 * minute), minSamples: 0, buckets: 10),
            makeKPI("sum", aggregate: .sum, window: .sliding(nanoseconds: 10 * minute), minSamples: 0, buckets: 10),
            makeKPI("max", aggregate: .max, window: .sliding(nanoseconds: 10 * minute), buckets: 10),
            makeKPI("p90", aggregate: .quantile(0.9), window: .sliding(nanoseconds: 10 * minute), buckets: 10),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        // One sample per minute, value = minute number + 1 (1…30).
        for m in 0..<30 {
            let t = t0 + Int64(m) * minute
            engine.feed(Double(m + 1), at: t, now: t)
            // After each minute: the window holds the last 10 samples.
            let live = (max(0, m - 9)...m).map { Double($0 + 1) }
            let values = engine.snapshot(now: t)
            #expect(values[0].value == Double(live.count))
            #expect(values[1].value == live.reduce(0, +))
            #expect(values[2].value == live.max())
            #expect(relativeError(values[3].value ?? .nan, exactQuantile(live, 0.9) ?? .nan) <= 0.01)
        }
        // 10 minutes after the last sample everything has expired.
        let values = engine.snapshot(now: t0 + 39 * minute)
        #expect(values[0].value == 0)
        #expect(values[1].value == 0)
        #expect(values[2].value == nil)
        #expect(values[3].value == nil)
    }

    @Test("a sample older than the window is late: counted, not applied")
    func lateSamples() {
        let now = t0 + 2 * hour
        let engine = countEngine(now: now)
        #expect(engine.feed(1, at: now - 2 * hour, now: now) == 0)
        #expect(engine.feed(1, at: now - hour, now: now) == 0)  // its bucket is the one that just left
        #expect(engine.feed(1, at: now - hour + minute, now: now) == 1)  // oldest live bucket
        #expect(engine.feed(1, at: now - 1, now: now) == 1)
        #expect(engine.counters.late == 2)
        #expect(engine.counters.perKPI.first?.late == 2)
        #expect(engine.counters.applied == 2)
        #expect(engine.onlyValue(now: now)?.value == 2)
    }

    @Test(
        "lateness: samples further behind `now` than `lateness` are late",
        arguments: [(4 * minute, true), (5 * minute, true), (5 * minute + 1, false), (30 * minute, false)]
            as [(Int64, Bool)]
    )
    func lateness(behind: Int64, applied: Bool) {
        let now = t0 + 2 * hour
        let engine = countEngine(lateness: 5 * minute, now: now)
        #expect(engine.feed(1, at: now - behind, now: now) == (applied ? 1 : 0))
        #expect(engine.counters.late == (applied ? 0 : 1))
    }

    @Test("a future sample lands in the bucket of `now` and leaves with it")
    func futureSamples() {
        let kpis = [
            makeKPI("count", aggregate: .count, minSamples: 0),
            makeKPI("last", aggregate: .last),
        ]
        let now = t0 + 10 * minute
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: now)
        engine.feed(1, at: now - minute, now: now)
        engine.feed(7, at: now + 5 * minute, now: now)  // 5 minutes ahead
        engine.feed(2, at: now, now: now)
        var values = engine.snapshot(now: now)
        #expect(values[0].value == 3)
        #expect(values[1].value == 7, "last = latest timestamp, even from the future")
        #expect(values[1].lastSampleAt == now + 5 * minute)
        // It left with the bucket of `now` (1 h later), not 1 h after its own timestamp.
        values = engine.snapshot(now: now + hour)
        #expect(values[0].value == 0)
        #expect(engine.counters.late == 0)
    }

    @Test("lines without a timestamp use receivedAt")
    func receivedAt() {
        let engine = countEngine(now: t0 + 2 * hour)
        let applied = withParsedLine(measurement: "m", fields: ["value": 1], timestamp: nil) { line in
            engine.apply(line, receivedAt: t0 + 90 * minute, now: t0 + 2 * hour)
        }
        #expect(applied == 1)
        #expect(engine.onlyValue(now: t0 + 2 * hour)?.lastSampleAt == t0 + 90 * minute)
        #expect(engine.onlyValue(now: t0 + 2 * hour + 31 * minute)?.value == 0)
    }

    @Test("bucket reuse: a ring that wraps many times keeps exact counts")
    func ringReuse() {
        let engine = KPIEngine(
            kpis: [makeKPI(aggregate: .quantile(0.5), window: .sliding(nanoseconds: 4 * minute), buckets: 4)],
            timeZone: utc,
            now: t0
        )
        var rng = SeededGenerator(seed: 21)
        var history: [(Int64, Double)] = []
        var now = t0
        for _ in 0..<2_000 {
            now += Int64.random(in: 0..<(3 * second), using: &rng)
            let v = Double.random(in: 1...100, using: &rng)
            engine.feed(v, at: now, now: now)
            history.append((now, v))
        }
        // The window at `now`: buckets of epoch > epoch(now) − 4.
        let nowEpoch = now / minute
        let live = history.filter { $0.0 / minute > nowEpoch - 4 }.map(\.1)
        let value = engine.onlyValue(now: now)
        #expect(value?.samples == live.count)
        #expect(relativeError(value?.value ?? .nan, exactQuantile(live, 0.5) ?? .nan) <= 0.01)
    }

    @Test("engine time going backwards never crashes; samples for reused buckets are late")
    func clockGoesBack() {
        let engine = countEngine(buckets: 2)
        engine.feed(1, at: t0 + 2 * hour, now: t0 + 2 * hour)
        // Back by 3 h: the bucket for this time holds a newer epoch.
        #expect(engine.feed(1, at: t0 - hour, now: t0 - hour) == 0)
        #expect(engine.counters.late == 1)
    }

    @Test("series created while others hold data in several buckets keep every bucket")
    func growthKeepsRings() {
        let engine = KPIEngine(
            kpis: [makeKPI(groupBy: ["id"], aggregate: .sum, window: .sliding(nanoseconds: 10 * minute), buckets: 10)],
            timeZone: utc,
            now: t0
        )
        var expected: [String: Double] = [:]
        // Series i is created in minute i % 10, then fed in every later minute: the
        // ring arrays grow (16 → 32 → 64 → 100 series) while older rings are full.
        for m in 0..<10 {
            let now = t0 + Int64(m) * minute
            for i in 0..<100 where i % 10 <= m {
                engine.feed(Double(i + m), at: now, now: now, tags: [("id", "s\(i)")])
                expected["s\(i)", default: 0] += Double(i + m)
            }
        }
        let values = engine.snapshot(now: t0 + 9 * minute)
        #expect(values.count == 100)
        for value in values {
            let id = value.group.first?.value ?? ""
            #expect(value.value == expected[id], "\(id)")
        }
    }

    @Test("as the window slides, exactly the series that lost samples are reported changed")
    func expiryMarksChangedSeries() {
        let engine = KPIEngine(
            kpis: [
                makeKPI(
                    groupBy: ["id"],
                    aggregate: .count,
                    window: .sliding(nanoseconds: 5 * minute),
                    minSamples: 0,
                    buckets: 5
                )
            ],
            timeZone: utc,
            now: t0
        )
        // Series i gets one sample in minute i % 7.
        for i in 0..<70 {
            let t = t0 + Int64(i % 7) * minute
            engine.feed(1, at: t, now: t0 + 6 * minute, tags: [("id", "s\(i)")])
        }
        // At minute 6 the window holds minutes 2…6: minutes 0 and 1 were late.
        #expect(engine.counters.late == 20)
        _ = engine.takeDue(now: t0 + 6 * minute, interval: 0)
        for m in 7...12 {
            let now = t0 + Int64(m) * minute
            let changed = engine.takeDue(now: now, interval: 0)
            // Minute m − 5 has just left the window.
            let lostMinute = m - 5
            let expectedIDs = (0..<70).filter { $0 % 7 == lostMinute }.map { "s\($0)" }
            #expect(changed.compactMap { $0.group.first?.value }.sorted() == expectedIDs.sorted(), "minute \(m)")
            #expect(changed.allSatisfy { $0.value == 0 })
        }
        // A jump of more than a window reports nothing more: everything already left.
        #expect(engine.takeDue(now: t0 + 2 * hour, interval: 0).isEmpty)
        // A sample whose window is jumped over entirely is reported once.
        engine.feed(1, at: t0 + 2 * hour, now: t0 + 2 * hour, tags: [("id", "s3")])
        #expect(engine.takeDue(now: t0 + 2 * hour, interval: 0).count == 1)
        let jumped = engine.takeDue(now: t0 + 5 * hour, interval: 0)
        #expect(jumped.map(\.value) == [0])
    }
}
