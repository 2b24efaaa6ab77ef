import Foundation
import Testing

@testable import VigieCore

/// Report periods in a zone: Nouméa (UTC+11, no daylight saving) and Paris (a 25-hour
/// day at the end of October).
struct ReportPeriodTests {
    static let noumea = CalendarPeriod.calendar(in: TimeZone(identifier: "Pacific/Noumea")!)
    static let paris = CalendarPeriod.calendar(in: TimeZone(identifier: "Europe/Paris")!)
    static let hour: Int64 = 3_600_000_000_000

    /// ns of an RFC 3339 instant.
    static func ns(_ text: String) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: text)!.timeIntervalSince1970) * 1_000_000_000
    }

    static func parse(_ text: String, _ calendar: Calendar = noumea) throws -> ReportPeriod {
        try ReportPeriod.parse(text, calendar: calendar).get()
    }

    @Test(arguments: [
        ("2026-11", "2026-10-31T13:00:00Z", "2026-11-30T13:00:00Z"),
        ("2026-Q4", "2026-09-30T13:00:00Z", "2026-12-31T13:00:00Z"),
        ("2026", "2025-12-31T13:00:00Z", "2026-12-31T13:00:00Z"),
        ("2026-11-30", "2026-11-29T13:00:00Z", "2026-11-30T13:00:00Z"),
        // ISO week 1 of 2026 starts on Monday 29 December 2025.
        ("2026-W01", "2025-12-28T13:00:00Z", "2026-01-04T13:00:00Z"),
    ])
    func periodsStartAtLocalMidnightInNoumea(label: String, start: String, end: String) throws {
        let period = try Self.parse(label)
        #expect(period.bounds == CalendarPeriod(start: Self.ns(start), end: Self.ns(end)))
        #expect(period.label(calendar: Self.noumea) == label)
        #expect(ReportPeriod.containing(period.bounds.start, kind: period.kind, calendar: Self.noumea) == period)
        #expect(ReportPeriod.containing(period.bounds.end - 1, kind: period.kind, calendar: Self.noumea) == period)
    }

    @Test func aDayAcrossTheEndOfSummerTimeHas25Hours() throws {
        let day = try Self.parse("2026-10-25", Self.paris)
        #expect(day.bounds.length == 25 * Self.hour)
        #expect(day.bounds.start == Self.ns("2026-10-24T22:00:00Z"))
        let month = try Self.parse("2026-10", Self.paris)
        #expect(month.bounds.length == (31 * 24 + 1) * Self.hour)
    }

    @Test func previousYearBeforeAndRuns() throws {
        let q1 = try Self.parse("2026-Q1")
        #expect(q1.previous(calendar: Self.noumea) == (try Self.parse("2025-Q4")))
        #expect(q1.yearBefore(calendar: Self.noumea) == (try Self.parse("2025-Q1")))
        let trend = try Self.parse("2026-03").run(of: 12, calendar: Self.noumea)
        #expect(trend.map { $0.label(calendar: Self.noumea) }.first == "2025-04")
        #expect(trend.map { $0.label(calendar: Self.noumea) }.last == "2026-03")
        #expect(trend.count == 12)
        for (a, b) in zip(trend, trend.dropFirst()) { #expect(a.bounds.end == b.bounds.start) }
        // No 29 February in 2027; 2026 has an ISO week 53 (it starts on a Thursday), 2025 none.
        #expect(try Self.parse("2028-02-29").yearBefore(calendar: Self.noumea) == nil)
        #expect(try Self.parse("2026-W53").yearBefore(calendar: Self.noumea) == nil)
        #expect(try Self.parse("2021-W01").yearBefore(calendar: Self.noumea) == (try Self.parse("2020-W01")))
        // The first year has no period before it.
        #expect(try Self.parse("1970").previous(calendar: Self.noumea) == nil)
        #expect(try Self.parse("1970-03").run(of: 12, calendar: Self.noumea).count == 3)
    }

    @Test(arguments: [
        ("2026-13", "the month must be 1–12"),
        ("2026-Q5", "the quarter must be 1–4"),
        ("2026-W54", "the ISO week must be 1–53"),
        ("2027-W53", "names no week"),
        ("2026-02-30", "names no day"),
        ("2026-1", "the month must be 1–12"),
        ("1969", "out of range"),
        ("99999", "is not a period"),
        ("2026-11-30-1", "is not a period"),
        ("", "is not a period"),
        ("２０２６", "is not a period"),
        ("2026-\u{1}1", "the month must be 1–12"),
    ])
    func badPeriodsAreRefusedSayingWhy(text: String, reason: String) {
        switch ReportPeriod.parse(text, calendar: Self.noumea) {
        case .success(let period): Issue.record("\(text) read as \(period)")
        case .failure(let refusal): #expect(refusal.message.contains(reason), "\(refusal.message)")
        }
    }

    @Test func anyTextEitherReadsBackToItselfOrIsRefused() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789-QW2")
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...11, using: &rng)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
            guard case .success(let period) = ReportPeriod.parse(text, calendar: Self.paris) else { continue }
            #expect(period.label(calendar: Self.paris) == text)
            #expect(period.bounds.start < period.bounds.end)
        }
        for text in ["2026", "2026-Q2", "2026-06", "2026-W23", "2026-06-01"] {
            #expect((try? Self.parse(text, Self.paris)) != nil)
        }
    }
}
