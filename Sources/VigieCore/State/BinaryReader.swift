/// Why bytes could not be decoded, and where.
public struct BinaryDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the value that failed.
    public var offset: Int
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "at byte \(offset): \(reason)" }
}

/// Reads what `BinaryWriter` wrote, checking every length against the bytes left: a
/// truncated or corrupt input throws `BinaryDecodingError`, never traps or reads out
/// of bounds.
///
/// Borrows `buffer`: valid only while the caller keeps it alive.
public struct BinaryReader {
    public let buffer: UnsafeRawBufferPointer
    /// Offset of the next byte to read.
    public private(set) var offset: Int

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    /// Bytes not read yet.
    public var remaining: Int { buffer.count - offset }

    /// True when every byte was read.
    public var isAtEnd: Bool { offset >= buffer.count }

    private mutating func need(_ n: Int, _ what: StaticString) throws {
        guard n >= 0, n <= remaining else {
            throw BinaryDecodingError(offset: offset, reason: "truncated \(what): need \(n) bytes, \(remaining) left")
        }
    }

    public mutating func readUInt8() throws -> UInt8 {
        try need(1, "byte")
        defer { offset += 1 }
        return buffer[offset]
    }

    public mutating func readBool() throws -> Bool {
        let at = offset
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let b: throw BinaryDecodingError(offset: at, reason: "invalid boolean \(b)")
        }
    }

    public mutating func readUInt32() throws -> UInt32 {
        try need(4, "UInt32")
        defer { offset += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    public mutating func readUInt64() throws -> UInt64 {
        try need(8, "UInt64")
        defer { offset += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    public mutating func readInt64() throws -> Int64 { Int64(bitPattern: try readUInt64()) }

    public mutating func readDouble() throws -> Double { Double(bitPattern: try readUInt64()) }

    public mutating func readVarUInt() throws -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < buffer.count else {
                throw BinaryDecodingError(offset: start, reason: "truncated varint")
            }
            let byte = buffer[offset]
            offset += 1
            if shift == 63, byte > 1 {
                throw BinaryDecodingError(offset: start, reason: "varint overflows 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw BinaryDecodingError(offset: start, reason: "varint longer than 10 bytes") }
        }
    }

    public mutating func readVarInt() throws -> Int64 {
        let z = try readVarUInt()
        return Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
    }

    /// A count written by `writeCount`, at most `limit` (a corrupt count must not make
    /// the caller allocate gigabytes).
    public mutating func readCount(limit: Int = Int(Int32.max)) throws -> Int {
        let at = offset
        let v = try readVarUInt()
        guard v <= UInt64(limit) else {
            throw BinaryDecodingError(offset: at, reason: "count \(v) exceeds the limit \(limit)")
        }
        return Int(v)
    }

    /// Length-prefixed bytes, borrowed from the buffer.
    public mutating func readBytes() throws -> UnsafeRawBufferPointer {
        let n = try readCount(limit: remaining)
        return try readRaw(count: n)
    }

    /// `count` raw bytes, borrowed from the buffer.
    public mutating func readRaw(count n: Int) throws -> UnsafeRawBufferPointer {
        try need(n, "bytes")
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + n)])
    }

    /// A length-prefixed UTF-8 string (invalid UTF-8 is an error).
    public mutating func readString() throws -> String {
        let at = offset
        let raw = try readBytes()
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw BinaryDecodingError(offset: at, reason: "invalid UTF-8 in string")
        }
        return s
    }

    /// Throws unless `value` is what was read.
    public mutating func expect(_ expected: UInt8, _ what: String) throws {
        let at = offset
        let got = try readUInt8()
        guard got == expected else {
            throw BinaryDecodingError(offset: at, reason: "expected \(what) tag \(expected), found \(got)")
        }
    }
}
