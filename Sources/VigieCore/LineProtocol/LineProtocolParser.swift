#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one `LineProtocolParser.parse` call saw.
public struct ParseSummary: Sendable, Equatable {
    /// Lines that held a point, accepted or rejected. Blank and comment lines are not counted.
    public var lines: Int
    /// Lines handed to `onLine`.
    public var accepted: Int
    /// Lines handed to `onError`.
    public var rejected: Int
    /// The number of the line after the payload's last line: the `firstLineNumber` of the batch's next frame.
    public var nextLineNumber: Int

    /// Creates a summary.
    public init(lines: Int, accepted: Int, rejected: Int, nextLineNumber: Int) {
        self.lines = lines
        self.accepted = accepted
        self.rejected = rejected
        self.nextLineNumber = nextLineNumber
    }
}

/// Parses InfluxDB line protocol in place, one payload frame at a time.
///
/// The accepted path does not allocate: names and string values are `ByteView`s into the payload, and tags and
/// fields go into scratch buffers the parser allocates once (`limits.maxTags` and `limits.maxFields` entries).
/// A `ParsedLine` is therefore valid only inside `onLine`. Not thread-safe: one parser per thread (the engine
/// thread owns its own).
///
/// Syntax follows InfluxDB's write path (`models/points.go`) and `influxdata/line-protocol`:
/// - `measurement[,tag=value…] field=value[,field=value…] [timestamp]`, separated by one or more spaces; lines
///   may be indented with spaces or tabs; trailing spaces are ignored.
/// - Lines end at `\n`; a `\r` just before it is dropped. A quoted string value may contain newlines: the line
///   then goes on, and numbering counts every newline.
/// - Blank lines and lines whose first non-blank byte is `#` are skipped and not counted.
/// - Escapes: `\,` and `\ ` in measurements; `\,`, `\=` and `\ ` in tag keys, tag values and field keys;
///   `\"` and `\\` in string values. Any other backslash is literal.
/// - Values: floats (`-1.5`, `.5`, `1.`, `1e3`, `-1.5E-2`; no leading `+`, no NaN/Inf, none that overflow),
///   integers `12i` (int64), unsigned `12u` (uint64, not negative), booleans `t T true True TRUE f F false False
///   FALSE`, strings `"…"`.
/// - Tag values and keys cannot be empty; duplicate tag keys are rejected (InfluxDB's "duplicate tags");
///   a repeated field key keeps its first position and takes the last value (InfluxDB's last-wins map).
/// - Timestamps: optional signed integer nanoseconds within InfluxDB's range
///   `-9223372036854775806...9223372036854775806`.
/// - Names and strings must be valid UTF-8 (InfluxDB drops points whose key has invalid UTF-8, and
///   `influxdata/line-protocol` rejects it in every token).
public final class LineProtocolParser {
    /// The limits every line is checked against.
    public let limits: LineProtocolLimits

    private let tagStorage: UnsafeMutablePointer<ParsedTag>
    private let tagCapacity: Int
    private let fieldStorage: UnsafeMutablePointer<ParsedField>
    private let fieldCapacity: Int
    private let numbers: NumberParser

    /// Creates a parser and its scratch storage for `limits`.
    public init(limits: LineProtocolLimits = .init()) {
        self.limits = limits
        tagCapacity = max(0, limits.maxTags)
        fieldCapacity = max(0, limits.maxFields)
        tagStorage = .allocate(capacity: max(1, tagCapacity))
        fieldStorage = .allocate(capacity: max(1, fieldCapacity))
        numbers = NumberParser()
    }

    deinit {
        tagStorage.deallocate()
        fieldStorage.deallocate()
    }

