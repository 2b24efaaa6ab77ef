/// Which name a fault is about.
enum NameKind {
    case measurement
    case tagKey
    case tagValue
    case fieldKey
    case string

    var label: String {
        switch self {
        case .measurement: return "measurement"
        case .tagKey: return "tag key"
        case .tagValue: return "tag value"
        case .fieldKey: return "field key"
        case .string: return "string value"
        }
    }
}

/// Why a line was rejected, without allocating: the text is only built for `LineProtocolError`.
enum FaultReason {
    case lineTooLong(Int)
    case missingMeasurement
    case missingFields
    case expectedTagKey
    case expectedTagEquals
    case missingTagValue
    case unescapedEqualsInTagValue
    case duplicateTagKey(ByteView)
    case tooManyTags(Int)
    case missingFieldKey
    case expectedFieldEquals
    case missingFieldValue
    case tooManyFields(Int)
    case nameTooLong(NameKind, Int)
    case invalidUTF8(NameKind)
    case leadingPlus
    case unknownFieldValue
    case invalidBoolean
    case invalidInteger
    case integerOutOfRange
    case invalidUnsigned
    case negativeUnsigned
    case unsignedOutOfRange
    case invalidFloat
    case nonFinite
    case floatOutOfRange
    case unterminatedString
    case expectedSeparatorAfterValue
    case invalidTimestamp(hasEquals: Bool)
    case timestampOutOfRange
    case textAfterTimestamp
}

/// A rejected line: where (a pointer into the payload) and why.
///
/// `@unchecked Sendable` only because `Error` demands it: a fault never leaves the parsing call that threw it.
struct LineFault: Error, @unchecked Sendable {
    var position: UnsafePointer<UInt8>
    var reason: FaultReason

    @inline(__always)
    init(_ position: UnsafePointer<UInt8>, _ reason: FaultReason) {
        self.position = position
        self.reason = reason
    }

    /// The user-facing error: line and 1-based byte column of `position`, counting newlines inside strings.
    func lineProtocolError(
        lineStart: UnsafePointer<UInt8>,
        lineNumber: Int,
        limits: LineProtocolLimits
    ) -> LineProtocolError {
        var line = lineNumber
        var columnStart = lineStart
        var q = lineStart
        while let nl = findByte(0x0A, from: q, to: position) {
            line += 1
            columnStart = nl + 1
            q = nl + 1
        }
        return LineProtocolError(
            line: line,
            column: position - columnStart + 1,
            reason: text(limits: limits),
            limit: limit
        )
    }

    /// The size limit this fault is about, if any.
    var limit: LineLimit? {
        switch reason {
        case .lineTooLong: .lineLength
        case .tooManyTags: .tags
        case .tooManyFields: .fields
        case .nameTooLong: .nameLength
        default: nil
        }
    }

    func text(limits: LineProtocolLimits) -> String {
        switch reason {
        case .lineTooLong(let n): return "line too long (\(n) bytes > \(limits.maxLineLength))"
        case .missingMeasurement: return "missing measurement name"
        case .missingFields: return "missing fields: expected ' ' then field=value"
        case .expectedTagKey: return "expected tag key after ','"
        case .expectedTagEquals: return "expected '=' after tag key"
        case .missingTagValue: return "missing tag value after '=' (tag values cannot be empty)"
        case .unescapedEqualsInTagValue: return "unexpected '=' in tag value (escape it as '\\=')"
        case .duplicateTagKey(let key): return "duplicate tag key '\(key.string)'"
        case .tooManyTags(let n): return "too many tags (\(n) > \(limits.maxTags))"
        case .missingFieldKey: return "missing field key"
        case .expectedFieldEquals: return "expected '=' after field key"
        case .missingFieldValue: return "missing field value after '='"
        case .tooManyFields(let n): return "too many fields (\(n) > \(limits.maxFields))"
        case .nameTooLong(let kind, let n): return "\(kind.label) too long (\(n) bytes > \(limits.maxNameLength))"
        case .invalidUTF8(let kind): return "invalid UTF-8 in \(kind.label)"
        case .leadingPlus: return "invalid number: a leading '+' is not allowed"
        case .unknownFieldValue: return "invalid field value: expected a number, a boolean or a \"string\""
        case .invalidBoolean:
            return "invalid boolean: expected t, T, true, True, TRUE, f, F, false, False or FALSE"
        case .invalidInteger: return "invalid integer: expected digits before 'i', with an optional '-'"
        case .integerOutOfRange: return "invalid integer: out of range for int64"
        case .invalidUnsigned: return "invalid unsigned integer: expected digits before 'u'"
        case .negativeUnsigned: return "invalid unsigned integer: cannot be negative"
        case .unsignedOutOfRange: return "invalid unsigned integer: out of range for uint64"
        case .invalidFloat:
            return "invalid number: expected digits with an optional '-', '.' and exponent, or an 'i'/'u' suffix"
        case .nonFinite: return "invalid float: NaN and infinity are not allowed"
        case .floatOutOfRange: return "invalid float: out of range for a 64-bit float"
        case .unterminatedString: return "unterminated string: missing closing '\"'"
        case .expectedSeparatorAfterValue: return "expected ',' or ' ' after field value"
        case .invalidTimestamp(let hasEquals):
            return hasEquals
                ? "invalid timestamp: expected integer nanoseconds (separate fields with ',', not ' ')"
                : "invalid timestamp: expected integer nanoseconds"
        case .timestampOutOfRange:
            return "invalid timestamp: out of range (-9223372036854775806...9223372036854775806 ns)"
        case .textAfterTimestamp: return "unexpected text after timestamp"
        }
    }
}
