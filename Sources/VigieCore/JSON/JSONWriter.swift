/// Builds compact RFC 8259 JSON into a reusable byte buffer, byte-exact and in the
/// order written.
///
/// The daemon keeps one writer per purpose and calls `reset()` between messages, so
/// steady-state encoding does not allocate. Non-finite numbers are written as `null`.
public struct JSONWriter: Sendable {
    /// The encoded bytes so far.
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []
    private var afterKey = false

    public init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma.removeAll(keepingCapacity: true)
        afterKey = false
    }

    /// The JSON text (copies).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        _ = needsComma.popLast()
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma.append(false)
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        _ = needsComma.popLast()
    }

    /// Writes `"name":`; the next value call completes the member.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    /// An RFC 3339 UTC time with milliseconds, as a string (`Timestamps.rfc3339`), written
    /// straight into the buffer.
    public mutating func timestamp(nanoseconds: Int64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        Timestamps.appendRFC3339(nanoseconds: nanoseconds, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A string from raw bytes; invalid UTF-8 becomes U+FFFD.
    public mutating func string(bytes raw: [UInt8]) {
        string(String(decoding: raw, as: UTF8.self))
    }

    public mutating func number(_ value: Double) {
        separate()
        guard value.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        if value == value.rounded(), abs(value) < 1e15 {
            // Integral values print without a fraction: 12 rather than 12.0.
            bytes.append(contentsOf: String(Int64(value)).utf8)
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    public mutating func number(_ value: Double?) {
        if let value { number(value) } else { null() }
    }

    public mutating func integer<I: BinaryInteger>(_ value: I) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Inserts already-encoded JSON as a value.
    public mutating func raw(_ json: String) {
        separate()
        bytes.append(contentsOf: json.utf8)
    }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = needsComma.indices.last else { return }
        if needsComma[last] { bytes.append(UInt8(ascii: ",")) }
        needsComma[last] = true
    }

    private mutating func appendQuoted(_ s: String) {
        JSONText.appendQuoted(s, into: &bytes)
    }
}
