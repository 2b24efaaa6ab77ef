import Foundation
import TOMLKit
import VigieCore

/// Reads a Vigie TOML configuration and validates all of it.
///
/// Both entry points throw `ConfigErrors` listing every problem of the file at once,
/// each with file, line, key and a hint; a TOML syntax error (of which TOMLKit finds
/// only the first) comes with its line and column.
public enum ConfigLoader {
    /// The default location of the configuration file.
    public static let defaultPath = "/etc/vigie/vigie.toml"

    /// Top-level tables the loader reads.
    static let readTables = [
        "daemon", "endpoints", "ingest", "history", "http", "security", "kpi", "alert", "notifier",
    ]
    /// Top-level tables accepted and left for later parts (security).
    static let deferredTables: [String] = []

    /// Loads and validates the file at `path`.
    ///
    /// - Throws: `ConfigErrors`, also when the file is missing, unreadable or not UTF-8.
    public static func load(path: String) throws -> VigieConfiguration {
        let text = try readText(
            path: path,
            missingHint: "check the path; the daemon reads \(defaultPath) unless told otherwise"
        )
        var configuration = try parse(text, path: path)
        configuration.sourcePath = path
        return configuration
    }

    /// Parses and validates configuration `text`; `path` only names it in errors.
    ///
    /// - Throws: `ConfigErrors`.
    public static func parse(_ text: String, path: String = "<string>") throws -> VigieConfiguration {
        try validate(text, path: path, read)
    }

    /// Every table of the array of tables `name` (`[[kpi]]`, `[[alert]]`…) read by `read`
    /// (nil: that table has errors, already reported); a `[name]` written with single
    /// brackets, a non-table value or a non-table element is reported with the hints given.
    ///
    /// - Parameters:
    ///   - above: what follows "write [[name]] (double brackets) above each", e.g. "KPI".
    ///   - example: the example of a wrongly typed value, e.g. "[[kpi]] above each KPI".
    ///   - element: what follows "write each", e.g. "KPI as a [[kpi]] table".
    static func readArrayOfTables<T>(
        _ root: TableReader,
        _ name: String,
        above: String,
        example: String,
        element elementHint: String,
        _ read: (TableReader, inout [String: Int?]) -> T?
    ) -> [T] {
        guard let value = root.table[name] else { return [] }
        guard let array = value.array else {
            if value.type == .table {
                root.report(
                    name,
                    "[\(name)] must be an array of tables",
                    hint: "write [[\(name)]] (double brackets) above each \(above)"
                )
            } else {
                root.reportType(name, value, expected: "an array of tables", example: example)
            }
            return []
        }
        var items: [T] = []
        var firstLines: [String: Int?] = [:]
        for (index, element) in array.enumerated() {
            let scope = root.scope.child(name).element(index)
            let unnamed = Scope(path: scope.path, label: "\(name) #\(index + 1)", relative: ConfigPath())
            guard let table = element.table else {
                root.diagnostics.report(
                    at: unnamed.path,
                    key: unnamed.displayKey,
                    "expected a table, found \(TableReader.describe(element))",
                    hint: "write each \(elementHint)"
                )
                continue
            }
            let reader = TableReader(table, scope: unnamed, diagnostics: root.diagnostics)
            if let item = read(reader, &firstLines) { items.append(item) }
        }
        return items
    }

