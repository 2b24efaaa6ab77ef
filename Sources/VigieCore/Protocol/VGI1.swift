/// Constants and small pure helpers of the `VGI1` wire protocol (DESIGN.md).
public enum VGI1 {
    /// First frame of every ingest request and reply.
    public static let magic: [UInt8] = Array("VGI1".utf8)
    /// Ingest commands.
    public static let push: [UInt8] = Array("PUSH".utf8)
    public static let hello: [UInt8] = Array("HELLO".utf8)
    /// Reply commands.
    public static let ack: [UInt8] = Array("ACK".utf8)
    public static let welcome: [UInt8] = Array("WELCOME".utf8)
    public static let err: [UInt8] = Array("ERR".utf8)
    /// Longest producer id, in bytes.
    public static let maxProducerIDLength = 128
    /// At most this many per-line errors are listed in an ACK.
    public static let maxListedErrors = 20

    /// Parses a sequence number: ASCII decimal digits only, 1…2^63−1.
    public static func parseSequence(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 19 else { return nil }
        var value: UInt64 = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(b - UInt8(ascii: "0"))
        }
        guard value >= 1, value <= UInt64(Int64.max) else { return nil }
        return value
    }

    /// True when `bytes` equal `expected`.
    @inline(__always)
    public static func matches(_ bytes: UnsafeRawBufferPointer, _ expected: [UInt8]) -> Bool {
        bytes.count == expected.count && bytes.elementsEqual(expected)
    }

    /// The ACK body: `{"accepted":N,"rejected":M,"duplicate":false,"errors":[…]}`.
    public static func encodeAck(
        accepted: Int,
        rejected: Int,
        duplicate: Bool,
        errors: [LineProtocolError],
        into writer: inout JSONWriter
    ) {
        writer.reset()
        writer.beginObject()
        writer.key("accepted")
        writer.integer(accepted)
        writer.key("rejected")
        writer.integer(rejected)
        writer.key("duplicate")
        writer.bool(duplicate)
        writer.key("errors")
        writer.beginArray()
        for error in errors.prefix(maxListedErrors) {
            writer.beginObject()
            writer.key("line")
            writer.integer(error.line)
            writer.key("column")
            writer.integer(error.column)
            writer.key("error")
            writer.string(error.reason)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }

    /// The ERR body: `{"error":"…"}`.
    public static func encodeError(_ message: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("error")
        writer.string(message)
        writer.endObject()
        return writer.bytes
    }
}
