import Foundation

/// Renders alert message templates.
///
/// Placeholders: `{value}` and `{threshold}` (at most two decimals, no trailing zeros,
/// `—` when there is none), `{kpi}`, `{rule}`, `{severity}`, `{since}` (local `HH:MM`
/// of the start of the current phase) and `{group.TAG}` (the series' value of tag
/// `TAG`, `—` when the alert has no such tag, as the KPI-level deadman alert, whose
/// group is empty). Anything else between braces is kept as written (the config
/// loader rejects names that look like misspelt placeholders); an unclosed `{` is
/// plain text.
public enum AlertMessage {
    /// The placeholder names of the template language, besides `group.TAG`.
    public static let placeholders = ["value", "threshold", "kpi", "rule", "severity", "since"]

    /// What a template is rendered with.
    public struct Context: Sendable {
        /// Rule name.
        public var rule: String
        /// KPI name.
        public var kpi: String
        /// Severity.
        public var severity: String
        /// The value, if any.
        public var value: Double?
        /// The threshold, if any.
        public var threshold: Double?
        /// Start of the current phase, ns since the epoch.
        public var since: Int64
        /// Group tags of the series.
        public var group: [TagPair]

        /// A context with every field given.
        public init(
            rule: String,
            kpi: String,
            severity: String,
            value: Double?,
            threshold: Double?,
            since: Int64,
            group: [TagPair]
        ) {
            self.rule = rule
            self.kpi = kpi
            self.severity = severity
            self.value = value
            self.threshold = threshold
            self.since = since
            self.group = group
        }
    }

    /// `template` with its placeholders replaced; `calendar` gives `{since}` its time zone.
    public static func render(_ template: String, _ context: Context, calendar: Calendar) -> String {
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(where: { $0 == "}" || $0 == "{" }),
                rest[close] == "}"
            else {
                // No closing brace before the next opening one (or the end): a literal `{`.
                out += "{"
                rest = rest[afterOpen...]
                continue
            }
            let name = rest[afterOpen..<close]
            if let value = substitute(name, context, calendar: calendar) {
                out += value
            } else {
                out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }

    /// The names between braces in `template`, in order (`value`, `group.site`, `valeur`…):
    /// what the config loader checks against the known placeholders.
    public static func placeholderNames(in template: String) -> [String] {
        var names: [String] = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(where: { $0 == "}" || $0 == "{" }),
                rest[close] == "}"
            else {
                rest = rest[afterOpen...]
                continue
            }
            names.append(String(rest[afterOpen..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    private static func substitute(_ name: Substring, _ context: Context, calendar: Calendar) -> String? {
        switch name {
        case "value": return context.value.map(format) ?? "—"
        case "threshold": return context.threshold.map(format) ?? "—"
        case "kpi": return context.kpi
        case "rule": return context.rule
        case "severity": return context.severity
        case "since": return localTime(context.since, calendar: calendar)
        default:
            guard name.hasPrefix("group.") else { return nil }
            let tag = name.dropFirst("group.".count)
            return context.group.first { $0.key == tag }?.value ?? "—"
        }
    }

    /// `31.46`, `30`, `0.8`, `-2.5`: rounded to two decimals, trailing zeros dropped.
    public static func format(_ value: Double) -> String {
        let scaled = (value * 100).rounded()
        guard scaled.isFinite, abs(scaled) < 9e18 else { return String(value) }
        let cents = Int64(scaled)
        if cents == 0 { return "0" }
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let whole = magnitude / 100
        let fraction = magnitude % 100
        if fraction == 0 { return "\(sign)\(whole)" }
        if fraction % 10 == 0 { return "\(sign)\(whole).\(fraction / 10)" }
        return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// `HH:MM` of `ns` in `calendar`'s time zone.
    public static func localTime(_ ns: Int64, calendar: Calendar) -> String {
        let second = ns / 1_000_000_000 - (ns % 1_000_000_000 < 0 ? 1 : 0)
        let parts = calendar.dateComponents([.hour, .minute], from: Date(timeIntervalSince1970: Double(second)))
        let hour = parts.hour ?? 0
        let minute = parts.minute ?? 0
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }
}
