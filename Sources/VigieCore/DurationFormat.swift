/// Parses and prints the durations of config files: `500ms`, `30s`, `15m`, `1h`, `7d`,
/// and combinations such as `1h30m`.
///
/// Every duration that comes from outside (config, control requests, command lines) goes
/// through `parse`, which accepts at most `maximum`: a hundred years, so that adding one
/// to (or subtracting one from) a time of this century cannot overflow. Sums and
/// products of several are still checked where they happen.
public enum DurationFormat {
    /// The longest duration accepted: 36,500 days (100 years of 365 days).
    public static let maximum: Int64 = 36_500 * 86_400 * 1_000_000_000

    /// Nanoseconds for `text`, or `nil` when it is not a duration or is longer than
    /// `maximum` (`explain` says which).
    public static func parse(_ text: String) -> Int64? {
        guard let nanoseconds = parseUnbounded(text), nanoseconds <= maximum else { return nil }
        return nanoseconds
    }

    /// True when `text` is a well-formed duration longer than `maximum`.
    public static func exceedsMaximum(_ text: String) -> Bool {
        parseUnbounded(text).map { $0 > maximum } ?? false
    }

    /// Why `text` is not accepted by `parse`, for an error message: `"100000d" is
    /// longer than 36500d (100 years), the longest duration accepted`.
    public static func explain(_ text: String) -> String {
        let shown = JSONText.quoted(text.count > 40 ? String(text.prefix(40)) + "…" : text)
        if exceedsMaximum(text) {
            return "\(shown) is longer than 36500d (100 years), the longest duration accepted"
        }
        return "\(shown) is not a duration such as \"30s\", \"15m\", \"2h\" or \"7d\""
    }

    private static func parseUnbounded(_ text: String) -> Int64? {
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
