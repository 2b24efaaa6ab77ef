/// Formats event times for humans and JSON.
public enum Timestamps {
    /// Bytes of an RFC 3339 text from ``appendRFC3339(nanoseconds:into:)``.
    public static let rfc3339Length = 24

    /// RFC 3339 UTC text with milliseconds, e.g. `2026-11-29T04:13:29.123Z`.
    ///
    /// Pure arithmetic (Howard Hinnant's civil-from-days), no Foundation formatter.
    public static func rfc3339(nanoseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rfc3339Length)
        appendRFC3339(nanoseconds: nanoseconds, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the ``rfc3339(nanoseconds:)`` text to `output`, digit by digit: no
    /// intermediate `String`, so the feed's encoders allocate nothing for it. Years
    /// outside 0…9999 are written with as many digits as they need (and a sign).
    public static func appendRFC3339(nanoseconds: Int64, into output: inout [UInt8]) {
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
        if (0...9_999).contains(year) {
            appendDigits(year, 4, into: &output)
        } else {
            output.append(contentsOf: String(year).utf8)
        }
        output.append(UInt8(ascii: "-"))
        appendDigits(month, 2, into: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(day, 2, into: &output)
        output.append(UInt8(ascii: "T"))
        appendDigits(msOfDay / 3_600_000, 2, into: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(msOfDay / 60_000 % 60, 2, into: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(msOfDay / 1_000 % 60, 2, into: &output)
        output.append(UInt8(ascii: "."))
        appendDigits(msOfDay % 1_000, 3, into: &output)
        output.append(UInt8(ascii: "Z"))
    }

    /// Appends the `width` low decimal digits of `value` (0 ≤ value < 10^width).
    @inline(__always)
    private static func appendDigits(_ value: Int64, _ width: Int, into output: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor &*= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
