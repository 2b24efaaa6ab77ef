import Foundation

/// When an alert rule is evaluated: some days of the week, between two local times.
///
/// For example weekdays 07:30–15:30, the opening hours of a counter, so that a closed
/// counter pages no one. Times are wall-clock times in the daemon's time zone, read
/// from the calendar's components, so across a daylight-saving change "07:30" is
/// still 07:30 local; a window inside the skipped hour of a spring-forward night
/// never opens that night, and one inside the repeated hour of an autumn night is
/// open for both passes.
public struct AlertSchedule: Sendable, Equatable, Hashable {
    /// ISO 8601 weekdays on which the window opens: 1 = Monday … 7 = Sunday.
    public var weekdays: Set<Int>
    /// Minutes after local midnight at which the window opens (inclusive), 0…1439.
    public var startMinute: Int
    /// Minutes after local midnight at which the window closes (exclusive), 1…1440.
    ///
    /// When `endMinute < startMinute` the window crosses midnight: it opens on a
    /// listed day at `startMinute` and closes the next day at `endMinute` (so
    /// `fri 22:00–06:00` includes Saturday 05:00). When `endMinute == startMinute`
    /// the window is the whole of each listed day.
    public var endMinute: Int

    /// A schedule; by default every day, all day.
    public init(weekdays: Set<Int> = Set(1...7), startMinute: Int = 0, endMinute: Int = 1_440) {
        self.weekdays = weekdays
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// True when the window is open at `ns` (nanoseconds since the Unix epoch) in
    /// `calendar`'s time zone.
    ///
    /// Costs a Foundation calendar lookup (microseconds); `AlertEvaluator` caches the
    /// answer per minute.
    public func isActive(at ns: Int64, calendar: Calendar) -> Bool {
        let (weekday, minute) = Self.localWeekdayAndMinute(at: ns, calendar: calendar)
        if startMinute == endMinute { return weekdays.contains(weekday) }
        if startMinute < endMinute {
            return weekdays.contains(weekday) && minute >= startMinute && minute < endMinute
        }
        if minute >= startMinute { return weekdays.contains(weekday) }
        let yesterday = weekday == 1 ? 7 : weekday - 1
        return minute < endMinute && weekdays.contains(yesterday)
    }

    /// The ISO weekday (1 = Monday … 7 = Sunday) and the minute after local midnight
    /// (hour × 60 + minute, as the wall clock reads) of `ns` in `calendar`.
    public static func localWeekdayAndMinute(at ns: Int64, calendar: Calendar) -> (weekday: Int, minute: Int) {
        let second = ns / 1_000_000_000 - (ns % 1_000_000_000 < 0 ? 1 : 0)
        let date = Date(timeIntervalSince1970: Double(second))
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        // Foundation numbers weekdays 1 = Sunday … 7 = Saturday, whatever firstWeekday is.
        let weekday = ((parts.weekday ?? 1) + 5) % 7 + 1
        return (weekday, (parts.hour ?? 0) * 60 + (parts.minute ?? 0))
    }
}
