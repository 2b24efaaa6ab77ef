/// A field value as written on the wire.
public enum FieldValue {
    /// A float field: `1.5`, `-2e3` (never NaN or infinite).
    case float(Double)
    /// A signed integer field: `2i`.
    case int(Int64)
    /// An unsigned integer field: `3u`.
    case uint(UInt64)
    /// A boolean field: `t`, `true`, `F`, `FALSE`…
    case bool(Bool)
    /// A string field; the view is escaped with `EscapeSet.string`.
    case string(ByteView)

    /// The value numeric aggregations use: numbers as `Double`, true = 1, false = 0,
    /// and `nil` for strings.
    @inlinable
    public var numericValue: Double? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .bool(let v): return v ? 1 : 0
        case .string: return nil
        }
    }
}

/// One field of a parsed line.
public struct ParsedField {
    /// The field key, escaped with `EscapeSet.key`.
    public var key: ByteView
    /// The field value.
    public var value: FieldValue

    /// Creates a field.
    @inlinable
    public init(key: ByteView, value: FieldValue) {
        self.key = key
        self.value = value
    }
}

/// One tag of a parsed line.
public struct ParsedTag {
    /// The tag key, escaped with `EscapeSet.key`.
    public var key: ByteView
    /// The tag value, escaped with `EscapeSet.key`.
    public var value: ByteView

    /// Creates a tag.
    @inlinable
    public init(key: ByteView, value: ByteView) {
        self.key = key
        self.value = value
    }
}

/// One accepted line of line protocol, as views into the received payload.
///
/// Valid only inside the parser's callback: it points into the payload and into the
/// parser's reusable scratch storage. Nothing here allocates.
public struct ParsedLine {
    /// 1-based line number within the batch (continuing across payload frames).
    public var lineNumber: Int
    /// The measurement name, escaped with `EscapeSet.measurement`.
    public var measurement: ByteView
    /// Tags in wire order.
    public var tags: UnsafeBufferPointer<ParsedTag>
    /// Fields in wire order (at least one).
    public var fields: UnsafeBufferPointer<ParsedField>
    /// Nanoseconds since the Unix epoch, or `nil` when the line had none.
    public var timestamp: Int64?
    /// The line's bytes in the payload, from its first byte to its terminating newline
    /// (excluded): more than one physical line when a string field holds a newline.
    /// Empty for a line made by hand.
    public var extent: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)

    /// Creates a line from its parts (the parser does this; tests may too).
    @inlinable
    public init(
        lineNumber: Int,
        measurement: ByteView,
        tags: UnsafeBufferPointer<ParsedTag>,
        fields: UnsafeBufferPointer<ParsedField>,
        timestamp: Int64?
    ) {
        self.lineNumber = lineNumber
        self.measurement = measurement
        self.tags = tags
        self.fields = fields
        self.timestamp = timestamp
    }

    /// The value of tag `key`, or `nil` (linear scan; lines have few tags).
    @inlinable
    public func tagValue(forKey key: UnsafeBufferPointer<UInt8>) -> ByteView? {
        for tag in tags where tag.key.equals(key) { return tag.value }
        return nil
    }

    /// The value of field `key`, or `nil`.
    @inlinable
    public func fieldValue(forKey key: UnsafeBufferPointer<UInt8>) -> FieldValue? {
        for field in fields where field.key.equals(key) { return field.value }
        return nil
    }
}

/// Why one line was rejected, and where.
public struct LineProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// 1-based byte column where the problem was found.
    public var column: Int
    /// What was wrong or expected, e.g. `expected field value`.
    public var reason: String
    /// The configured limit the line exceeded, if that is why it was rejected.
    public var limit: LineLimit?

    /// Creates an error.
    public init(line: Int, column: Int, reason: String, limit: LineLimit? = nil) {
        self.line = line
        self.column = column
        self.reason = reason
        self.limit = limit
    }

    /// `line:column: reason`, as `vigie parse` prints it.
    public var description: String { "\(line):\(column): \(reason)" }
}

/// A per-line size limit of ``LineProtocolLimits`` (for counting which one was hit).
public enum LineLimit: String, Sendable, CaseIterable {
    case lineLength = "line_length"
    case tags
    case fields
    case nameLength = "name_length"
}

/// Size limits the parser enforces on every line (`[ingest]` in the config).
public struct LineProtocolLimits: Sendable, Equatable {
    /// Longest accepted line in bytes.
    public var maxLineLength: Int
    /// Most tags on one line.
    public var maxTags: Int
    /// Most fields on one line.
    public var maxFields: Int
    /// Longest measurement, tag key, tag value or field key, in raw bytes.
    public var maxNameLength: Int

    /// Creates limits; the defaults are the `[ingest]` defaults.
    public init(maxLineLength: Int = 65_536, maxTags: Int = 32, maxFields: Int = 64, maxNameLength: Int = 256) {
        self.maxLineLength = maxLineLength
        self.maxTags = maxTags
        self.maxFields = maxFields
        self.maxNameLength = maxNameLength
    }
}
