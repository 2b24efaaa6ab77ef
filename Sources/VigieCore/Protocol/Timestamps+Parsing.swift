extension Timestamps {
    /// Nanoseconds since the epoch of RFC 3339 text such as `2026-11-01T08:30:00Z`,
    /// `2026-11-01T08:30:00.250+11:00` (`T` or a space between date and time, any
    /// number of fraction digits, nanoseconds kept), or `nil` when the text is not one
    /// or the instant is outside what `Int64` nanoseconds hold (1678…2262).
    ///
    /// Pure arithmetic (Howard Hinnant's days-from-civil), no Foundation formatter.
    public static func parseRFC3339(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, let date = parseDate(b[0..<10]) else { return nil }
        guard b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " ") else {
            return nil
        }
        guard let hour = number(b, 11, 2), b[13] == UInt8(ascii: ":"), let minute = number(b, 14, 2),
            b[16] == UInt8(ascii: ":"), let second = number(b, 17, 2), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, let d = digit(b[i]) {
                if digits < 9 { fraction = fraction * 10 + d }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in Swift.min(digits, 9)..<9 { fraction *= 10 }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let h = number(b, i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"),
                let m = number(b, i + 4, 2), h < 24, m < 60
            else { return nil }
            offset = (h * 60 + m) * 60 * (b[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = date * 86_400 + hour * 3_600 + minute * 60 + second - offset
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = ns.addingReportingOverflow(fraction)
        return overflow2 ? nil : total
    }

    /// Days since 1970-01-01 of `YYYY-MM-DD` (a valid calendar date), else `nil`.
    static func parseDate(_ b: ArraySlice<UInt8>) -> Int64? {
        let s = Array(b)
        guard s.count == 10, s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"), let year = number(s, 0, 4),
            let month = number(s, 5, 2), let day = number(s, 8, 2), (1...12).contains(month), day >= 1
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= lengths[Int(month - 1)] else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func digit(_ c: UInt8) -> Int64? {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") ? Int64(c - UInt8(ascii: "0")) : nil
    }

    /// The `width`-digit decimal number at `start` of `b`, or `nil`.
    private static func number(_ b: [UInt8], _ start: Int, _ width: Int) -> Int64? {
        guard start >= 0, start + width <= b.count else { return nil }
        var v: Int64 = 0
        for i in start..<(start + width) {
            guard let d = digit(b[i]) else { return nil }
            v = v * 10 + d
        }
        return v
    }
}