    /// Parses every line of `payload` (one batch frame).
    ///
    /// Calls `onLine` for each accepted line and `onError` for each rejected one; a rejected line never stops
    /// the rest. Line numbers start at `firstLineNumber`. Returns the counts and the next line number, so a
    /// multi-frame batch continues its numbering. Nothing escapes: views in a `ParsedLine` die with the call.
    @discardableResult
    public func parse(
        _ payload: UnsafeRawBufferPointer,
        firstLineNumber: Int = 1,
        onLine: (ParsedLine) -> Void,
        onError: (LineProtocolError) -> Void
    ) -> ParseSummary {
        var summary = ParseSummary(lines: 0, accepted: 0, rejected: 0, nextLineNumber: firstLineNumber)
        guard let raw = payload.baseAddress, payload.count > 0 else { return summary }
        let base = UnsafePointer(raw.assumingMemoryBound(to: UInt8.self))
        let payloadEnd = base + payload.count
        var scan = LineScan(payloadEnd: payloadEnd)
        var lineStart = base
        var lineNumber = firstLineNumber
        let maxLineLength = max(0, limits.maxLineLength)

        while lineStart < payloadEnd {
            let physicalEnd = findByte(0x0A, from: lineStart, to: payloadEnd) ?? payloadEnd
            var contentEnd = physicalEnd
            if contentEnd > lineStart && contentEnd[-1] == 0x0D { contentEnd -= 1 }

            var first = lineStart
            while first < contentEnd && (first.pointee == 0x20 || first.pointee == 0x09) { first += 1 }
            if first == contentEnd || first.pointee == 0x23 {
                lineNumber += 1
                lineStart = physicalEnd < payloadEnd ? physicalEnd + 1 : payloadEnd
                continue
            }

            summary.lines += 1
            scan.start = lineStart
            scan.contentEnd = contentEnd
            scan.physicalEnd = physicalEnd
            scan.extraNewlines = 0
            do throws(LineFault) {
                let length = contentEnd - lineStart
                if length > maxLineLength {
                    throw LineFault(lineStart + maxLineLength, .lineTooLong(length))
                }
                var line = try parseLine(&scan, first: first, lineNumber: lineNumber)
                line.extent = UnsafeRawBufferPointer(start: lineStart, count: scan.physicalEnd - lineStart)
                summary.accepted += 1
                onLine(line)
            } catch {
                summary.rejected += 1
                onError(error.lineProtocolError(lineStart: lineStart, lineNumber: lineNumber, limits: limits))
            }
            lineNumber += 1 + scan.extraNewlines
            lineStart = scan.physicalEnd < payloadEnd ? scan.physicalEnd + 1 : payloadEnd
        }
        summary.nextLineNumber = lineNumber
        return summary
    }

    // MARK: - One line

