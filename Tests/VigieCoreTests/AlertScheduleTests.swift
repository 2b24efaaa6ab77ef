import Foundation
import Testing
import VigieCore

/// `AlertSchedule.isActive`: weekdays, bounds, windows across midnight and DST nights.
@Suite("Alert schedules")
struct AlertScheduleTests {
    /// Weekdays 07:30–15:30.
    static let office = AlertSchedule(weekdays: Set(1...5), startMinute: 450, endMinute: 930)
    /// Every day 02:00–03:00: the hour a spring-forward night skips and an autumn night repeats.
    static let dstHour = AlertSchedule(weekdays: Set(1...7), startMinute: 120, endMinute: 180)
    /// Friday 22:00 to Saturday 06:00.
    static let fridayNight = AlertSchedule(weekdays: [5], startMinute: 1_320, endMinute: 360)
    /// Saturday and Sunday nights, 22:00–06:00.
    static let weekendNights = AlertSchedule(weekdays: [6, 7], startMinute: 1_320, endMinute: 360)
    /// All of Wednesday (start == end).
    static let wednesday = AlertSchedule(weekdays: [3], startMinute: 0, endMinute: 0)
    /// Monday evening up to midnight.
    static let mondayEvening = AlertSchedule(weekdays: [1], startMinute: 1_200, endMinute: 1_440)

    /// (label, schedule, instant in seconds since the epoch, expected), in Europe/Paris;
    /// instants computed independently with Python's zoneinfo.
    static let cases: [(String, AlertSchedule, Int64, Bool)] = [
        ("Fri 07:29 CET, before opening", office, 1_774_592_940, false),
        ("Fri 07:30 CET, opening is inclusive", office, 1_774_593_000, true),
        ("Fri 15:29 CET", office, 1_774_621_740, true),
        ("Fri 15:30 CET, closing is exclusive", office, 1_774_621_800, false),
        ("Sat 10:00, not a weekday", office, 1_774_688_400, false),
        ("Mon 07:29 CEST after spring forward", office, 1_774_848_540, false),
        ("Mon 07:30 CEST after spring forward", office, 1_774_848_600, true),
        ("Mon 15:30 CEST", office, 1_774_877_400, false),
        ("Sat 02:30 CET, a normal night", dstHour, 1_774_661_400, true),
        ("Sun 01:59 CET, just before the skipped hour", dstHour, 1_774_745_940, false),
        ("Sun 03:00 CEST, just after the skipped hour", dstHour, 1_774_746_000, false),
        ("Sun 02:00 CEST, first pass of the repeated hour", dstHour, 1_792_886_400, true),
        ("Sun 02:59 CEST", dstHour, 1_792_889_940, true),
        ("Sun 02:00 CET, second pass", dstHour, 1_792_890_000, true),
        ("Sun 02:59 CET", dstHour, 1_792_893_540, true),
        ("Sun 03:00 CET, after the repeated hour", dstHour, 1_792_893_600, false),
        ("Fri 21:59", fridayNight, 1_792_785_540, false),
        ("Fri 22:00", fridayNight, 1_792_785_600, true),
        ("Sat 05:59, the window's tail", fridayNight, 1_792_814_340, true),
        ("Sat 06:00", fridayNight, 1_792_814_400, false),
        ("Sat 23:00, Saturday not listed", fridayNight, 1_792_875_600, false),
        ("Thu 23:00, Thursday not listed", fridayNight, 1_792_702_800, false),
        ("Fri 00:30, tail of Thursday's (unlisted) night", fridayNight, 1_792_708_200, false),
        ("Sat 23:00", weekendNights, 1_792_875_600, true),
        ("Sun 02:30 CEST, DST night", weekendNights, 1_792_888_200, true),
        ("Sun 02:30 CET, DST night, second pass", weekendNights, 1_792_891_800, true),
        ("Sun 05:59 CET", weekendNights, 1_792_904_340, true),
        ("Mon 05:59, tail of Sunday night", weekendNights, 1_792_990_740, true),
        ("Mon 06:00", weekendNights, 1_792_990_800, false),
        ("Fri 23:00, Friday not listed", weekendNights, 1_792_702_800 + 86_400, false),
        ("Wed 12:00, whole day", wednesday, 1_792_576_800, true),
        ("Thu 00:00", wednesday, 1_792_620_000, false),
        ("Mon 23:59, up to 24:00", mondayEvening, 1_792_447_140, true),
        ("Tue 00:00", mondayEvening, 1_792_447_200, false),
    ]

    @Test("open on listed days between the bounds, local wall-clock time", arguments: cases)
    func isActive(label: String, schedule: AlertSchedule, instant: Int64, expected: Bool) throws {
        let calendar = CalendarPeriod.calendar(in: try zone("Europe/Paris"))
        #expect(schedule.isActive(at: instant * second + 500_000_000, calendar: calendar) == expected, "\(label)")
    }

    @Test func weekdayNumbersAreISO() throws {
        let calendar = CalendarPeriod.calendar(in: utc)
        // t0 is Monday 2026-06-01 00:00 UTC.
        for offset in 0..<7 {
            let local = AlertSchedule.localWeekdayAndMinute(
                at: t0 + Int64(offset) * day + 90 * minute,
                calendar: calendar
            )
            #expect(local.weekday == offset + 1)
            #expect(local.minute == 90)
        }
        let beforeEpoch = AlertSchedule.localWeekdayAndMinute(at: -1, calendar: calendar)
        #expect(beforeEpoch.weekday == 3)  // Wednesday 1969-12-31 23:59:59
        #expect(beforeEpoch.minute == 1_439)
    }
}
