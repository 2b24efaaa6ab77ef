/// Times as people type them on the command line and in `history` requests.
public enum TimeArgument {
    /// Nanoseconds since the epoch for `text`, or `nil` when it is none of:
    /// - `now`;
    /// - a duration relative to `now`: `-7d`, `-24h`, `-1h30m`, `+15m`;
    /// - a date, `2026-11-01`: midnight UTC;
    /// - RFC 3339: `2026-11-01T08:30:00Z`, `2026-11-01T19:30:00+11:00`.
    public static func parse(_ text: String, now: Int64) -> Int64? {
        let trimmed = text.trimmingSpaces
        if trimmed == "now" { return now }
        if let sign = trimmed.first, sign == "-" || sign == "+" {
            guard let d = DurationFormat.parse(String(trimmed.dropFirst())) else { return nil }
            let (t, overflow) = sign == "-" ? now.subtractingReportingOverflow(d) : now.addingReportingOverflow(d)
            return overflow ? nil : t
        }
        let bytes = Array(trimmed.utf8)
        if bytes.count == 10, let days = Timestamps.parseDate(bytes[...]) {
            let (t, overflow) = days.multipliedReportingOverflow(by: 86_400_000_000_000)
            return overflow ? nil : t
        }
        return Timestamps.parseRFC3339(trimmed)
    }

    /// What `parse` accepts, for error messages.
    public static let forms = "now, -7d, -24h, a date (2026-11-01, UTC) or RFC 3339 (2026-11-01T08:30:00Z)"
}

extension String {
    /// Without leading and trailing spaces and tabs (no Foundation).
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