    /// Parses the line described by `scan`, whose first non-blank byte is `first`.
    @inline(__always)
    private func parseLine(
        _ scan: inout LineScan,
        first: UnsafePointer<UInt8>,
        lineNumber: Int
    ) throws(LineFault) -> ParsedLine {
        var end = scan.contentEnd
        var p = first
        let maxName = limits.maxNameLength

        // Measurement.
        if p.pointee == 0x2C { throw LineFault(p, .missingMeasurement) }
        let measurementStart = p
        var scanned = NameScan.scan(&p, end: end, isMeasurement: true)
        let measurement = ByteView(
            base: measurementStart,
            count: p - measurementStart,
            escapes: scanned.escaped ? .measurement : .none
        )
        if measurement.count > maxName || scanned.nonASCII {
            try checkName(measurement, kind: .measurement, maxName: maxName)
        }

        // Tags.
        var tagCount = 0
        var firstExcessTag: UnsafePointer<UInt8>?
        while p < end && p.pointee == 0x2C {
            p += 1
            let keyStart = p
            if p == end || p.pointee == 0x20 || p.pointee == 0x2C || p.pointee == 0x3D {
                throw LineFault(p, .expectedTagKey)
            }
            scanned = NameScan.scan(&p, end: end, isMeasurement: false)
            if p == end || p.pointee != 0x3D { throw LineFault(p, .expectedTagEquals) }
            let key = ByteView(base: keyStart, count: p - keyStart, escapes: scanned.escaped ? .key : .none)
            if key.count > maxName || scanned.nonASCII { try checkName(key, kind: .tagKey, maxName: maxName) }
            p += 1
            let valueStart = p
            if p == end || p.pointee == 0x20 || p.pointee == 0x2C { throw LineFault(p, .missingTagValue) }
            scanned = NameScan.scan(&p, end: end, isMeasurement: false)
            if p < end && p.pointee == 0x3D { throw LineFault(p, .unescapedEqualsInTagValue) }
            let value = ByteView(base: valueStart, count: p - valueStart, escapes: scanned.escaped ? .key : .none)
            if value.count > maxName || scanned.nonASCII { try checkName(value, kind: .tagValue, maxName: maxName) }

            let stored = min(tagCount, tagCapacity)
            var i = 0
            while i < stored {
                if tagStorage[i].key.equals(key) { throw LineFault(keyStart, .duplicateTagKey(key)) }
                i += 1
            }
            if tagCount < tagCapacity {
                (tagStorage + tagCount).initialize(to: ParsedTag(key: key, value: value))
            } else if firstExcessTag == nil {
                firstExcessTag = keyStart
            }
            tagCount += 1
        }
        if let firstExcessTag { throw LineFault(firstExcessTag, .tooManyTags(tagCount)) }

        // Separator.
        if p == end { throw LineFault(p, .missingFields) }
        while p < end && p.pointee == 0x20 { p += 1 }
        if p == end { throw LineFault(p, .missingFields) }

        // Fields.
        var fieldCount = 0
        var firstExcessField: UnsafePointer<UInt8>?
        while true {
            let keyStart = p
            let k = p.pointee
            if k == 0x3D || k == 0x2C || k == 0x20 { throw LineFault(p, .missingFieldKey) }
            scanned = NameScan.scan(&p, end: end, isMeasurement: false)
            if p == end || p.pointee != 0x3D { throw LineFault(p, .expectedFieldEquals) }
            let key = ByteView(base: keyStart, count: p - keyStart, escapes: scanned.escaped ? .key : .none)
            if key.count > maxName || scanned.nonASCII { try checkName(key, kind: .fieldKey, maxName: maxName) }
            p += 1
            if p == end { throw LineFault(p, .missingFieldValue) }
            let valueStart = p
            let value: FieldValue
            switch p.pointee {
            case 0x30...0x39, 0x2D, 0x2E:
                value = try numbers.parseNumber(&p, end: end)
            case 0x22:
                value = try parseString(&scan, open: p)
                end = scan.contentEnd
                p = scan.cursor
            case 0x74, 0x54, 0x66, 0x46:
                let tokenEnd = NumberParser.valueEnd(from: p, to: end)
                value = .bool(try parseBool(valueStart, tokenEnd))
                p = tokenEnd
            case 0x2C, 0x20:
                throw LineFault(p, .missingFieldValue)
            case 0x2B:
                throw LineFault(p, .leadingPlus)
            default:
                let tokenEnd = NumberParser.valueEnd(from: p, to: end)
                if NumberParser.isNonFiniteSpelling(valueStart, tokenEnd) { throw LineFault(p, .nonFinite) }
                throw LineFault(p, .unknownFieldValue)
            }

            let stored = min(fieldCount, fieldCapacity)
            var replaced = false
            var i = 0
            while i < stored {
                if fieldStorage[i].key.equals(key) {
                    fieldStorage[i].value = value
                    replaced = true
                    break
                }
                i += 1
            }
            if !replaced {
                if fieldCount < fieldCapacity {
                    (fieldStorage + fieldCount).initialize(to: ParsedField(key: key, value: value))
                } else if firstExcessField == nil {
                    firstExcessField = keyStart
                }
                fieldCount += 1
            }

            if p == end { break }
            let c = p.pointee
            if c == 0x2C {
                p += 1
                if p == end { throw LineFault(p, .missingFieldKey) }
                continue
            }
            if c == 0x20 { break }
            throw LineFault(p, .expectedSeparatorAfterValue)
        }
        if let firstExcessField { throw LineFault(firstExcessField, .tooManyFields(fieldCount)) }

        // Timestamp.
        var timestamp: Int64?
        while p < end && p.pointee == 0x20 { p += 1 }
        if p < end {
            timestamp = try NumberParser.parseTimestamp(&p, end: end)
            while p < end && p.pointee == 0x20 { p += 1 }
            if p < end { throw LineFault(p, .textAfterTimestamp) }
        }

        return ParsedLine(
            lineNumber: lineNumber,
            measurement: measurement,
            tags: UnsafeBufferPointer(start: tagStorage, count: tagCount),
            fields: UnsafeBufferPointer(start: fieldStorage, count: fieldCount),
            timestamp: timestamp
        )
    }

    /// The slow path of a name check: its length, then its UTF-8 (only called when one may fail).
    @inline(never)
    private func checkName(_ name: ByteView, kind: NameKind, maxName: Int) throws(LineFault) {
        if name.count > maxName { throw LineFault(name.base, .nameTooLong(kind, name.count)) }
        if let bad = UTF8Check.firstInvalid(name.base, name.base + name.count) {
            throw LineFault(bad, .invalidUTF8(kind))
        }
    }

