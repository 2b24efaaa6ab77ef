/// Appends little-endian integers, IEEE doubles, LEB128 varints and length-prefixed
/// bytes to a growable buffer: the encoding of checkpoints and history sketches.
///
/// Keeps its storage across `removeAll()`, so a reused writer does not allocate once
/// it has grown to the largest output. Not thread-safe (a value type owned by one
/// thread).
public struct BinaryWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Number of bytes written.
    public var count: Int { bytes.count }

    /// Forgets the bytes, keeping the storage.
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func writeUInt32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeUInt64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeInt64(_ value: Int64) { writeUInt64(UInt64(bitPattern: value)) }

    /// The IEEE 754 bit pattern, so NaN payloads and infinities survive.
    public mutating func writeDouble(_ value: Double) { writeUInt64(value.bitPattern) }

    /// Unsigned LEB128: 1 byte below 128, at most 10.
    public mutating func writeVarUInt(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zig-zag then LEB128: small magnitudes of either sign stay short.
    public mutating func writeVarInt(_ value: Int64) {
        writeVarUInt(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// A non-negative `Int` as a varint.
    public mutating func writeCount(_ value: Int) { writeVarUInt(UInt64(max(0, value))) }

    /// Length (varint) then the bytes.
    public mutating func writeBytes(_ value: UnsafeRawBufferPointer) {
        writeCount(value.count)
        bytes.append(contentsOf: value)
    }

    /// Length (varint) then the bytes.
    public mutating func writeBytes(_ value: [UInt8]) {
        writeCount(value.count)
        bytes.append(contentsOf: value)
    }

    /// UTF-8 length (varint) then the UTF-8 bytes.
    public mutating func writeString(_ value: String) {
        var copy = value
        copy.withUTF8 { writeBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Raw bytes, no length.
    public mutating func writeRaw(_ value: UnsafeRawBufferPointer) { bytes.append(contentsOf: value) }
}
