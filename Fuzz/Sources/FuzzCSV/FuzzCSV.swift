import Foundation
import VigieConfig
import VigieCore

/// libFuzzer target: the agent's CSV `file` collector — its mapping as configured, the
/// file's rows as whatever produces them writes them.
///
/// `CSVMapping.swift` and `LineProtocolText.swift` are the agent's own files
/// (`Sources/VigieAgent/Collectors`, symbolic links here): VigieAgent is not a library
/// product, and linking it would bring SwiftNIO and BoringSSL into every fuzz build.
///
/// Input: a mapping, a NUL byte, then the CSV file (header row first). Without a NUL, the
/// whole input is the file and the mapping is `config/agent.toml`'s. The mapping is four
/// lines: the measurement; the tag columns, `|`-separated; the field columns,
/// `|`-separated, each `name=column` to rename (then written as a table,
/// `fields = { name = "column" }`); the timestamp column (empty: none). It becomes a
/// `[[collector]]` of an agent file read by ``ConfigLoader/parseAgent(_:path:)``, so only
/// mappings the agent accepts are used; then the file's rows go through ``CSVMapping``
/// as `FileCollector` hands them over.
///
/// Invariants: the line made of a row parses as exactly one line of line protocol with
/// VigieCore's parser (or is refused for a size limit, as the daemon would refuse it),
/// holding the configured measurement, the non-empty tag cells under their columns'
/// names, each non-empty field cell's number exactly, and the timestamp cell's time.
enum FuzzCSV {
    static let defaultMapping = "guichet_attente\nguichet|motif\nvalue=attente_min\nhorodatage"
    // libFuzzer calls the target from one thread only.
    nonisolated(unsafe) static let parser = LineProtocolParser()
    /// Mappings already through the loader (most mutations keep the mapping).
    nonisolated(unsafe) static var mappings: [String: CSVMapping?] = [:]

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        let spec: String
        let file: [UInt8]
        if let nul = bytes.firstIndex(of: 0) {
            spec = String(decoding: bytes[..<nul], as: UTF8.self)
            file = Array(bytes[(nul + 1)...])
        } else {
            spec = defaultMapping
            file = bytes
        }
        guard let mapping = mapping(spec) else { return }
        convert(file, mapping: mapping)
    }

    /// The mapping `spec` describes, if the agent's loader accepts it.
    static func mapping(_ spec: String) -> CSVMapping? {
        if let known = mappings[spec] { return known }
        if mappings.count > 4_096 { mappings.removeAll() }
        let parts = spec.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func list(_ i: Int) -> [String] {
            guard i < parts.count, !parts[i].isEmpty else { return [] }
            return parts[i].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        }
        let measurement = parts.first ?? ""
        let tags = list(1)
        let fields = list(2)
        let timestamp = parts.count > 3 ? parts[3] : ""
        var toml = """
            [agent]
            name = "fuzz"
            [[collector]]
            name = "csv"
            type = "file"
            path = "/var/lib/guichet/file-attente.csv"
            format = "csv"
            measurement = \(quoted(measurement))
            tags = [\(tags.map(quoted).joined(separator: ", "))]

            """
        if fields.contains(where: { $0.contains("=") }) {
            let pairs = fields.map { entry -> String in
                let pair = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                return "\(quoted(pair[0])) = \(quoted(pair.count > 1 ? pair[1] : ""))"
            }
            toml += "fields = { \(pairs.joined(separator: ", ")) }\n"
        } else {
            toml += "fields = [\(fields.map(quoted).joined(separator: ", "))]\n"
        }
        if !timestamp.isEmpty { toml += "timestamp = \(quoted(timestamp))\n" }

        var result: CSVMapping?
        if let configuration = try? ConfigLoader.parseAgent(toml),
            case .file(_, .csv(let measurement, let tags, let fields, let timestamp, let fieldNames))? =
                configuration.collectors.first?.kind
        {
            result = CSVMapping(
                measurement: measurement,
                tags: tags,
                fields: fields,
                timestamp: timestamp,
                fieldNames: fieldNames
            )
        }
        mappings[spec] = result
        return result
    }

    /// A TOML basic string holding `text`.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u00" + String(scalar.value, radix: 16).uppercased().leftPadded(to: 2)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The file's rows through the mapping as `FileCollector.convert` takes them: the
    /// first line is the header, then each non-blank line (a `\r` before its `\n`
    /// dropped) is a row; checks each line made against its row.
    static func convert(_ file: [UInt8], mapping: CSVMapping) {
        guard let newline = file.firstIndex(of: 0x0A) else {
            _ = mapping.header(String(decoding: file, as: UTF8.self))
            return
        }
        let header = mapping.header(String(decoding: file[..<newline], as: UTF8.self))
        guard header.missing == nil else { return }
        for row in file[(newline + 1)...].split(separator: 0x0A, omittingEmptySubsequences: true) {
            var text = String(decoding: row, as: UTF8.self)
            if text.hasSuffix("\r") { text.removeLast() }
            if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            guard let line = mapping.line(text, header: header) else { continue }
            check(line, row: CSVMapping.cells(text), mapping: mapping, header: header)
        }
    }

    /// `line` parses, and holds what `row` says.
    static func check(_ line: String, row: [String], mapping: CSVMapping, header: CSVMapping.Header) {
        func cell(_ column: Int?) -> String? {
            guard let column, column >= 0, column < row.count else { return nil }
            return row[column]
        }
        /// What the escaping writes for a name or value: line breaks and tabs become spaces.
        func written(_ text: String) -> [UInt8] {
            var out = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                out.append(scalar == "\n" || scalar == "\r" || scalar == "\t" ? " " : scalar)
            }
            return Array(String(out).utf8)
        }
        var parsed = 0
        var refusal: LineProtocolError?
        _ = Array(line.utf8).withUnsafeBytes { bytes in
            parser.parse(bytes) { parsedLine in
                parsed += 1
                guard parsedLine.measurement.bytes == written(mapping.measurement) else {
                    fatalError("invariant: measurement \(parsedLine.measurement.string) in \(line)")
                }
                let tags = header.tags.compactMap { tag in
                    cell(tag.column).flatMap { $0.isEmpty ? nil : (written(tag.name), written($0)) }
                }
                guard parsedLine.tags.count == tags.count,
                    zip(parsedLine.tags, tags).allSatisfy({ $0.key.bytes == $1.0 && $0.value.bytes == $1.1 })
                else {
                    fatalError("invariant: the tags of \(line) are not the row's")
                }
                let fields = header.fields.compactMap { field in
                    cell(field.column).flatMap { $0.isEmpty ? nil : (written(field.name), Double($0)) }
                }
                guard parsedLine.fields.count == fields.count,
                    zip(parsedLine.fields, fields).allSatisfy({ parsed, expected in
                        guard case .float(let value) = parsed.value, let number = expected.1 else { return false }
                        return parsed.key.bytes == expected.0 && value.bitPattern == number.bitPattern
                    })
                else {
                    fatalError("invariant: the fields of \(line) are not the row's")
                }
                let time = cell(header.timestamp).flatMap { $0.isEmpty ? nil : CSVMapping.timestamp($0) }
                guard parsedLine.timestamp == time else { fatalError("invariant: the timestamp of \(line)") }
            } onError: { error in
                refusal = error
            }
        }
        if let refusal {
            guard refusal.limit != nil else {
                fatalError("invariant: CSV row \(row) makes \(line.debugDescription), refused: \(refusal.reason)")
            }
        } else if parsed != 1 {
            fatalError("invariant: CSV row \(row) makes \(line.debugDescription), \(parsed) lines of line protocol")
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

/// libFuzzer's own entry point, for its `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzCSV.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
