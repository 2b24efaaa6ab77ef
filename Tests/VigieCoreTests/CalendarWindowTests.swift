import Foundation
import Testing
import VigieCore
import VigieTesting

/// Calendar windows: period bounds in local time (DST included) and rollovers.
@Suite("Calendar windows")
struct CalendarWindowTests {
    /// (zone, window, an instant inside, expected start, expected end), seconds since the
    /// epoch, computed independently (Python's zoneinfo).
    static let periods: [(String, WindowSpec, Int64, Int64, Int64)] = [
        // Paris, spring forward on Sunday 2026-03-29: a 23-hour day.
        ("Europe/Paris", .today, 1_774_738_800, 1_774_738_800, 1_774_821_600),
        ("Europe/Paris", .today, 1_774_744_200, 1_774_738_800, 1_774_821_600),  // 01:30 CET
        ("Europe/Paris", .today, 1_774_747_800, 1_774_738_800, 1_774_821_600),  // 03:30 CEST
        ("Europe/Paris", .today, 1_774_821_599, 1_774_738_800, 1_774_821_600),
        ("Europe/Paris", .week, 1_774_747_800, 1_774_220_400, 1_774_821_600),  // Monday 23 → Monday 30
        ("Europe/Paris", .month, 1_774_747_800, 1_772_319_600, 1_774_994_400),
        // Paris, fall back on Sunday 2026-10-25: a 25-hour day.
        ("Europe/Paris", .today, 1_792_888_200, 1_792_879_200, 1_792_969_200),  // 02:30 CEST
        ("Europe/Paris", .today, 1_792_891_800, 1_792_879_200, 1_792_969_200),  // 02:30 CET
        ("Europe/Paris", .week, 1_792_891_800, 1_792_360_800, 1_792_969_200),
        ("Europe/Paris", .month, 1_792_891_800, 1_790_805_600, 1_793_487_600),
        // Nouméa: UTC+11, no DST.
        ("Pacific/Noumea", .today, 1_774_750_000, 1_774_702_800, 1_774_789_200),
        ("Pacific/Noumea", .week, 1_774_750_000, 1_774_184_400, 1_774_789_200),
        ("Pacific/Noumea", .month, 1_770_000_000, 1_769_864_400, 1_772_283_600),  // February
        ("Pacific/Noumea", .week, 1_767_000_000, 1_766_926_800, 1_767_531_600),  // ISO week across New Year
        ("Pacific/Noumea", .month, 1_767_185_999, 1_764_507_600, 1_767_186_000),  // last second of 2025
        ("Pacific/Noumea", .month, 1_767_186_000, 1_767_186_000, 1_769_864_400),  // first of 2026
    ]

    @Test("period bounds follow local midnight, Monday and the 1st, across DST", arguments: periods)
    func bounds(zoneID: String, window: WindowSpec, inside: Int64, start: Int64, end: Int64) throws {
        let calendar = CalendarPeriod.calendar(in: try zone(zoneID))
        let period = CalendarPeriod.containing(inside * second + 123, window: window, calendar: calendar)
        #expect(period == CalendarPeriod(start: start * second, end: end * second))
    }

