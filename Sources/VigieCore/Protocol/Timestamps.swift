/// Formats event times for humans and JSON.
public enum Timestamps {
    /// RFC 3339 UTC text with milliseconds, e.g. `2026-11-29T04:13:29.123Z`.
    ///
    /// Pure arithmetic (Howard Hinnant's civil-from-days), no Foundation formatter.
    public static func rfc3339(nanoseconds: Int64) -> String {
        let ms = nanoseconds >= 0 ? nanoseconds / 1_000_000 : (nanoseconds - 999_999) / 1_000_000
        var days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        let h = msOfDay / 3_600_000
        let m = msOfDay / 60_000 % 60
        let s = msOfDay / 1_000 % 60
        let milli = msOfDay % 1_000
        return
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2)).\(pad(milli, 3))Z"
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
