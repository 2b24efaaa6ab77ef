/// Which backslash escapes apply to a piece of line protocol.
///
/// InfluxDB unescapes a backslash only before the characters that element may escape;
/// any other backslash is literal.
public enum EscapeSet: UInt8, Sendable {
    /// The bytes contain no escape sequence: they are the value.
    case none
    /// Measurement: `\,` and `\ `.
    case measurement
    /// Tag keys, tag values and field keys: `\,`, `\=` and `\ `.
    case key
    /// String field values: `\"` and `\\`.
    case string

    @inline(__always)
    func isEscapable(_ byte: UInt8) -> Bool {
        switch self {
        case .none: return false
        case .measurement: return byte == 0x2C || byte == 0x20
        case .key: return byte == 0x2C || byte == 0x3D || byte == 0x20
        case .string: return byte == 0x22 || byte == 0x5C
        }
    }
}

/// A non-owning view of bytes inside a received payload, still escaped as on the wire.
///
/// Valid only while the payload it points into is alive: inside the parser's callback.
/// Comparisons and hashes work on the unescaped value without allocating.
public struct ByteView {
    /// First byte (raw, possibly escaped).
    public let base: UnsafePointer<UInt8>
    /// Number of raw bytes.
    public let count: Int
    /// Escapes present in the raw bytes; `.none` means raw bytes are the value.
    public let escapes: EscapeSet

    /// Creates a view of `count` raw bytes at `base`, escaped per `escapes`.
    @inlinable
    public init(base: UnsafePointer<UInt8>, count: Int, escapes: EscapeSet) {
        self.base = base
        self.count = count
        self.escapes = escapes
    }

    /// Calls `body` with each unescaped byte, in order.
    @inline(__always)
    public func forEachByte(_ body: (UInt8) -> Void) {
        if escapes == .none {
            for i in 0..<count { body(base[i]) }
            return
        }
        var i = 0
        while i < count {
            let b = base[i]
            if b == 0x5C, i + 1 < count, escapes.isEscapable(base[i + 1]) {
                body(base[i + 1])
                i += 2
            } else {
                body(b)
                i += 1
            }
        }
    }

    /// True when the unescaped value equals `other` byte for byte.
    @inline(__always)
    public func equals(_ other: UnsafeBufferPointer<UInt8>) -> Bool {
        if escapes == .none {
            guard count == other.count else { return false }
            guard let o = other.baseAddress else { return count == 0 }
            return memcmp(base, o, count) == 0
        }
        var j = 0
        var equal = true
        forEachByte { b in
            if !equal { return }
            if j >= other.count || other[j] != b { equal = false }
            j += 1
        }
        return equal && j == other.count
    }

    /// True when the unescaped value equals `other`.
    @inline(__always)
    /// True when the unescaped value starts with `prefix` (allocates only for an
    /// escaped value).
    public func hasPrefix(_ prefix: [UInt8]) -> Bool {
        guard escapes != .none else {
            guard prefix.count <= count else { return false }
            return prefix.withUnsafeBufferPointer { p in
                guard let start = p.baseAddress else { return true }
                return memcmp(base, start, prefix.count) == 0
            }
        }
        return bytes.starts(with: prefix)
    }

    public func equals(_ other: [UInt8]) -> Bool {
        other.withUnsafeBufferPointer { equals($0) }
    }

    /// True when the unescaped values of `self` and `other` are equal, whatever escapes each one uses.
    ///
    /// Allocation-free; views without escapes compare with one `memcmp`.
    @inline(__always)
    public func equals(_ other: ByteView) -> Bool {
        if escapes == .none && other.escapes == .none {
            guard count == other.count else { return false }
            return count == 0 || memcmp(base, other.base, count) == 0
        }
        var i = 0
        var j = 0
        while i < count && j < other.count {
            let (a, widthA) = unescapedByte(at: i)
            let (b, widthB) = other.unescapedByte(at: j)
            if a != b { return false }
            i += widthA
            j += widthB
        }
        return i == count && j == other.count
    }

    /// The unescaped byte that starts at raw offset `i`, and how many raw bytes it takes (1 or 2).
    @inline(__always)
    func unescapedByte(at i: Int) -> (UInt8, Int) {
        let b = base[i]
        if b == 0x5C, escapes != .none, i + 1 < count, escapes.isEscapable(base[i + 1]) {
            return (base[i + 1], 2)
        }
        return (b, 1)
    }

    /// 64-bit FNV-1a hash of the unescaped value, continuing from `seed`.
    @inline(__always)
    public func fnv1a(seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var h = seed
        forEachByte { b in
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// The unescaped bytes, copied (allocates: not for the hot path).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        forEachByte { out.append($0) }
        return out
    }

    /// The unescaped value as a `String`, invalid UTF-8 repaired (allocates).
    public var string: String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// 64-bit FNV-1a over a byte array, matching `ByteView.fnv1a`.
@inlinable
public func fnv1a(_ bytes: [UInt8], seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var h = seed
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
