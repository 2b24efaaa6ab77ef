/// Adds default tags (`site`, `department`, `host`…) to line-protocol lines that lack them.
///
/// The agent runs every batch it accepts through this before spooling it. A default
/// tag is inserted right after the line's own tags (or after the measurement), in the
/// order the defaults were given, escaped per line protocol (`\,` `\=` `\ `); a line
/// that already carries the key keeps its own value. Every other byte of the line is
/// kept as it was: escapes, string fields, the timestamp. Leading indentation and a
/// `\r` before the newline are dropped.
///
/// Pure and allocation-free per line once `output` has grown. Keys and values must not
/// contain newlines and should not be empty (the result would not parse); a line that
/// already has `limits.maxTags` tags gets the defaults anyway and may then be rejected
/// by a parser with the same limits.
public struct LineTagDefaults: Sendable {
    /// One default tag, unescaped and as it is written on the wire.
    struct Entry: Sendable {
        /// The key's bytes, unescaped: what a line's tag keys are compared with.
        var key: [UInt8]
        /// `,key=value`, escaped.
        var encoded: [UInt8]
    }

    let entries: [Entry]

    /// Prepares `defaults` (unescaped key and value, in insertion order); a repeated key
    /// keeps its first value.
    public init(_ defaults: [(key: String, value: String)]) {
        var entries: [Entry] = []
        for (key, value) in defaults where !entries.contains(where: { $0.key == Array(key.utf8) }) {
            var encoded: [UInt8] = [0x2C]
            Self.appendEscaped(key, to: &encoded)
            encoded.append(0x3D)
            Self.appendEscaped(value, to: &encoded)
            entries.append(Entry(key: Array(key.utf8), encoded: encoded))
        }
        self.entries = entries
    }

    /// Whether there is nothing to add.
    public var isEmpty: Bool { entries.isEmpty }

    /// Appends `text` escaped as a tag key or value: `,`, `=` and space get a backslash.
    public static func appendEscaped(_ text: String, to output: inout [UInt8]) {
        for byte in text.utf8 {
            if byte == 0x2C || byte == 0x3D || byte == 0x20 { output.append(0x5C) }
            output.append(byte)
        }
    }

    /// Appends `line` (accepted by the parser; `end` is one past its last content byte)
    /// with the missing defaults inserted, without a newline. With `stamp`, a line
    /// without a timestamp gets ` stamp` appended (the agent stamps its receive time: a
    /// spooled batch may reach the daemon minutes later).
    public func append(
        _ line: ParsedLine,
        end: UnsafePointer<UInt8>,
        to output: inout [UInt8],
        stamp: Int64? = nil
    ) {
        let start = line.measurement.base
        var insertion = start + line.measurement.count
        for tag in line.tags {
            let tagEnd = tag.value.base + tag.value.count
            if tagEnd > insertion { insertion = tagEnd }
        }
        output.append(contentsOf: UnsafeBufferPointer(start: start, count: insertion - start))
        for entry in entries {
            let present = entry.key.withUnsafeBufferPointer { line.tagValue(forKey: $0) != nil }
            if !present { output.append(contentsOf: entry.encoded) }
        }
        output.append(contentsOf: UnsafeBufferPointer(start: insertion, count: end - insertion))
        if let stamp, line.timestamp == nil {
            output.append(0x20)
            output.append(contentsOf: String(stamp).utf8)
        }
    }

    /// Where the line that `line` was parsed from ends: one past its last byte before
    /// the newline (and before a `\r`), or `limit`.
    ///
    /// Walks the field set from the end of the tag set, skipping quoted string values
    /// (which may hold newlines, spaces and commas) and backslash escapes in keys.
    public static func lineEnd(of line: ParsedLine, limit: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
        var cursor = line.measurement.base + line.measurement.count
        for tag in line.tags {
            let tagEnd = tag.value.base + tag.value.count
            if tagEnd > cursor { cursor = tagEnd }
        }
        var inString = false
        var previous: UInt8 = 0
        while cursor < limit {
            let byte = cursor.pointee
            if inString {
                if byte == 0x5C, cursor + 1 < limit {
                    cursor += 2
                    previous = 0
                    continue
                }
                if byte == 0x22 { inString = false }
            } else {
                if byte == 0x0A { break }
                if byte == 0x5C, cursor + 1 < limit, cursor[1] != 0x0A {
                    cursor += 2
                    previous = 0
                    continue
                }
                if byte == 0x22 && previous == 0x3D { inString = true }
            }
            previous = byte
            cursor += 1
        }
        if cursor > line.measurement.base && cursor[-1] == 0x0D { cursor -= 1 }
        return cursor
    }

    /// Parses `batch` and appends each accepted line, with the missing defaults, and a
    /// newline to `output`; rejected lines are left out and returned.
    ///
    /// Comments and blank lines are dropped. `accepted` counts the lines appended.
    public func rewrite(
        batch: UnsafeRawBufferPointer,
        into output: inout [UInt8],
        parser: LineProtocolParser
    ) -> (accepted: Int, rejected: [LineProtocolError]) {
        var rejected: [LineProtocolError] = []
        guard let raw = batch.baseAddress, batch.count > 0 else { return (0, []) }
        let limit = UnsafePointer(raw.assumingMemoryBound(to: UInt8.self)) + batch.count
        let summary = parser.parse(
            batch,
            onLine: { line in
                append(line, end: Self.lineEnd(of: line, limit: limit), to: &output)
                output.append(0x0A)
            },
            onError: { rejected.append($0) }
        )
        return (summary.accepted, rejected)
    }

    /// `rewrite(batch:into:parser:)` with `defaults` prepared for this one call.
    public static func rewrite(
        batch: UnsafeRawBufferPointer,
        defaults: [(key: String, value: String)],
        into output: inout [UInt8],
        parser: LineProtocolParser
    ) -> (accepted: Int, rejected: [LineProtocolError]) {
        LineTagDefaults(defaults).rewrite(batch: batch, into: &output, parser: parser)
    }

    /// One line (without its newline) with the missing defaults inserted.
    ///
    /// - Throws: the parser's `LineProtocolError` when `line` is not one accepted line
    ///   (a blank or comment line is rejected too).
    public func rewrite(line: [UInt8], parser: LineProtocolParser) throws(LineProtocolError) -> [UInt8] {
        var output: [UInt8] = []
        var failure: LineProtocolError?
        var count = 0
        line.withUnsafeBytes { bytes in
            guard let raw = bytes.baseAddress, bytes.count > 0 else { return }
            let limit = UnsafePointer(raw.assumingMemoryBound(to: UInt8.self)) + bytes.count
            parser.parse(
                bytes,
                onLine: { parsed in
                    count += 1
                    if count == 1 { append(parsed, end: Self.lineEnd(of: parsed, limit: limit), to: &output) }
                },
                onError: { error in if failure == nil { failure = error } }
            )
        }
        if let failure { throw failure }
        guard count == 1 else {
            throw LineProtocolError(line: 1, column: 1, reason: count == 0 ? "no line" : "more than one line")
        }
        return output
    }
}
