import Foundation
import TOMLKit
import VigieCore

/// Typed, error-collecting access to one TOML table.
///
/// Each accessor returns `nil` both when the key is absent and when its value is
/// wrong; in the second case it has already reported the problem. Callers use
/// `contains` when they must tell the two apart.
final class TableReader {
    let table: TOMLTable
    let scope: Scope
    let diagnostics: Diagnostics

    init(_ table: TOMLTable, scope: Scope, diagnostics: Diagnostics) {
        self.table = table
        self.scope = scope
        self.diagnostics = diagnostics
    }

    var keys: [String] { table.keys }

    func contains(_ key: String) -> Bool { table[key] != nil }

    /// Reports a problem with `key` of this table (or with the table itself when `key` is nil).
    func report(_ key: String?, _ message: String, hint: String? = nil) {
        let target = key.map { scope.child($0) } ?? scope
        diagnostics.report(at: target.path, key: target.displayKey, message, hint: hint)
    }

    /// Reports every key that is not in `known`, with a did-you-mean hint.
    func rejectUnknownKeys(_ known: [String], context: String) {
        for key in keys where !known.contains(key) {
            report(
                key,
                "unknown key in \(context)",
                hint: Suggestions.hint(for: key, among: known, listName: "known keys")
            )
        }
    }

    /// Reports that required `key` is missing, unless an unknown key of this table is
    /// a likely misspelling of it (already reported with a did-you-mean hint).
    func reportMissing(_ key: String, known: [String], _ message: String, hint: String, onTable: Bool = false) {
        let misspelt = keys.contains { !known.contains($0) && Suggestions.closest(to: $0, among: known) == key }
        if !misspelt { report(onTable ? nil : key, message, hint: hint) }
    }

    /// The `type` of a `[[kind]]` table, one of `types`; nil (reported) when it is
    /// missing, not a string or unknown (with the closest type as a hint).
    func type(
        among types: [String],
        of kind: String,
        known: [String],
        missingHint: String,
        onTable: Bool = false
    ) -> String? {
        guard contains("type") else {
            reportMissing("type", known: known, "missing type", hint: missingHint, onTable: onTable)
            return nil
        }
        guard let text = string("type", example: "type = \"exec\"") else { return nil }
        guard types.contains(text) else {
            report(
                "type",
                "unknown \(kind) type \"\(text)\"",
                hint: Suggestions.hint(for: text, among: types, listName: "types")
            )
            return nil
        }
        return text
    }

    // MARK: Typed values

    func string(_ key: String, example: String? = nil) -> String? {
        guard let value = table[key] else { return nil }
        if let text = value.string { return text }
        reportType(key, value, expected: "a string", example: example ?? "\(key) = \"\(Self.plain(value))\"")
        return nil
    }

    /// A string that must not be empty or blank.
    func nonEmptyString(_ key: String, example: String? = nil) -> String? {
        guard let text = string(key, example: example) else { return nil }
        if text.allSatisfy(\.isWhitespace) {
            report(key, "must not be empty", hint: example.map { "for example \($0)" })
            return nil
        }
        return text
    }

