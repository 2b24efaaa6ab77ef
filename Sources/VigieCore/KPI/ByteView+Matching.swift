extension ByteView {
    /// True when the unescaped value equals `other`: like `equals(_:)`, with the short
    /// names of the hot path compared by a few word loads rather than `memcmp` or a
    /// byte loop (see `NameBytes.equal`).
    @inline(__always)
    func matches(_ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard escapes == .none else { return equals(other) }
        guard count == other.count else { return false }
        guard let o = other.baseAddress else { return true }
        return NameBytes.equal(base, o, count: count)
    }

    /// A 64-bit hash of the unescaped value, continuing from `seed`: equal to
    /// `NameBytes.hash` of the unescaped bytes, so a view with escapes hashes like the
    /// plain name it stands for. A word at a time (see `NameBytes`).
    @inline(__always)
    func nameHash(seed: UInt64) -> UInt64 {
        if escapes == .none { return NameBytes.hash(base, count: count, seed: seed) }
        // Escaped: the same 8-byte little-endian words, assembled from the unescaped bytes.
        var h = seed
        var word: UInt64 = 0
        var filled = 0
        var length = 0
        forEachByte { b in
            word |= UInt64(b) << (8 * UInt64(filled))
            filled += 1
            length += 1
            if filled == 8 {
                h = NameBytes.mix(h, word)
                word = 0
                filled = 0
            }
        }
        if filled > 0 { h = NameBytes.mix(h, word) }
        return NameBytes.mix(h, UInt64(length))
    }
}

/// Comparison and hashing of short names (measurements, tag keys and values, field
/// keys) a word at a time, without reading outside `[p, p + count)`.
///
/// A name of 8 bytes or more is read as 8-byte words, the last one overlapping the one
/// before; a name of 4 to 7 bytes as two overlapping 4-byte words; shorter names byte by
/// byte (first, middle and last byte cover 1 to 3 bytes). Hashing uses the same words,
/// the last one shifted so that only bytes of the name count (as if zero-padded), then
/// the length: names of different lengths, or split differently between consecutive
/// values, hash differently.
enum NameBytes {
    @inline(__always)
    static func load64(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }

    @inline(__always)
    static func load32(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt32.self)))
    }

    /// True when the `count` bytes at `a` and at `b` are equal.
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count n: Int) -> Bool {
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                if load64(a + i) != load64(b + i) { return false }
                i += 8
            }
            return load64(a + (n - 8)) == load64(b + (n - 8))
        }
        if n >= 4 {
            return load32(a) == load32(b) && load32(a + (n - 4)) == load32(b + (n - 4))
        }
        if n == 0 { return true }
        return a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1]
    }

    /// One step of the hash: folds `word` into `h`.
    @inline(__always)
    static func mix(_ h: UInt64, _ word: UInt64) -> UInt64 {
        ((h ^ word) &* 0x9E37_79B9_7F4A_7C15).rotateLeft(by: 29)
    }

    /// Hash of the `count` bytes at `p`, continuing from `seed`.
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, count n: Int, seed: UInt64) -> UInt64 {
        var h = seed
        if n >= 8 {
            var i = 0
            while i + 8 <= n {
                h = mix(h, load64(p + i))
                i += 8
            }
            let rest = n - i
            if rest > 0 { h = mix(h, load64(p + (n - 8)) >> UInt64(8 * (8 - rest))) }
        } else if n >= 4 {
            let high = load32(p + (n - 4)) >> UInt64(8 * (8 - n))
            h = mix(h, load32(p) | high << 32)
        } else if n > 0 {
            let word =
                UInt64(p[0]) | UInt64(p[n >> 1]) << UInt64(8 * (n >> 1)) | UInt64(p[n - 1]) << UInt64(8 * (n - 1))
            h = mix(h, word)
        }
        return mix(h, UInt64(n))
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotateLeft(by k: UInt64) -> UInt64 {
        (self << k) | (self >> (64 - k))
    }
}
