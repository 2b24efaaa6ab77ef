import VigieCore

/// How a `file` collector in `csv` format turns rows into line protocol.
///
/// The file's first row names the columns. Each later row becomes
/// `measurement[,tag=value…] field=value[,field=value…] [timestamp]`:
/// - `measurement` is the configured name (not a column);
/// - `tags` name columns whose cells become tag values (an empty cell leaves the tag
///   out); names and values are escaped per line protocol (`,`, `=`, space); a value
///   line protocol cannot hold (ending in a backslash) rejects the row, and so does
///   every row when a configured name cannot be written (see `LineProtocolText.canWrite`);
/// - `fields` name columns of numbers, written as floats under the column's name, or
///   under `fieldNames[column]` when given; an empty cell leaves the field out; a cell
///   that is not a finite number rejects the row, as does a row with no field left;
/// - `timestamp`, when set, names a column of RFC 3339 times or Unix seconds (a
///   fraction allowed), converted to ns; an empty cell gives a line without timestamp;
///   anything else rejects the row.
///
/// Cells follow RFC 4180: separated by commas, optionally in double quotes (`""` is a
/// quote inside), surrounding spaces of unquoted cells trimmed. A quoted cell cannot
/// hold a newline (rows are lines).
struct CSVMapping: Sendable {
    var measurement: String
    var tags: [String]
    var fields: [String]
    var timestamp: String?
    /// The field name of a column of `fields`, when it is not the column's name.
    var fieldNames: [String: String] = [:]

    /// Column positions found in a header row.
    struct Header: Sendable {
        var tags: [(name: String, column: Int)]
        var fields: [(name: String, column: Int)]
        var timestamp: Int?
        /// The first configured column the header lacks.
        var missing: String?
    }

    /// The positions of the configured columns in `row`.
    func header(_ row: String) -> Header {
        let names = Self.cells(row)
        var missing: String?
        func find(_ name: String) -> Int {
            if let column = names.firstIndex(of: name) { return column }
            if missing == nil { missing = name }
            return -1
        }
        let tagColumns = tags.map { (name: $0, column: find($0)) }
        let fieldColumns = fields.map { (name: fieldNames[$0] ?? $0, column: find($0)) }
        let timestampColumn = timestamp.map { find($0) }
        return Header(tags: tagColumns, fields: fieldColumns, timestamp: timestampColumn, missing: missing)
    }

    /// The line protocol of one data row (no line end), or nil when it is rejected.
    func line(_ row: String, header: Header) -> String? {
        let cells = Self.cells(row)
        func cell(_ column: Int) -> String? { column >= 0 && column < cells.count ? cells[column] : nil }
        guard LineProtocolText.canWrite(measurement, measurement: true) else { return nil }
        var output = LineProtocolText.measurement(measurement)
        for tag in header.tags {
            guard let value = cell(tag.column) else { return nil }
            if value.isEmpty { continue }
            guard LineProtocolText.canWrite(tag.name), LineProtocolText.canWrite(value) else { return nil }
            output += ",\(LineProtocolText.key(tag.name))=\(LineProtocolText.key(value))"
        }
        var written = 0
        for field in header.fields {
            guard let text = cell(field.column) else { return nil }
            if text.isEmpty { continue }
            guard LineProtocolText.canWrite(field.name), let value = Double(text), value.isFinite else { return nil }
            output += written == 0 ? " " : ","
            output += "\(LineProtocolText.key(field.name))=\(LineProtocolText.float(value))"
            written += 1
        }
        guard written > 0 else { return nil }
        if let column = header.timestamp {
            guard let text = cell(column) else { return nil }
            if !text.isEmpty {
                guard let nanoseconds = Self.timestamp(text) else { return nil }
                output += " \(nanoseconds)"
            }
        }
        return output
    }

    /// Nanoseconds since the epoch of RFC 3339 text or of Unix seconds such as
    /// `1764403200` or `1764403200.25` (up to 9 fraction digits kept); nil otherwise.
    static func timestamp(_ text: String) -> Int64? {
        if let rfc3339 = Timestamps.parseRFC3339(text) { return rfc3339 }
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" {
            negative = true
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), let seconds = Int64(whole)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let fractionDigits = parts[1]
            guard !fractionDigits.isEmpty, fractionDigits.allSatisfy(\.isASCIIDigit) else { return nil }
            var kept = String(fractionDigits.prefix(9))
            while kept.count < 9 { kept += "0" }
            fraction = Int64(kept) ?? 0
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (sum, overflowSum) = scaled.addingReportingOverflow(fraction)
        guard !overflowSum else { return nil }
        return negative ? -sum : sum
    }

    /// The cells of one CSV row.
    static func cells(_ row: String) -> [String] {
        var cells: [String] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        var iterator = Array(row).makeIterator()
        var pending: Character?
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" {
                            current.append("\"")
                        } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "," {
                cells.append(wasQuoted ? current : current.trimmingSpaces)
                current = ""
                wasQuoted = false
            } else if character == "\"" && current.trimmingSpaces.isEmpty && !wasQuoted {
                current = ""
                quoted = true
                wasQuoted = true
            } else if !wasQuoted {
                current.append(character)
            }
        }
        cells.append(wasQuoted ? current : current.trimmingSpaces)
        return cells
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
