/// Parses and prints the durations of config files: `500ms`, `30s`, `15m`, `1h`, `7d`,
/// and combinations such as `1h30m`.
public enum DurationFormat {
    /// Nanoseconds for `text`, or `nil` when it is not a duration.
    public static func parse(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64 = 0
        var haveDigits = false
        var sawUnit = false
        var chars = Array(text.utf8)[...]
        if chars.isEmpty { return nil }
        while let c = chars.first {
            if c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                let (m, o1) = number.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(c - UInt8(ascii: "0")))
                if o1 || o2 { return nil }
                number = a
                haveDigits = true
                chars = chars.dropFirst()
                continue
            }
            guard haveDigits else { return nil }
            let unit: Int64
            if chars.starts(with: "ms".utf8) {
                unit = 1_000_000
                chars = chars.dropFirst(2)
            } else {
                switch c {
                case UInt8(ascii: "s"): unit = 1_000_000_000
                case UInt8(ascii: "m"): unit = 60 * 1_000_000_000
                case UInt8(ascii: "h"): unit = 3_600 * 1_000_000_000
                case UInt8(ascii: "d"): unit = 86_400 * 1_000_000_000
                case UInt8(ascii: "w"): unit = 7 * 86_400 * 1_000_000_000
                default: return nil
                }
                chars = chars.dropFirst()
            }
            let (p, o1) = number.multipliedReportingOverflow(by: unit)
            let (s, o2) = total.addingReportingOverflow(p)
            if o1 || o2 { return nil }
            total = s
            number = 0
            haveDigits = false
            sawUnit = true
        }
        if haveDigits {
            // A bare "0" is accepted as zero; any other unitless number is ambiguous.
            guard number == 0, !sawUnit || total == 0 else { return nil }
        }
        return total
    }

    /// The shortest text for `nanoseconds` in the largest whole units: `1h`, `90s`, `1h30m`.
    public static func format(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        var rest = nanoseconds
        var out = ""
        let units: [(Int64, String)] = [
            (86_400 * 1_000_000_000, "d"), (3_600 * 1_000_000_000, "h"), (60 * 1_000_000_000, "m"),
            (1_000_000_000, "s"), (1_000_000, "ms"),
        ]
        for (size, suffix) in units where rest >= size {
            out += "\(rest / size)\(suffix)"
            rest %= size
        }
        if rest > 0 { out += "\(rest)ns" }
        return out
    }
}