    func integer(_ key: String, in range: ClosedRange<Int>, unit: String? = nil) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else {
            if let double = value.double, double.rounded() == double, abs(double) < 1e15 {
                report(key, "expected an integer, found \(double)", hint: "write \(key) = \(Int(double))")
            } else {
                reportType(key, value, expected: "an integer", example: "\(key) = \(range.lowerBound)")
            }
            return nil
        }
        guard range.contains(number) else {
            let upper = range.upperBound == Int.max ? "" : " and \(range.upperBound)"
            let bound = upper.isEmpty ? "at least \(range.lowerBound)" : "between \(range.lowerBound)\(upper)"
            report(key, "\(number) is out of range", hint: "must be \(bound)" + (unit.map { " (\($0))" } ?? ""))
            return nil
        }
        return number
    }

    /// An integer or a floating-point number, finite.
    func number(_ key: String) -> Double? {
        guard let value = table[key] else { return nil }
        if let int = value.int { return Double(int) }
        if let double = value.double {
            guard double.isFinite else {
                report(key, "must be a finite number, found \(double)")
                return nil
            }
            return double
        }
        reportType(key, value, expected: "a number", example: "\(key) = 20")
        return nil
    }

    /// A duration string (`30s`, `15m`, `1h`, `7d`) in nanoseconds, at least `minimum`.
    func duration(_ key: String, minimum: Int64 = 0) -> Int64? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else {
            if let int = value.int {
                report(
                    key,
                    "expected a duration string, found the integer \(int)",
                    hint: "durations are strings with a unit: \(key) = \"\(int)s\" (ms, s, m, h, d, w)"
                )
            } else {
                reportType(key, value, expected: "a duration string", example: "\(key) = \"15m\"")
            }
            return nil
        }
        guard let nanoseconds = DurationFormat.parse(text) else {
            if DurationFormat.exceedsMaximum(text) {
                report(key, DurationFormat.explain(text), hint: "durations are at most 100 years")
            } else {
                report(key, "\"\(text)\" is not a duration", hint: Self.durationHint(key: key, text: text))
            }
            return nil
        }
        guard nanoseconds >= minimum else {
            let floor = minimum == 1 ? "more than 0s" : "at least \(DurationFormat.format(nanoseconds: minimum))"
            report(key, "\"\(text)\" is too short", hint: "must be \(floor)")
            return nil
        }
        return nanoseconds
    }

    /// An array of strings; reports the first non-string element.
    func stringArray(_ key: String, example: String) -> [String]? {
        guard let value = table[key] else { return nil }
        if let single = value.string {
            report(key, "expected an array of strings, found a string", hint: "write \(key) = [\"\(single)\"]")
            return nil
        }
        guard let array = value.array else {
            reportType(key, value, expected: "an array of strings", example: example)
            return nil
        }
        var result: [String] = []
        for (index, element) in array.enumerated() {
            guard let text = element.string else {
                let target = scope.child(key).element(index)
                diagnostics.report(
                    at: target.path,
                    key: target.displayKey,
                    "expected a string, found \(Self.describe(element))",
                    hint: "put it in quotes: \"\(Self.plain(element))\""
                )
                return nil
            }
            result.append(text)
        }
        return result
    }

    /// A sub-table (`[a.b]` or an inline `{ … }`).
    func table(_ key: String, example: String) -> TableReader? {
        guard let value = table[key] else { return nil }
        guard let sub = value.table else {
            reportType(key, value, expected: "a table", example: example)
            return nil
        }
        return TableReader(sub, scope: scope.child(key), diagnostics: diagnostics)
    }

    // MARK: Helpers

    func reportType(_ key: String, _ value: TOMLValueConvertible, expected: String, example: String) {
        var hint = "write \(example)"
        if expected != "a string", let text = value.string, Double(text) != nil {
            hint = "remove the quotes: \(key) = \(text)"
        }
        report(key, "expected \(expected), found \(Self.describe(value))", hint: hint)
    }

    /// `an integer (20)`, `a string ("20")`, `a table`.
    static func describe(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: return "a string (\"\(plain(value))\")"
        case .int: return "an integer (\(plain(value)))"
        case .double: return "a floating-point number (\(plain(value)))"
        case .bool: return "a boolean (\(plain(value)))"
        case .table: return "a table"
        case .array: return "an array"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }

    /// `75` for 75.0, `0.75` for 0.75.
    static func format(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int(number)) }
        return String(number)
    }

    /// The value as a person would type it, without quotes for strings.
    static func plain(_ value: TOMLValueConvertible) -> String {
        if let text = value.string { return text }
        if let int = value.int { return String(int) }
        if let double = value.double { return String(double) }
        if let bool = value.bool { return String(bool) }
        return "…"
    }

    /// Suggests a fix for a mistyped duration: `5 minutes` → `5m`.
    static func durationHint(key: String, text: String) -> String {
        let general = "durations are a number and a unit (ms, s, m, h, d, w): \"30s\", \"15m\", \"1h\", \"7d\""
        let units: [String: String] = [
            "ms": "ms", "millisecond": "ms", "milliseconds": "ms", "s": "s", "sec": "s", "secs": "s",
            "second": "s", "seconds": "s", "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
            "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "heure": "h", "heures": "h", "d": "d",
            "day": "d", "days": "d", "jour": "d", "jours": "d", "j": "d", "w": "w", "week": "w", "weeks": "w",
            "semaine": "w", "semaines": "w",
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let rest = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        if !digits.isEmpty, let unit = units[rest] {
            return "did you mean \"\(digits)\(unit)\"? " + general
        }
        return general
    }
}