    /// The text of the configuration file at `path`, or `ConfigErrors` saying why not
    /// (missing — with `missingHint` —, a directory, unreadable, not UTF-8).
    static func readText(path: String, missingHint: String) throws -> String {
        func failure(_ message: String, hint: String?) -> ConfigErrors {
            ConfigErrors([ConfigError(file: path, key: "", message: message, hint: hint)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw failure("no such file", hint: missingHint)
        }
        guard !isDirectory.boolValue else {
            throw failure("is a directory, not a configuration file", hint: "name the .toml file itself")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure("cannot be read", hint: "check the file's permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw failure("is not valid UTF-8", hint: "save the file as UTF-8")
        }
        return text
    }

    /// Parses `text` as TOML and reads it with `read`, collecting every problem; throws
    /// them all (sorted by line) if there is any.
    static func validate<T>(_ text: String, path: String, _ read: (TableReader) -> T) throws -> T {
        let root: TOMLTable
        do {
            if let (line, column) = headerWithoutKey(text) {
                throw ConfigErrors([
                    ConfigError(
                        file: path,
                        line: line,
                        column: column,
                        key: "",
                        message: "TOML syntax error: a table header must start with its name",
                        hint: "tables are [name] or [[kpi]], each key = value on its own line, text in double quotes"
                    )
                ])
            }
            root = try TOMLTable(string: text)
        } catch let error as ConfigErrors {
            throw error
        } catch let error as TOMLParseError {
            throw ConfigErrors([syntaxError(error, file: path)])
        } catch {
            throw ConfigErrors([ConfigError(file: path, key: "", message: "invalid TOML: \(error)")])
        }
        let diagnostics = Diagnostics(file: path, sourceMap: SourceMap(text: text))
        let configuration = read(TableReader(root, scope: .root, diagnostics: diagnostics))
        if !diagnostics.errors.isEmpty { throw ConfigErrors(diagnostics.sortedErrors) }
        return configuration
    }

    static func read(_ root: TableReader) -> VigieConfiguration {
        root.rejectUnknownKeys(readTables + deferredTables, context: "the top level")
        var configuration = VigieConfiguration()
        if let table = root.table("daemon", example: "[daemon] on its own line") {
            configuration.daemon = readDaemon(table)
        }
        if let table = root.table("endpoints", example: "[endpoints] on its own line") {
            configuration.endpoints = readEndpoints(table)
        }
        if let table = root.table("ingest", example: "[ingest] on its own line") {
            configuration.ingest = readIngest(table)
        }
        if let table = root.table("history", example: "[history] on its own line") {
            configuration.history = readHistory(table)
        }
        if let table = root.table("http", example: "[http] on its own line") {
            configuration.http = readHTTP(table)
        }
        if let table = root.table("security", example: "[security] on its own line") {
            configuration.security = readSecurity(table)
        }
        configuration.kpis = readKPIs(root, defaultMaxSeries: configuration.ingest.maxSeriesPerKPI)
        configuration.alerts = readAlerts(root, kpis: configuration.kpis)
        configuration.notifiers = readNotifiers(root)
        for name in deferredTables {
            guard let value = root.table[name] else { continue }
            if value.type != .table && value.type != .array {
                root.reportType(name, value, expected: "a table", example: "[\(name)] or [[\(name)]]")
            }
        }
        return configuration
    }

    /// The line and column of a table header that does not start with a key — `[[[`,
    /// `[=`, `[#`, a `[` alone on its line — or nil. TOMLKit's toml++ (3.4.0) asserts
    /// on those instead of reporting an error, aborting the process (vigied itself, on
    /// a reload): marzer/tomlplusplus#301. So they are found first, by a scan that skips
    /// strings, comments and the values of keys (arrays span lines).
    static func headerWithoutKey(_ text: String) -> (line: Int, column: Int)? {
        let bytes = Array(text.utf8)
        let quote = UInt8(ascii: "\"")
        let apostrophe = UInt8(ascii: "'")
        let backslash = UInt8(ascii: "\\")
        func isBlank(_ i: Int) -> Bool { i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) }
        func isKeyStart(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), quote, apostrophe:
                return true
            default:
                return false
            }
        }
        var i = 0
        var line = 1
        var lineStart = 0
        var depth = 0  // brackets and braces open in a value
        var atStatement = true  // nothing but blanks yet on a line outside any value
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case 0x0A:
                line += 1
                lineStart = i + 1
                if depth == 0 { atStatement = true }
                i += 1
            case 0x20, 0x09, 0x0D:
                i += 1
            case UInt8(ascii: "#"):
                while i < bytes.count && bytes[i] != 0x0A { i += 1 }
            case quote, apostrophe:
                atStatement = false
                if i + 2 < bytes.count && bytes[i + 1] == byte && bytes[i + 2] == byte {
                    i += 3
                    while i < bytes.count {
                        if byte == quote && bytes[i] == backslash {
                            i += 1  // the escaped character is skipped below, a line break counted
                        } else if i + 2 < bytes.count && bytes[i] == byte && bytes[i + 1] == byte
                            && bytes[i + 2] == byte
                        {
                            // The closing delimiter, after up to two quotes of the content.
                            while i < bytes.count && bytes[i] == byte { i += 1 }
                            break
                        }
                        if i < bytes.count && bytes[i] == 0x0A {
                            line += 1
                            lineStart = i + 1
                        }
                        i += 1
                    }
                } else {
                    i += 1
                    while i < bytes.count && bytes[i] != byte && bytes[i] != 0x0A {
                        let escaped =
                            byte == quote && bytes[i] == backslash && i + 1 < bytes.count && bytes[i + 1] != 0x0A
                        i += escaped ? 2 : 1
                    }
                    if i < bytes.count && bytes[i] == byte { i += 1 }
                }
            case UInt8(ascii: "[") where atStatement && depth == 0:
                var j = i + 1
                while isBlank(j) { j += 1 }
                if j < bytes.count && bytes[j] == UInt8(ascii: "[") && j == i + 1 {
                    j += 1
                    while isBlank(j) { j += 1 }
                }
                if j < bytes.count && bytes[j] != UInt8(ascii: "]") && !isKeyStart(bytes[j]) {
                    return (line, j - lineStart + 1)
                }
                atStatement = false
                while i < bytes.count && bytes[i] != 0x0A { i += 1 }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                atStatement = false
                i += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
                atStatement = false
                i += 1
            default:
                atStatement = false
                i += 1
            }
        }
        return nil
    }

    static func syntaxError(_ error: TOMLParseError, file: String) -> ConfigError {
        let position = error.source.begin
        var message = error.description
        if let first = message.first { message = first.lowercased() + message.dropFirst() }
        return ConfigError(
            file: file,
            line: position.line > 0 ? position.line : nil,
            column: position.column > 0 ? position.column : nil,
            key: "",
            message: "TOML syntax error: \(message)",
            hint: syntaxHint(error.description)
        )
    }

    /// A fix for the TOML syntax errors people make most in this file.
    static func syntaxHint(_ message: String) -> String {
        let text = message.lowercased()
        if text.contains("redefine") || text.contains("already") {
            return "each key and each [table] may appear once; every KPI starts with its own [[kpi]] (double brackets)"
        }
        if text.contains("string") || text.contains("control character") {
            return "a string is not closed on its line: end it with a double quote"
        }
        if text.contains("value type") || text.contains("expected") {
            return "text values need double quotes (window = \"1h\"); numbers and true/false do not"
        }
        return "tables are [name] or [[kpi]], each key = value on its own line, text in double quotes"
    }
}
