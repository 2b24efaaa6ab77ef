import VigieCore

/// An owned copy of a `ParsedLine`, for assertions after the parser's callback has returned.
public struct ParsedLineSnapshot: Sendable, Equatable, CustomStringConvertible {
    /// An owned field value.
    public enum Value: Sendable, Equatable {
        /// A float field.
        case float(Double)
        /// An integer field (`…i`).
        case int(Int64)
        /// An unsigned field (`…u`).
        case uint(UInt64)
        /// A boolean field.
        case bool(Bool)
        /// A string field, unescaped (invalid UTF-8 repaired).
        case string(String)
    }

    /// The line number the parser reported.
    public var lineNumber: Int
    /// Unescaped measurement name.
    public var measurement: String
    /// Unescaped tags in wire order.
    public var tags: [(key: String, value: String)]
    /// Unescaped field keys and values in wire order.
    public var fields: [(key: String, value: Value)]
    /// Nanoseconds, or `nil` when the line had none.
    public var timestamp: Int64?
    /// `SampleJSON.encode` of the line, taken while it was alive.
    public var json: String

    /// Copies `line` out of the parser's scratch storage.
    public init(_ line: ParsedLine) {
        lineNumber = line.lineNumber
        measurement = line.measurement.string
        tags = line.tags.map { (key: $0.key.string, value: $0.value.string) }
        fields = line.fields.map { field in
            let value: Value
            switch field.value {
            case .float(let v): value = .float(v)
            case .int(let v): value = .int(v)
            case .uint(let v): value = .uint(v)
            case .bool(let v): value = .bool(v)
            case .string(let view): value = .string(view.string)
            }
            return (key: field.key.string, value: value)
        }
        timestamp = line.timestamp
        json = SampleJSON.encode(line)
    }

    /// Equal when every part is equal (floats compared bit for bit).
    public static func == (lhs: ParsedLineSnapshot, rhs: ParsedLineSnapshot) -> Bool {
        lhs.lineNumber == rhs.lineNumber && lhs.measurement == rhs.measurement
            && lhs.tags.elementsEqual(rhs.tags, by: { $0.key == $1.key && $0.value == $1.value })
            && lhs.fields.elementsEqual(rhs.fields, by: { $0.key == $1.key && $0.value.bitwiseEqual($1.value) })
            && lhs.timestamp == rhs.timestamp
    }

    /// The line's JSON.
    public var description: String { json }
}

extension ParsedLineSnapshot.Value {
    /// Equality that tells `0.0` from `-0.0`.
    public func bitwiseEqual(_ other: Self) -> Bool {
        if case .float(let a) = self, case .float(let b) = other { return a.bitPattern == b.bitPattern }
        return self == other
    }
}

/// The outcome of parsing one text with `LineProtocolParser`, owned.
public struct LineProtocolOutcome: Sendable {
    /// Accepted lines, in order.
    public var lines: [ParsedLineSnapshot]
    /// Rejected lines, in order.
    public var errors: [LineProtocolError]
    /// The parser's counts.
    public var summary: ParseSummary
}

extension LineProtocolParser {
    /// Parses `text` (as UTF-8 bytes) and returns owned copies of everything reported. Allocates: for tests.
    public func parseSnapshot(_ text: String, firstLineNumber: Int = 1) -> LineProtocolOutcome {
        parseSnapshot(Array(text.utf8), firstLineNumber: firstLineNumber)
    }

    /// Parses `bytes` and returns owned copies of everything reported. Allocates: for tests.
    public func parseSnapshot(_ bytes: [UInt8], firstLineNumber: Int = 1) -> LineProtocolOutcome {
        var lines: [ParsedLineSnapshot] = []
        var errors: [LineProtocolError] = []
        let summary = bytes.withUnsafeBytes { buffer in
            parse(
                buffer,
                firstLineNumber: firstLineNumber,
                onLine: { lines.append(ParsedLineSnapshot($0)) },
                onError: { errors.append($0) }
            )
        }
        return LineProtocolOutcome(lines: lines, errors: errors, summary: summary)
    }
}
