import Foundation

/// The local-time bounds of one calendar period (`today`, `week`, `month`) in a time
/// zone: `[start, end)` in nanoseconds since the Unix epoch.
///
/// Bounds come from Foundation's `Calendar` (Gregorian, weeks starting on Monday as in
/// ISO 8601), so a day is 23 or 25 hours long across a daylight-saving change and
/// midnight is local midnight. Computing them costs microseconds: the engine does it
/// once per period (when `now` crosses `end`), never per sample.
public struct CalendarPeriod: Sendable, Equatable, Hashable {
    /// First instant of the period, ns since the epoch (inclusive).
    public var start: Int64
    /// First instant of the next period, ns since the epoch (exclusive).
    public var end: Int64

    /// A period from explicit bounds.
    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// Length in nanoseconds.
    public var length: Int64 { end - start }

    /// True when `start ≤ t < end`.
    public func contains(_ t: Int64) -> Bool { t >= start && t < end }

    /// The calendar used for `window` periods in `timeZone`: Gregorian, Monday first,
    /// ISO 8601 week rules.
    public static func calendar(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        return calendar
    }

    /// The period of kind `window` (`.today`, `.week`, `.month`) that contains `t`, or
    /// `nil` for a sliding window.
    ///
    /// Should Foundation find no interval (it always does for these units), the
    /// period falls back to the 24 hours of UTC day containing `t`, so the engine
    /// never stalls.
    public static func containing(_ t: Int64, window: WindowSpec, calendar: Calendar) -> CalendarPeriod? {
        let component: Calendar.Component
        switch window {
        case .today: component = .day
        case .week: component = .weekOfYear
        case .month: component = .month
        case .sliding: return nil
        }
        // Whole seconds: every zone offset is a whole number of seconds, so flooring
        // to the second never moves `t` across a boundary (a Double of ns would).
        let second = t / 1_000_000_000 - (t % 1_000_000_000 < 0 ? 1 : 0)
        let date = Date(timeIntervalSince1970: Double(second))
        if let interval = calendar.dateInterval(of: component, for: date) {
            let start = Int64(interval.start.timeIntervalSince1970.rounded()) * 1_000_000_000
            let end = Int64(interval.end.timeIntervalSince1970.rounded()) * 1_000_000_000
            if start <= t, t < end {
                return CalendarPeriod(start: start, end: end)
            }
        }
        let day: Int64 = 86_400
        let dayStart = (second / day - (second % day < 0 ? 1 : 0)) * day
        return CalendarPeriod(start: dayStart * 1_000_000_000, end: (dayStart + day) * 1_000_000_000)
    }
}
