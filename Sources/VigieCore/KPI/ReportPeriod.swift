import Foundation

/// A calendar period a person reports on — a day, an ISO week, a month, a quarter or a
/// year — in the daemon's time zone (DESIGN.md, "Reports, contracts and scenarios"):
/// its bounds, its label (`2026-11`, `2026-Q4`, `2026`, `2026-W48`, `2026-11-30`), the
/// period before it, the same period a year before, and the run of periods a trend or a
/// history step covers. Bounds come from ``CalendarPeriod/calendar(in:)``, so a day
/// across a daylight-saving change is 23 or 25 hours long and months start at local
/// midnight. Pure.
public struct ReportPeriod: Sendable, Equatable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case day, week, month, quarter, year
    }

    public var kind: Kind
    /// `[start, end)` in ns since the epoch.
    public var bounds: CalendarPeriod

    public init(kind: Kind, bounds: CalendarPeriod) {
        self.kind = kind
        self.bounds = bounds
    }

    /// Why a period could not be read: the error text for the user.
    public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Years a period may name: enough for any city's records, and far from the
    /// nanosecond clock's limits (year 2262).
    public static let years = 1970...2200

    /// The period of `kind` containing `t` (ns), or nil outside ``years``.
    public static func containing(_ t: Int64, kind: Kind, calendar: Calendar) -> ReportPeriod? {
        let second = t / 1_000_000_000 - (t % 1_000_000_000 < 0 ? 1 : 0)
        let date = Date(timeIntervalSince1970: Double(second))
        guard let year = calendar.dateComponents([.year], from: date).year, years.contains(year) else { return nil }
        let start: Date?
        switch kind {
        case .day: start = calendar.dateInterval(of: .day, for: date)?.start
        case .week: start = calendar.dateInterval(of: .weekOfYear, for: date)?.start
        case .month: start = calendar.dateInterval(of: .month, for: date)?.start
        case .year: start = calendar.dateInterval(of: .year, for: date)?.start
        case .quarter:
            let parts = calendar.dateComponents([.year, .month], from: date)
            start = parts.month.flatMap { month in
                calendar.date(from: DateComponents(year: parts.year, month: (month - 1) / 3 * 3 + 1, day: 1))
            }
        }
        guard let start else { return nil }
        return period(kind, startingAt: start, calendar: calendar)
    }

    /// Reads `2026-11` (a month), `2026-Q4` (a quarter), `2026` (a year), `2026-W48`
    /// (an ISO week) or `2026-11-30` (a day).
    public static func parse(_ text: String, calendar: Calendar) -> Result<ReportPeriod, Refusal> {
        let forms = "use YYYY-MM (a month), YYYY-Qn (a quarter), YYYY (a year), YYYY-Www (an ISO week) or YYYY-MM-DD"
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, first.count == 4, let year = Int(first), first.allSatisfy(\.isASCII) else {
            return .failure(Refusal(message: "\"\(text)\" is not a period: \(forms)"))
        }
        guard years.contains(year) else {
            return .failure(Refusal(message: "year \(year) is out of range (\(years.lowerBound)–\(years.upperBound))"))
        }
        func number(_ part: String, digits: Int, in range: ClosedRange<Int>, what: String) -> Result<Int, Refusal> {
            guard part.count == digits, part.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(part),
                range.contains(n)
            else {
                return .failure(
                    Refusal(message: "\"\(text)\": \(what) must be \(range.lowerBound)–\(range.upperBound)")
                )
            }
            return .success(n)
        }
        var components = DateComponents(year: year)
        let kind: Kind
        switch parts.count {
        case 1:
            kind = .year
            components.month = 1
            components.day = 1
        case 2 where parts[1].hasPrefix("Q"):
            kind = .quarter
            switch number(String(parts[1].dropFirst()), digits: 1, in: 1...4, what: "the quarter") {
            case .failure(let refusal): return .failure(refusal)
            case .success(let q):
                components.month = (q - 1) * 3 + 1
                components.day = 1
            }
        case 2 where parts[1].hasPrefix("W"):
            kind = .week
            switch number(String(parts[1].dropFirst()), digits: 2, in: 1...53, what: "the ISO week") {
            case .failure(let refusal): return .failure(refusal)
            case .success(let w):
                components = DateComponents(weekday: 2, weekOfYear: w, yearForWeekOfYear: year)
            }
        case 2:
            kind = .month
            switch number(parts[1], digits: 2, in: 1...12, what: "the month") {
            case .failure(let refusal): return .failure(refusal)
            case .success(let m):
                components.month = m
                components.day = 1
            }
        case 3:
            kind = .day
            switch (
                number(parts[1], digits: 2, in: 1...12, what: "the month"),
                number(parts[2], digits: 2, in: 1...31, what: "the day")
            ) {
            case (.failure(let refusal), _), (_, .failure(let refusal)): return .failure(refusal)
            case (.success(let m), .success(let d)):
                components.month = m
                components.day = d
            }
        default:
            return .failure(Refusal(message: "\"\(text)\" is not a period: \(forms)"))
        }
        guard let start = calendar.date(from: components),
            let period = period(kind, startingAt: start, calendar: calendar),
            period.label(calendar: calendar) == text
        else {
            // 2026-02-30, or week 53 of a year that has 52.
            return .failure(Refusal(message: "\"\(text)\" names no \(kind.rawValue) in the calendar"))
        }
        return .success(period)
    }

    /// `2026-11-30`, `2026-W48`, `2026-11`, `2026-Q4`, `2026`: what ``parse(_:calendar:)``
    /// reads back.
    public func label(calendar: Calendar) -> String {
        let date = Date(timeIntervalSince1970: Double(bounds.start / 1_000_000_000))
        let parts = calendar.dateComponents([.year, .month, .day, .weekOfYear, .yearForWeekOfYear], from: date)
        let year = parts.year ?? 0
        let month = parts.month ?? 0
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        switch kind {
        case .day: return "\(year)-\(two(month))-\(two(parts.day ?? 0))"
        case .week: return "\(parts.yearForWeekOfYear ?? year)-W\(two(parts.weekOfYear ?? 0))"
        case .month: return "\(year)-\(two(month))"
        case .quarter: return "\(year)-Q\((month - 1) / 3 + 1)"
        case .year: return "\(year)"
        }
    }

    /// The period just before this one (nil before ``years``).
    public func previous(calendar: Calendar) -> ReportPeriod? {
        ReportPeriod.containing(bounds.start - 1, kind: kind, calendar: calendar)
    }

    /// The same period a year before (`N-1`): the same month, quarter, day or ISO week
    /// number of the year before (nil when that year has no such week or day, or it
    /// falls before ``years``).
    public func yearBefore(calendar: Calendar) -> ReportPeriod? {
        let label = label(calendar: calendar)
        guard let year = Int(label.prefix(4)) else { return nil }
        guard case .success(let period) = ReportPeriod.parse(String(year - 1) + label.dropFirst(4), calendar: calendar)
        else { return nil }
        return period
    }

    /// The `count` periods ending with this one, oldest first (fewer when they would
    /// start before ``years``): a trend, or the steps of a history query.
    public func run(of count: Int, calendar: Calendar) -> [ReportPeriod] {
        var out: [ReportPeriod] = [self]
        while out.count < count, let earlier = out[out.count - 1].previous(calendar: calendar) {
            out.append(earlier)
        }
        return out.reversed()
    }

    /// The period of `kind` starting at `start` (a local period start).
    private static func period(_ kind: Kind, startingAt start: Date, calendar: Calendar) -> ReportPeriod? {
        let step: DateComponents
        switch kind {
        case .day: step = DateComponents(day: 1)
        case .week: step = DateComponents(day: 7)
        case .month: step = DateComponents(month: 1)
        case .quarter: step = DateComponents(month: 3)
        case .year: step = DateComponents(year: 1)
        }
        guard let end = calendar.date(byAdding: step, to: start) else { return nil }
        let s = Int64(start.timeIntervalSince1970.rounded()) * 1_000_000_000
        let e = Int64(end.timeIntervalSince1970.rounded()) * 1_000_000_000
        guard s < e else { return nil }
        return ReportPeriod(kind: kind, bounds: CalendarPeriod(start: s, end: e))
    }
}
