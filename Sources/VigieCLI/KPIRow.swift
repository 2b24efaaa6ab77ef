import Foundation
import Rainbow
import VigieCore

/// One KPI series as shown by `vigie status` and `vigie watch`, from a feed message or
/// a snapshot entry.
struct KPIRow: Equatable {
    var kpi: String
    var title: String
    var group: [(key: String, value: String)]
    var value: Double?
    var unit: String?
    var window: String
    var samples: Int
    var target: Double?
    var direction: Direction
    var status: KPIStatus
    var lastSample: String?
    var ts: String

    static func == (a: KPIRow, b: KPIRow) -> Bool {
        a.kpi == b.kpi && a.groupText == b.groupText && a.value == b.value && a.samples == b.samples
            && a.status == b.status && a.ts == b.ts
    }

    /// Identity of the series: KPI name and group.
    var key: String { kpi + "|" + groupText }

    var groupText: String {
        group.isEmpty ? "—" : group.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    /// `site=nord guichet=2` with keys sorted (a JSON object does not keep the
    /// `group_by` order), `empty` for no tag.
    static func groupText(_ group: [String: String], empty: String = "—") -> String {
        group.isEmpty ? empty : group.keys.sorted().map { "\($0)=\(group[$0] ?? "")" }.joined(separator: " ")
    }

    /// A feed message or snapshot entry. Every text in it is shown to a person: control
    /// characters (from tag values, names) are escaped (`DisplayText`).
    init(_ message: FeedMessage.KPI) {
        kpi = DisplayText.escaped(message.kpi)
        title = DisplayText.escaped(message.title)
        // A JSON object does not keep key order; sort for a stable display.
        group = message.group.keys.sorted().map {
            (DisplayText.escaped($0), DisplayText.escaped(message.group[$0] ?? ""))
        }
        value = message.value
        unit = message.unit.map(DisplayText.escaped)
        window = DisplayText.escaped(message.window)
        samples = message.samples
        target = message.target
        direction = message.direction
        status = message.status
        lastSample = message.lastSample
        ts = message.ts
    }

    /// `12.5 min`, `85.2 %` for `unit = "ratio"`, `—` when unknown.
    var valueText: String { Self.format(value, unit: unit) }
    var targetText: String {
        guard let target else { return "" }
        return (direction == .above ? "≥ " : "≤ ") + Self.format(target, unit: unit)
    }

    /// `unit = "ratio"` (shares and ratios) is shown as a percentage: 0.853 → `85.3 %`.
    static func format(_ value: Double?, unit: String?) -> String {
        guard let value else { return "—" }
        if unit == "ratio" { return String(format: "%.1f %%", value * 100) }
        let number: String
        let magnitude = abs(value)
        if magnitude >= 1000 || value == value.rounded() {
            number = String(format: "%.0f", value)
        } else if magnitude >= 100 {
            number = String(format: "%.1f", value)
        } else if magnitude >= 1 {
            number = String(format: "%.2f", value)
        } else {
            number = String(format: "%.3f", value)
        }
        guard let unit, !unit.isEmpty else { return number }
        return number + " " + unit
    }

    /// The status word coloured for a terminal.
    var statusText: String {
        switch status {
        case .ok: return "ok".green
        case .warning: return "warning".yellow
        case .critical: return "CRITICAL".red.bold
        case .unknown: return "unknown".dim
        }
    }
}

/// Renders rows as an aligned text table (display width aware for accents).
enum TableRenderer {
    static func render(headers: [String], rows: [[String]], maxWidth: Int = 200) -> String {
        var widths = headers.map(displayWidth)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], displayWidth(cell))
            }
        }
        var out = line(headers.map { $0.bold }, headers, widths) + "\n"
        for row in rows { out += line(row, row, widths) + "\n" }
        return out
    }

    private static func line(_ styled: [String], _ plain: [String], _ widths: [Int]) -> String {
        var parts: [String] = []
        for (i, cell) in styled.enumerated() {
            let pad = max(0, widths[i] - displayWidth(plain[i]))
            parts.append(cell + String(repeating: " ", count: pad))
        }
        return parts.joined(separator: "  ")
    }

    /// Visible width: ANSI escapes removed, one column per Unicode scalar cluster.
    static func displayWidth(_ s: String) -> Int {
        var count = 0
        var inEscape = false
        for scalar in s.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
                continue
            }
            if scalar == "\u{1B}" {
                inEscape = true
                continue
            }
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            count += 1
        }
        return count
    }
}
