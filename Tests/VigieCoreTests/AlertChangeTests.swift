import Foundation
import Testing
import VigieCore
import VigieTesting

/// `trackChanges(forKPIs:)` and `takeChangedForAlerts(now:)`: the changes alerts are
/// evaluated on, kept apart from the publish changes of `takeDue`.
@Suite("Alert changes")
struct AlertChangeTests {
    /// The `site` tag value of each value, prefixed with its KPI.
    private static func keys(_ values: [KPIValue]) -> [String] {
        values.map { "\($0.kpi)/\($0.group.first?.value ?? "")" }
    }

    @Test("only tracked KPIs are reported; none without tracking")
    func trackedOnly() {
        let kpis = [
            makeKPI("a", groupBy: ["site"], aggregate: .count),
            makeKPI("b", metric: "other", groupBy: ["site"], aggregate: .count),
            makeKPI("c", groupBy: ["site"], aggregate: .max, window: .today),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        engine.feed(1, at: t0, now: t0, tags: [("site", "x")])
        engine.feed("other", tags: [("site", "y")], fields: [("value", 1)], at: t0, now: t0)
        #expect(engine.takeChangedForAlerts(now: t0).isEmpty, "nothing tracked")

        engine.trackChanges(forKPIs: [1, 7, -1])  // out-of-range indices are ignored
        engine.feed(2, at: t0, now: t0, tags: [("site", "x")])
        engine.feed("other", tags: [("site", "y")], fields: [("value", 5)], at: t0, now: t0)
        let changed = engine.takeChangedForAlerts(now: t0)
        #expect(Self.keys(changed) == ["b/y"])
        #expect(changed.first?.value == 2)
        #expect(changed.first?.ts == t0)
    }

    @Test("each changed series once per call, with its latest value; nothing again without a change")
    func oncePerCall() {
        let engine = KPIEngine(kpis: [makeKPI(groupBy: ["site"], aggregate: .sum)], timeZone: utc, now: t0)
        engine.trackChanges(forKPIs: [0])
        #expect(engine.takeChangedForAlerts(now: t0).isEmpty)
        for (site, value) in [("a", 1.0), ("b", 10), ("a", 2), ("c", 100), ("a", 4), ("b", 20)] {
            engine.feed(value, at: t0, now: t0, tags: [("site", site)])
        }
        var changed = engine.takeChangedForAlerts(now: t0 + second)
        #expect(Self.keys(changed) == ["k/a", "k/b", "k/c"], "in the order they first changed")
        #expect(changed.map(\.value) == [7, 30, 100])
        #expect(changed.allSatisfy { $0.ts == t0 + second })
        #expect(engine.takeChangedForAlerts(now: t0 + second).isEmpty)
        #expect(engine.takeChangedForAlerts(now: t0 + 2 * second).isEmpty)

        // What is not applied changes nothing: late, string, non-finite, other fields.
        engine.feed(1, at: t0 - 2 * hour, now: t0 + 2 * second, tags: [("site", "a")])
        engine.feed(tags: [("site", "a")], fields: [("value", "x")], at: t0, now: t0 + 2 * second)
        engine.feed(tags: [("site", "a")], fields: [("value", .float(.nan))], at: t0, now: t0 + 2 * second)
        engine.feed(tags: [("site", "a")], fields: [("other", 1)], at: t0, now: t0 + 2 * second)
        #expect(engine.takeChangedForAlerts(now: t0 + 2 * second).isEmpty)

        engine.feed(1, at: t0, now: t0 + 3 * second, tags: [("site", "c")])
        changed = engine.takeChangedForAlerts(now: t0 + 3 * second)
        #expect(Self.keys(changed) == ["k/c"])
        #expect(changed.map(\.value) == [101])
    }

    @Test("takeChangedForAlerts then takeDue: neither consumes the other's changes")
    func alertsThenPublish() {
        let engine = KPIEngine(kpis: [makeKPI(groupBy: ["site"], aggregate: .count)], timeZone: utc, now: t0)
        engine.trackChanges(forKPIs: [0])
        engine.feed(1, at: t0, now: t0, tags: [("site", "a")])
        engine.feed(1, at: t0, now: t0, tags: [("site", "b")])
        #expect(Self.keys(engine.takeChangedForAlerts(now: t0)) == ["k/a", "k/b"])
        #expect(Self.keys(engine.takeDue(now: t0, interval: second)) == ["k/a", "k/b"])
        #expect(engine.takeChangedForAlerts(now: t0).isEmpty)
        #expect(engine.takeDue(now: t0, interval: second).isEmpty)

        // A change inside the publish interval: alerts see it now, publishing later.
        engine.feed(1, at: t0, now: t0 + 100_000_000, tags: [("site", "b")])
        #expect(Self.keys(engine.takeChangedForAlerts(now: t0 + 100_000_000)) == ["k/b"])
        #expect(engine.takeDue(now: t0 + 200_000_000, interval: second).isEmpty)
        engine.feed(1, at: t0, now: t0 + 300_000_000, tags: [("site", "a")])
        #expect(Self.keys(engine.takeChangedForAlerts(now: t0 + 300_000_000)) == ["k/a"])
        #expect(engine.takeChangedForAlerts(now: t0 + second).isEmpty)
        let due = engine.takeDue(now: t0 + second, interval: second)
        #expect(Self.keys(due) == ["k/b", "k/a"])
        #expect(due.map(\.value) == [2, 2])
    }

    @Test("takeDue then takeChangedForAlerts: publishing leaves alert changes pending")
    func publishThenAlerts() {
        let kpis = [makeKPI("a", groupBy: ["site"], aggregate: .count), makeKPI("b", metric: "n", aggregate: .sum)]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        engine.trackChanges(forKPIs: [0, 1])
        engine.feed(1, at: t0, now: t0, tags: [("site", "a")])
        engine.feed("n", fields: [("value", 3)], at: t0, now: t0)
        #expect(Self.keys(engine.takeDue(now: t0, interval: 0)) == ["a/a", "b/"])
        #expect(engine.takeDue(now: t0, interval: 0).isEmpty)
        engine.feed(1, at: t0, now: t0, tags: [("site", "c")])
        #expect(Self.keys(engine.takeDue(now: t0, interval: 0)) == ["a/c"])
        // Every change since the last alert take, whatever was published meanwhile.
        let changed = engine.takeChangedForAlerts(now: t0)
        #expect(Self.keys(changed) == ["a/a", "a/c", "b/"])
        #expect(changed.map(\.value) == [1, 1, 3])
        #expect(engine.takeChangedForAlerts(now: t0).isEmpty)
        #expect(engine.takeDue(now: t0, interval: 0).isEmpty)
    }

    @Test("samples leaving a sliding window are reported, with or without advance or takeDue first")
    func slidingExpiry() {
        let engine = KPIEngine(
            kpis: [
                makeKPI(
                    groupBy: ["site"],
                    aggregate: .count,
                    window: .sliding(nanoseconds: 10 * minute),
                    minSamples: 0,
                    buckets: 10
                )
            ],
            timeZone: utc,
            now: t0
        )
        engine.trackChanges(forKPIs: [0])
        engine.feed(1, at: t0, now: t0, tags: [("site", "a")])
        engine.feed(1, at: t0 + 3 * minute, now: t0 + 3 * minute, tags: [("site", "b")])
        #expect(engine.takeChangedForAlerts(now: t0 + 3 * minute).count == 2)
        #expect(engine.takeChangedForAlerts(now: t0 + 9 * minute).isEmpty, "still in the window")
        // a's bucket leaves at t0 + 10 min: found by takeChangedForAlerts itself.
        var changed = engine.takeChangedForAlerts(now: t0 + 10 * minute)
        #expect(Self.keys(changed) == ["k/a"])
        #expect(changed.first?.value == 0)
        #expect(changed.first?.samples == 0)
        #expect(engine.takeChangedForAlerts(now: t0 + 12 * minute).isEmpty)
        // b's leaves at t0 + 13 min: found by takeDue, still reported for alerts.
        #expect(Self.keys(engine.takeDue(now: t0 + 13 * minute, interval: 0)) == ["k/a", "k/b"])
        changed = engine.takeChangedForAlerts(now: t0 + 13 * minute)
        #expect(Self.keys(changed) == ["k/b"])
        #expect(changed.first?.value == 0)
        // Found by advance.
        engine.feed(1, at: t0 + 14 * minute, now: t0 + 14 * minute, tags: [("site", "c")])
        #expect(engine.takeChangedForAlerts(now: t0 + 14 * minute).count == 1)
        engine.advance(to: t0 + 30 * minute)
        changed = engine.takeChangedForAlerts(now: t0 + 30 * minute)
        #expect(Self.keys(changed) == ["k/c"])
        #expect(changed.first?.value == 0)
        #expect(engine.takeChangedForAlerts(now: t0 + 2 * hour).isEmpty, "empty windows do not change")
    }

    @Test("a calendar period rolling over is reported, then rate as time passes")
    func calendarRollover() throws {
        let noumea = try zone("Pacific/Noumea")
        // 2026-06-01 23:00 in Nouméa (UTC+11), and the next local midnight.
        let start = t0 + 12 * hour
        let midnight = t0 + 13 * hour
        let kpis = [
            makeKPI("today", groupBy: ["site"], aggregate: .count, window: .today, minSamples: 0),
            makeKPI("rate", metric: "n", aggregate: .rate(perSeconds: 3_600), window: .today),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: noumea, now: start)
        #expect(engine.currentPeriod(ofKPI: 0)?.end == midnight)
        engine.trackChanges(forKPIs: [0])
        engine.feed(1, at: start, now: start, tags: [("site", "a")])
        engine.feed(1, at: start, now: start, tags: [("site", "b")])
        #expect(engine.takeChangedForAlerts(now: start).count == 2)
        #expect(engine.takeChangedForAlerts(now: midnight - 1).isEmpty)
        let rolled = engine.takeChangedForAlerts(now: midnight)
        #expect(Self.keys(rolled) == ["today/a", "today/b"])
        #expect(rolled.map(\.value) == [0, 0])
        #expect(engine.takeChangedForAlerts(now: midnight + hour).isEmpty)
        // Rolled over by a sample of the new period: one change, the new count.
        engine.feed(1, at: midnight + day, now: midnight + day, tags: [("site", "a")])
        let changed = engine.takeChangedForAlerts(now: midnight + day)
        #expect(Self.keys(changed) == ["today/a"])
        #expect(changed.map(\.value) == [1])

        // Calendar rate changes with time alone: reported at most once a second.
        engine.trackChanges(forKPIs: [1])
        let t = midnight + day + hour
        engine.feed("n", fields: [("value", 1)], at: t, now: t)
        #expect(Self.keys(engine.takeChangedForAlerts(now: t)) == ["rate/"])
        #expect(engine.takeChangedForAlerts(now: t + 500_000_000).isEmpty)
        let later = engine.takeChangedForAlerts(now: t + hour)
        #expect(Self.keys(later) == ["rate/"])
        #expect(close(later.first?.value, 0.5))
    }

    @Test("shared window group: a change yields a value for each tracked member only")
    func sharedGroup() {
        let kpis = [
            makeKPI("count", groupBy: ["site"], aggregate: .count),
            makeKPI("p90", groupBy: ["site"], aggregate: .quantile(0.9)),
            makeKPI("sum", groupBy: ["site"], aggregate: .sum),
            makeKPI("elsewhere", metric: "n", groupBy: ["site"], aggregate: .count),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        engine.trackChanges(forKPIs: [2])
        engine.feed(3, at: t0, now: t0, tags: [("site", "a")])
        engine.feed(4, at: t0, now: t0, tags: [("site", "b")])
        engine.feed("n", tags: [("site", "a")], fields: [("value", 1)], at: t0, now: t0)
        var changed = engine.takeChangedForAlerts(now: t0)
        #expect(Self.keys(changed) == ["sum/a", "sum/b"])
        #expect(changed.map(\.value) == [3, 4])
        // Publishing still sees every member and the other group.
        #expect(engine.takeDue(now: t0, interval: 0).count == 7)

        engine.trackChanges(forKPIs: [0, 2])
        // `count` joined a tracked group: every series of the group is reported once.
        changed = engine.takeChangedForAlerts(now: t0)
        #expect(Self.keys(changed) == ["count/a", "count/b", "sum/a", "sum/b"])
        #expect(engine.takeChangedForAlerts(now: t0).isEmpty)
        engine.feed(5, at: t0, now: t0, tags: [("site", "b")])
        changed = engine.takeChangedForAlerts(now: t0)
        #expect(Self.keys(changed) == ["count/b", "sum/b"])
        #expect(changed.map(\.value) == [2, 9])

        // Untracking the group drops its pending changes and stops keeping them.
        engine.feed(1, at: t0, now: t0, tags: [("site", "a")])
        engine.trackChanges(forKPIs: [3])
        changed = engine.takeChangedForAlerts(now: t0)
        #expect(Self.keys(changed) == ["elsewhere/a"], "newly tracked, reported once")
        #expect(changed.map(\.value) == [1])
        engine.feed(1, at: t0, now: t0, tags: [("site", "a")])
        #expect(engine.takeChangedForAlerts(now: t0).isEmpty)
        engine.feed("n", tags: [("site", "a")], fields: [("value", 1)], at: t0, now: t0)
        #expect(Self.keys(engine.takeChangedForAlerts(now: t0)) == ["elsewhere/a"])
        engine.trackChanges(forKPIs: [])
        engine.feed("n", tags: [("site", "a")], fields: [("value", 1)], at: t0, now: t0)
        #expect(engine.takeChangedForAlerts(now: t0).isEmpty)
        // Publishing saw every change meanwhile.
        #expect(
            Self.keys(engine.takeDue(now: t0, interval: 0)) == [
                "count/b", "count/a", "p90/b", "p90/a", "sum/b", "sum/a", "elsewhere/a",
            ]
        )
    }

    @Test(
        "random traffic: alert changes equal what an untracked twin publishes at every call, publishing is unaffected",
        arguments: [4, 5] as [UInt64]
    )
    func matchesTakeDue(seed: UInt64) {
        let kpis = KPISharingTests.kpis
        // Track some members of shared groups and leave others untracked.
        let tracked = Set(kpis.indices.filter { $0 % 3 != 1 })
        let trackedNames = Set(tracked.map { kpis[$0].name })
        var now = t0 + 23 * hour
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: now)
        engine.trackChanges(forKPIs: tracked)
        let everyChange = KPIEngine(kpis: kpis, timeZone: utc, now: now)
        let publisher = KPIEngine(kpis: kpis, timeZone: utc, now: now)
        var rng = SeededGenerator(seed: seed)
        var reported = 0
        for step in 0..<4_000 {
            now += Int64.random(in: -second...(3 * second), using: &rng)
            let line = KPISharingTests.randomLine(&rng)
            let at = line.behind.map { now - $0 }
            for e in [engine, everyChange, publisher] {
                e.feed(line.metric, tags: line.tags, fields: line.fields, at: at, now: now)
            }
            guard step % 7 == 0 else { continue }
            let interval = step % 2 == 0 ? 0 : 5 * second
            let alertsFirst = Bool.random(using: &rng)
            var changed: [KPIValue] = []
            if alertsFirst { changed = engine.takeChangedForAlerts(now: now) }
            let due = engine.takeDue(now: now, interval: interval)
            if !alertsFirst { changed = engine.takeChangedForAlerts(now: now) }
            // Interval `.min`: every change, also when the clock went back since the
            // last publish (interval 0 waits for the clock to catch up).
            let expected = everyChange.takeDue(now: now, interval: .min).filter { trackedNames.contains($0.kpi) }
            #expect(changed == expected, "alerts at step \(step)")
            #expect(due == publisher.takeDue(now: now, interval: interval), "takeDue at step \(step)")
            reported += changed.count
        }
        #expect(reported > 1_000)
    }
}
