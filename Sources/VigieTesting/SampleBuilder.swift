import VigieCore

/// A field value for building test samples: the line-protocol field types, with
/// strings given as Swift `String`s.
///
/// Literals: `1.5` and `3` are floats (as a bare number is in line protocol), `true`
/// is a boolean, `"x"` a string; write `.int(3)` or `.uint(3)` for the others.
public enum SampleFieldValue: Sendable, Equatable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByStringLiteral
{
    /// `1.5`
    case float(Double)
    /// `2i`
    case int(Int64)
    /// `3u`
    case uint(UInt64)
    /// `t` / `false`
    case bool(Bool)
    /// `"text"`
    case string(String)

    /// A float.
    public init(floatLiteral value: Double) { self = .float(value) }
    /// A float (a bare number is a float in line protocol).
    public init(integerLiteral value: Int) { self = .float(Double(value)) }
    /// A boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
}

/// A `ParsedLine` built from Swift strings, owning the memory its views point into,
/// as the parser's payload and scratch buffers would.
///
/// Views are unescaped (`EscapeSet.none`). `line` is valid as long as this object is
/// alive: keep a reference (or use `withParsedLine`) while the line is in use. Build
/// lines once and reuse them for benchmarks: building allocates.
public final class PreparedLine {
    /// The line, pointing into this object's memory.
    public private(set) var line: ParsedLine
    private let bytes: UnsafeMutablePointer<UInt8>
    private let tagStorage: UnsafeMutablePointer<ParsedTag>
    private let fieldStorage: UnsafeMutablePointer<ParsedField>
    private let tagCount: Int
    private let fieldCount: Int

    /// A line `measurement[,tags] fields [timestamp]`.
    ///
    /// - Parameters:
    ///   - tags: key/value pairs in wire order.
    ///   - fields: key/value pairs in wire order (line protocol requires at least one).
    ///   - timestamp: ns since the epoch, or `nil` for a line without one.
    public init(
        measurement: String,
        tags: [(String, String)] = [],
        fields: [(String, SampleFieldValue)],
        timestamp: Int64?,
        lineNumber: Int = 1
    ) {
        tagCount = tags.count
        fieldCount = fields.count
        var all: [UInt8] = Array(measurement.utf8)
        for (k, v) in tags {
            all += k.utf8
            all += v.utf8
        }
        for (k, v) in fields {
            all += k.utf8
            if case .string(let s) = v { all += s.utf8 }
        }
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(1, all.count))
        bytes.initialize(from: all, count: all.count)
        self.bytes = bytes
        let base = UnsafePointer(bytes)
        var at = 0
        func view(_ text: String) -> ByteView {
            let n = text.utf8.count
            defer { at += n }
            return ByteView(base: base + at, count: n, escapes: .none)
        }
        let m = view(measurement)
        tagStorage = .allocate(capacity: Swift.max(1, tags.count))
        for (i, (k, v)) in tags.enumerated() {
            let key = view(k)
            let value = view(v)
            (tagStorage + i).initialize(to: ParsedTag(key: key, value: value))
        }
        fieldStorage = .allocate(capacity: Swift.max(1, fields.count))
        for (i, (k, v)) in fields.enumerated() {
            let key = view(k)
            let value: FieldValue
            switch v {
            case .float(let d): value = .float(d)
            case .int(let n): value = .int(n)
            case .uint(let n): value = .uint(n)
            case .bool(let b): value = .bool(b)
            case .string(let s): value = .string(view(s))
            }
            (fieldStorage + i).initialize(to: ParsedField(key: key, value: value))
        }
        line = ParsedLine(
            lineNumber: lineNumber,
            measurement: m,
            tags: UnsafeBufferPointer(start: tagStorage, count: tags.count),
            fields: UnsafeBufferPointer(start: fieldStorage, count: fields.count),
            timestamp: timestamp
        )
    }

    /// Changes the timestamp of the prepared line (no allocation).
    public func setTimestamp(_ timestamp: Int64?) {
        line.timestamp = timestamp
    }

    deinit {
        tagStorage.deinitialize(count: tagCount)
        fieldStorage.deinitialize(count: fieldCount)
        bytes.deallocate()
        tagStorage.deallocate()
        fieldStorage.deallocate()
    }
}

/// Calls `body` with a `ParsedLine` built from Swift strings (see `PreparedLine`);
/// the line is valid only inside `body`, as with the real parser.
public func withParsedLine<R>(
    measurement: String,
    tags: [(String, String)] = [],
    fields: [(String, SampleFieldValue)],
    timestamp: Int64?,
    lineNumber: Int = 1,
    _ body: (ParsedLine) throws -> R
) rethrows -> R {
    let prepared = PreparedLine(
        measurement: measurement,
        tags: tags,
        fields: fields,
        timestamp: timestamp,
        lineNumber: lineNumber
    )
    return try withExtendedLifetime(prepared) { try body(prepared.line) }
}

/// `withParsedLine` with dictionary-literal tags and fields:
/// `withParsedLine(measurement: "m", tags: ["site": "a"], fields: ["value": 1.5], timestamp: t) { … }`.
public func withParsedLine<R>(
    measurement: String,
    tags: KeyValuePairs<String, String> = [:],
    fields: KeyValuePairs<String, SampleFieldValue>,
    timestamp: Int64?,
    lineNumber: Int = 1,
    _ body: (ParsedLine) throws -> R
) rethrows -> R {
    try withParsedLine(
        measurement: measurement,
        tags: tags.map { ($0.key, $0.value) },
        fields: fields.map { ($0.key, $0.value) },
        timestamp: timestamp,
        lineNumber: lineNumber,
        body
    )
}
