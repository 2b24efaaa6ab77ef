/// Word-at-a-time scanning of measurements, tag keys, tag values and field keys.
///
/// Eight bytes are tested at once for the bytes that end or escape a name (SWAR); a name stops at an unescaped
/// `,` or space (and `=` except in a measurement).
enum NameScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Flags (in the high bit) the bytes of `word` equal to `byte`; the lowest flag is exact.
    @inline(__always)
    private static func matches(_ word: UInt64, _ byte: UInt64) -> UInt64 {
        let x = word ^ (byte &* ones)
        return (x &- ones) & ~x & highs
    }

    /// Advances `p` to the end of the name that starts there. Reports whether it held an escape sequence and
    /// whether any byte was non-ASCII (so UTF-8 needs checking).
    @inline(__always)
    static func scan(
        _ p: inout UnsafePointer<UInt8>,
        end: UnsafePointer<UInt8>,
        isMeasurement: Bool
    ) -> (escaped: Bool, nonASCII: Bool) {
        var q = p
        var seen: UInt64 = 0
        var escaped = false
        while true {
            while end - q >= 8 {
                let word = UInt64(littleEndian: UnsafeRawPointer(q).loadUnaligned(as: UInt64.self))
                var stops = matches(word, 0x2C) | matches(word, 0x20) | matches(word, 0x5C)
                if !isMeasurement { stops |= matches(word, 0x3D) }
                if stops != 0 {
                    let skip = stops.trailingZeroBitCount &>> 3
                    seen |= word & ((1 &<< (UInt64(skip) &* 8)) &- 1)
                    q += skip
                    break
                }
                seen |= word
                q += 8
            }
            if q >= end { break }
            let b = q.pointee
            if b == 0x2C || b == 0x20 || (!isMeasurement && b == 0x3D) { break }
            if b == 0x5C, q + 1 < end {
                let next = q[1]
                if next == 0x2C || next == 0x20 || (!isMeasurement && next == 0x3D) {
                    escaped = true
                    q += 2
                    continue
                }
            }
            seen |= UInt64(b)
            q += 1
        }
        p = q
        return (escaped, seen & highs != 0)
    }
}