    private func parseBool(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws(LineFault) -> Bool {
        let n = end - start
        switch n {
        case 1:
            let b = start.pointee
            if b == 0x74 || b == 0x54 { return true }
            if b == 0x66 || b == 0x46 { return false }
        case 4:
            if matches(start, "true") || matches(start, "True") || matches(start, "TRUE") { return true }
        case 5:
            if matches(start, "false") || matches(start, "False") || matches(start, "FALSE") { return false }
        default:
            break
        }
        throw LineFault(start, .invalidBoolean)
    }

    @inline(__always)
    private func matches(_ p: UnsafePointer<UInt8>, _ word: StaticString) -> Bool {
        memcmp(p, word.utf8Start, word.utf8CodeUnitCount) == 0
    }

    /// Parses a string value whose opening quote is at `open`; may extend the line past newlines.
    private func parseString(_ scan: inout LineScan, open: UnsafePointer<UInt8>) throws(LineFault) -> FieldValue {
        let contentStart = open + 1
        guard let close = scan.closingQuote(from: contentStart) else { throw LineFault(open, .unterminatedString) }
        if close > scan.contentEnd {
            // The string runs over one or more newlines: the line goes on after its closing quote.
            var newlines = 0
            var q = contentStart
            while let nl = findByte(0x0A, from: q, to: close) {
                newlines += 1
                q = nl + 1
            }
            scan.extraNewlines += newlines
            let physicalEnd = findByte(0x0A, from: close + 1, to: scan.payloadEnd) ?? scan.payloadEnd
            var contentEnd = physicalEnd
            if contentEnd > close + 1 && contentEnd[-1] == 0x0D { contentEnd -= 1 }
            scan.physicalEnd = physicalEnd
            scan.contentEnd = contentEnd
            let length = contentEnd - scan.start
            if length > limits.maxLineLength {
                throw LineFault(scan.start + max(0, limits.maxLineLength), .lineTooLong(length))
            }
        }
        let count = close - contentStart
        if let bad = UTF8Check.firstInvalid(contentStart, close) { throw LineFault(bad, .invalidUTF8(.string)) }
        let hasBackslash = findByte(0x5C, from: contentStart, to: close) != nil
        scan.cursor = close + 1
        return .string(ByteView(base: contentStart, count: count, escapes: hasBackslash ? .string : .none))
    }
}

/// Where the parser is inside the payload; kept in a local value so the hot path has no class-field accesses.
struct LineScan {
    let payloadEnd: UnsafePointer<UInt8>
    /// First byte of the current line.
    var start: UnsafePointer<UInt8>
    /// End of the line's content (before `\r\n` or `\n`).
    var contentEnd: UnsafePointer<UInt8>
    /// The line's `\n`, or the payload end.
    var physicalEnd: UnsafePointer<UInt8>
    /// Newlines inside string values of the current line.
    var extraNewlines = 0
    /// Where parsing resumes after a string value.
    var cursor: UnsafePointer<UInt8>
    /// Memo of the last raw-quote search: no `"` in `[quoteSearchFrom, quoteFound)`; `quoteFound` is a quote
    /// or `payloadEnd`. Searches only move forward, so repeated unclosed strings cost O(payload) in all.
    var quoteSearchFrom: UnsafePointer<UInt8>
    var quoteFound: UnsafePointer<UInt8>

    init(payloadEnd: UnsafePointer<UInt8>) {
        self.payloadEnd = payloadEnd
        start = payloadEnd
        contentEnd = payloadEnd
        physicalEnd = payloadEnd
        cursor = payloadEnd
        quoteSearchFrom = payloadEnd
        quoteFound = payloadEnd
    }

    /// The first `"` byte at or after `from`, or `nil`.
    @inline(__always)
    mutating func nextRawQuote(from: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        if from < quoteSearchFrom || from > quoteFound {
            quoteSearchFrom = from
            quoteFound = findByte(0x22, from: from, to: payloadEnd) ?? payloadEnd
        }
        return quoteFound < payloadEnd ? quoteFound : nil
    }

    /// The unescaped `"` that closes a string whose content starts at `contentStart`, or `nil`.
    mutating func closingQuote(from contentStart: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        var from = contentStart
        while let quote = nextRawQuote(from: from) {
            var backslashes = 0
            var b = quote
            while b > contentStart && b[-1] == 0x5C {
                backslashes += 1
                b -= 1
            }
            if backslashes & 1 == 0 { return quote }
            from = quote + 1
        }
        return nil
    }
}

/// `memchr` over `[from, to)`.
@inline(__always)
func findByte(_ byte: UInt8, from: UnsafePointer<UInt8>, to: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
    guard from < to, let hit = memchr(from, Int32(byte), to - from) else { return nil }
    return UnsafePointer(hit.assumingMemoryBound(to: UInt8.self))
}
