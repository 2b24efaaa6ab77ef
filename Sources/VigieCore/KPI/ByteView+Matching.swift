extension ByteView {
    /// True when the unescaped value equals `other`: like `equals(_:)`, with the short
    /// names of the hot path compared inline rather than through `memcmp`.
    @inline(__always)
    func matches(_ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard escapes == .none else { return equals(other) }
        guard count == other.count else { return false }
        guard count <= 32 else { return equals(other) }
        guard let o = other.baseAddress else { return true }
        var i = 0
        while i + 8 <= count {
            let a = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let b = UnsafeRawPointer(o + i).loadUnaligned(as: UInt64.self)
            if a != b { return false }
            i += 8
        }
        while i < count {
            if base[i] != o[i] { return false }
            i += 1
        }
        return true
    }
}