    @Test("DST days are 23 and 25 hours long in Paris, always 24 in Nouméa")
    func dayLengths() throws {
        let paris = CalendarPeriod.calendar(in: try zone("Europe/Paris"))
        let noumea = CalendarPeriod.calendar(in: try zone("Pacific/Noumea"))
        #expect(CalendarPeriod.containing(1_774_750_000 * second, window: .today, calendar: paris)?.length == 23 * hour)
        #expect(CalendarPeriod.containing(1_792_900_000 * second, window: .today, calendar: paris)?.length == 25 * hour)
        #expect(
            CalendarPeriod.containing(1_774_750_000 * second, window: .today, calendar: noumea)?.length == 24 * hour
        )
        #expect(CalendarPeriod.containing(t0, window: .sliding(nanoseconds: hour), calendar: noumea) == nil)
    }

    @Test(
        "today, week and month roll over at their local boundary; older samples are late",
        arguments: [
            ("Pacific/Noumea", WindowSpec.today, 1_774_702_800 as Int64, 1_774_789_200 as Int64),
            ("Europe/Paris", .today, 1_774_738_800, 1_774_821_600),  // 23-hour day
            ("Europe/Paris", .today, 1_792_879_200, 1_792_969_200),  // 25-hour day
            ("Europe/Paris", .week, 1_774_220_400, 1_774_821_600),
            ("Europe/Paris", .week, 1_792_360_800, 1_792_969_200),
            ("Europe/Paris", .month, 1_772_319_600, 1_774_994_400),
            ("Pacific/Noumea", .week, 1_774_184_400, 1_774_789_200),
            ("Pacific/Noumea", .month, 1_764_507_600, 1_767_186_000),
        ]
    )
    func rollover(zoneID: String, window: WindowSpec, startSeconds: Int64, endSeconds: Int64) throws {
        let start = startSeconds * second
        let end = endSeconds * second
        let kpis = [
            makeKPI("count", aggregate: .count, window: window, minSamples: 0),
            makeKPI("max", aggregate: .max, window: window),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: try zone(zoneID), now: start + hour)
        #expect(engine.currentPeriod(ofKPI: 0) == CalendarPeriod(start: start, end: end))
        #expect(engine.feed(5, at: start - 1, now: start + hour) == 0, "before the period: late")
        #expect(engine.feed(5, at: start, now: start + hour) == 2)  // one application per KPI
        #expect(engine.feed(9, at: end - hour, now: end - 1) == 2)
        var values = engine.snapshot(now: end - 1)
        #expect(values[0].value == 2)
        #expect(values[1].value == 9)
        // At the boundary the period rolls over and the accumulators restart.
        values = engine.snapshot(now: end)
        #expect(values[0].value == 0)
        #expect(values[1].value == nil)
        #expect(values[1].status == .unknown)
        #expect(engine.currentPeriod(ofKPI: 0)?.start == end)
        // A sample from the previous period, arriving now, is late for this window.
        #expect(engine.feed(3, at: end - second, now: end + second) == 0)
        #expect(engine.feed(4, at: end + second, now: end + second) == 2)
        values = engine.snapshot(now: end + second)
        #expect(values[0].value == 1)
        #expect(values[1].value == 4)
        #expect(engine.counters.late == 4)  // 2 KPIs × 2 late samples
    }

    @Test("applying a sample after the boundary rolls the period over without advance()")
    func rolloverOnApply() throws {
        let engine = KPIEngine(kpis: [makeKPI(aggregate: .count, window: .today)], timeZone: utc, now: t0 + hour)
        engine.feed(1, at: t0 + hour, now: t0 + hour)
        engine.feed(1, at: t0 + day + hour, now: t0 + day + hour)
        #expect(engine.currentPeriod(ofKPI: 0)?.start == t0 + day)
        #expect(engine.onlyValue(now: t0 + day + hour)?.value == 1)
    }

    @Test("a future sample counts in the current period, even past its end")
    func futureInCalendar() throws {
        let engine = KPIEngine(
            kpis: [makeKPI(aggregate: .count, window: .today)],
            timeZone: utc,
            now: t0 + day - minute
        )
        #expect(engine.feed(1, at: t0 + day + 5 * minute, now: t0 + day - minute) == 1)
        #expect(engine.onlyValue(now: t0 + day - minute)?.value == 1)
        #expect(engine.onlyValue(now: t0 + day)?.value == nil)
    }

    @Test("calendar rate divides by the time elapsed since local midnight, 22 h on the spring-forward day at 23:00")
    func rateAcrossDST() throws {
        let paris = try zone("Europe/Paris")
        let midnight: Int64 = 1_774_738_800 * second
        let elevenPM = midnight + 22 * hour  // 23:00 CEST: only 22 hours have elapsed
        let engine = KPIEngine(
            kpis: [makeKPI(aggregate: .rate(perSeconds: 3_600), window: .today)],
            timeZone: paris,
            now: midnight
        )
        for i in 0..<440 { engine.feed(1, at: midnight + Int64(i) * 3 * minute, now: elevenPM) }
        #expect(close(engine.onlyValue(now: elevenPM)?.value, 20))
    }

    @Test("sliding KPIs have no calendar period")
    func noPeriodForSliding() {
        let engine = KPIEngine(kpis: [makeKPI(aggregate: .count)], timeZone: utc, now: t0)
        #expect(engine.currentPeriod(ofKPI: 0) == nil)
        #expect(engine.currentPeriod(ofKPI: 3) == nil)
    }
}
