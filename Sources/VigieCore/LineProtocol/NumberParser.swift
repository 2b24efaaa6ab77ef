#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hand-written, allocation-free number parsing for field values and timestamps.
///
/// Integers are checked exactly against int64/uint64. Floats take Clinger's exact fast path (a mantissa of at
/// most 2^53 times or divided by an exact power of ten up to 10^22), which covers the decimals scripts send;
/// anything else goes to `strtod` in the C locale on a stack copy, which is correctly rounded.
final class NumberParser {
    private let powersOfTen: UnsafeMutablePointer<Double>
    private let integerPowersOfTen: UnsafeMutablePointer<UInt64>
    private let cLocale: locale_t?

    init() {
        powersOfTen = .allocate(capacity: 23)
        var power = 1.0
        for i in 0...22 {
            powersOfTen[i] = power  // 10^0 … 10^22 are exact in binary64.
            power *= 10
        }
        integerPowersOfTen = .allocate(capacity: 16)
        var integerPower: UInt64 = 1
        for i in 0...15 {
            integerPowersOfTen[i] = integerPower
            integerPower *= 10
        }
        cLocale = newlocale(LC_NUMERIC_MASK, "C", nil)
    }

    deinit {
        powersOfTen.deallocate()
        integerPowersOfTen.deallocate()
        if let cLocale { freelocale(cLocale) }
    }

    /// Parses the numeric field value at `p` (a digit, `-` or `.`) in one pass and moves `p` past it.
    ///
    /// Handles `-?digits(.digits)?(e±digits)?` as a float and `-?digits` with an `i`/`u` suffix as an integer;
    /// anything else (or more than 19 significant digits of integer) goes through `parseNumberToken`, which also
    /// words the errors.
    @inline(__always)
    func parseNumber(_ p: inout UnsafePointer<UInt8>, end: UnsafePointer<UInt8>) throws(LineFault) -> FieldValue {
        let start = p
        var q = p
        let negative = q.pointee == 0x2D
        if negative { q += 1 }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var truncated = false
        let integerStart = q
        while q < end {
            let d = q.pointee &- 0x30
            if d > 9 { break }
            if significantDigits < 19 {
                if mantissa != 0 || d != 0 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    significantDigits += 1
                }
            } else {
                exponent += 1
                truncated = true
            }
            q += 1
        }
        var sawDigit = q > integerStart
        var integerSyntax = sawDigit
        if q < end && q.pointee == 0x2E {
            integerSyntax = false
            q += 1
            let fractionStart = q
            while q < end {
                let d = q.pointee &- 0x30
                if d > 9 { break }
                if significantDigits < 19 {
                    if mantissa != 0 || d != 0 {
                        mantissa = mantissa &* 10 &+ UInt64(d)
                        significantDigits += 1
                    }
                    exponent -= 1
                } else {
                    truncated = true
                }
                q += 1
            }
            sawDigit = sawDigit || q > fractionStart
        }
        if q < end && (q.pointee | 0x20) == 0x65 {  // e or E
            integerSyntax = false
            q += 1
            var exponentNegative = false
            if q < end && (q.pointee == 0x2B || q.pointee == 0x2D) {
                exponentNegative = q.pointee == 0x2D
                q += 1
            }
            let exponentStart = q
            var written = 0
            while q < end {
                let d = q.pointee &- 0x30
                if d > 9 { break }
                if written < 1_000_000 { written = written * 10 + Int(d) }
                q += 1
            }
            if q == exponentStart { sawDigit = false }
            exponent += exponentNegative ? -written : written
        }
        var fallback = !sawDigit
        if q < end {
            let c = q.pointee
            if c == 0x69 || c == 0x75 {  // i or u
                if integerSyntax && !truncated && (q + 1 == end || q[1] == 0x2C || q[1] == 0x20) {
                    if c == 0x69 {
                        if negative ? mantissa <= UInt64(Int64.max) + 1 : mantissa <= UInt64(Int64.max) {
                            p = q + 1
                            return .int(negative ? Int64(truncatingIfNeeded: 0 &- mantissa) : Int64(mantissa))
                        }
                    } else if !negative {
                        p = q + 1
                        return .uint(mantissa)
                    }
                }
                fallback = true
            } else if c != 0x2C && c != 0x20 {
                fallback = true
            }
        }
        if fallback {
            let tokenEnd = Self.valueEnd(from: start, to: end)
            let value = try parseNumberToken(start, tokenEnd)
            p = tokenEnd
            return value
        }
        p = q
        return .float(
            try makeDouble(start, q, negative: negative, mantissa: mantissa, exponent: exponent, truncated: truncated)
        )
    }

    /// The end of an unquoted field value: the next `,` or space, or `end`.
    @inline(__always)
    static func valueEnd(from start: UnsafePointer<UInt8>, to end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
        var q = start
        while q < end {
            let b = q.pointee
            if b == 0x2C || b == 0x20 { break }
            q += 1
        }
        return q
    }

    /// Parses a whole unquoted numeric token `[start, end)` (non-empty): `…i`, `…u` or a float. Slow path.
    func parseNumberToken(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws(LineFault) -> FieldValue {
        let last = end[-1]
        if last == 0x69 {  // i
            return .int(try Self.parseInt(start, end - 1))
        }
        if last == 0x75 {  // u
            return .uint(try Self.parseUnsigned(start, end - 1))
        }
        do throws(LineFault) {
            return .float(try parseFloat(start, end))
        } catch {
            if case .invalidFloat = error.reason, Self.isNonFiniteSpelling(start, end) {
                throw LineFault(start, .nonFinite)
            }
            throw error
        }
    }

    /// `-?[0-9]+` as an Int64, exactly range-checked.
    static func parseInt(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws(LineFault) -> Int64 {
        var p = start
        let negative = p < end && p.pointee == 0x2D
        if negative { p += 1 }
        guard let (magnitude, overflow) = digits(p, end) else { throw LineFault(start, .invalidInteger) }
        if overflow { throw LineFault(start, .integerOutOfRange) }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { throw LineFault(start, .integerOutOfRange) }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        if magnitude > UInt64(Int64.max) { throw LineFault(start, .integerOutOfRange) }
        return Int64(magnitude)
    }

    /// `[0-9]+` as a UInt64, exactly range-checked; a `-` sign is an error (even `-0u`, as in InfluxDB).
    static func parseUnsigned(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws(LineFault) -> UInt64 {
        if start < end && start.pointee == 0x2D { throw LineFault(start, .negativeUnsigned) }
        guard let (value, overflow) = digits(start, end) else { throw LineFault(start, .invalidUnsigned) }
        if overflow { throw LineFault(start, .unsignedOutOfRange) }
        return value
    }

    /// The timestamp at `p`, `-?[0-9]+` up to a space or `end`, within InfluxDB's range
    /// `MinInt64+2 ... MaxInt64-1` nanoseconds; moves `p` past it.
    @inline(__always)
    static func parseTimestamp(_ p: inout UnsafePointer<UInt8>, end: UnsafePointer<UInt8>) throws(LineFault) -> Int64 {
        let start = p
        var q = p
        let negative = q.pointee == 0x2D
        if negative { q += 1 }
        let digitsStart = q
        var magnitude: UInt64 = 0
        while end - q >= 8, let eight = eightDigits(q) {  // Nanosecond timestamps have 19 digits.
            magnitude = magnitude &* 100_000_000 &+ eight
            q += 8
        }
        while q < end {
            let d = q.pointee &- 0x30
            if d > 9 { break }
            magnitude = magnitude &* 10 &+ UInt64(d)
            q += 1
        }
        if q == digitsStart || (q < end && q.pointee != 0x20) {
            let tokenEnd = findByte(0x20, from: start, to: end) ?? end
            throw LineFault(start, .invalidTimestamp(hasEquals: findByte(0x3D, from: start, to: tokenEnd) != nil))
        }
        if q - digitsStart > 19 {
            guard let (value, overflow) = digits(digitsStart, q), !overflow else {
                throw LineFault(start, .timestampOutOfRange)
            }
            magnitude = value
        }
        if magnitude > UInt64(Int64.max - 1) { throw LineFault(start, .timestampOutOfRange) }
        p = q
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    /// The value of the 8 bytes at `p` when they are all ASCII digits, computed word-at-a-time (SWAR).
    @inline(__always)
    static func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
        let word = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        let high: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
        guard (word & high) | (((word &+ 0x0606_0606_0606_0606) & high) &>> 4) == 0x3333_3333_3333_3333 else {
            return nil
        }
        var v = word & 0x0F0F_0F0F_0F0F_0F0F
        v = (v &* (10 << 8 + 1)) &>> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* (100 << 16 + 1)) &>> 16
        v = ((v & 0x0000_FFFF_0000_FFFF) &* (10_000 << 32 + 1)) &>> 32
        return v
    }

    /// Decimal digits `[start, end)` (at least one): their value and whether it overflowed UInt64.
    @inline(__always)
    static func digits(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> (UInt64, Bool)? {
        if start >= end { return nil }
        var p = start
        var value: UInt64 = 0
        while p < end {
            let d = p.pointee &- 0x30
            if d > 9 { return nil }
            value = value &* 10 &+ UInt64(d)
            p += 1
        }
        if end - start <= 19 { return (value, false) }  // 19 digits cannot overflow UInt64.
        value = 0
        var overflow = false
        p = start
        while p < end {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(p.pointee &- 0x30))
            value = sum
            overflow = overflow || o1 || o2
            p += 1
        }
        return (value, overflow)
    }

    /// `-?(digits)?(.digits?)?([eE][+-]?digits)?` with at least one mantissa digit, correctly rounded.
    func parseFloat(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws(LineFault) -> Double {
        var p = start
        let negative = p.pointee == 0x2D
        if negative { p += 1 }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var truncated = false
        var sawDigit = false
        while p < end {
            let d = p.pointee &- 0x30
            if d > 9 { break }
            sawDigit = true
            if significantDigits < 19 {
                if mantissa != 0 || d != 0 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    significantDigits += 1
                }
            } else {
                exponent += 1
                truncated = true
            }
            p += 1
        }
        if p < end && p.pointee == 0x2E {
            p += 1
            while p < end {
                let d = p.pointee &- 0x30
                if d > 9 { break }
                sawDigit = true
                if significantDigits < 19 {
                    if mantissa != 0 || d != 0 {
                        mantissa = mantissa &* 10 &+ UInt64(d)
                        significantDigits += 1
                    }
                    exponent -= 1
                } else {
                    truncated = true
                }
                p += 1
            }
        }
        if !sawDigit { throw LineFault(start, .invalidFloat) }
        if p < end && (p.pointee | 0x20) == 0x65 {  // e or E
            p += 1
            var exponentNegative = false
            if p < end && (p.pointee == 0x2B || p.pointee == 0x2D) {
                exponentNegative = p.pointee == 0x2D
                p += 1
            }
            var written = 0
            var exponentDigits = 0
            while p < end {
                let d = p.pointee &- 0x30
                if d > 9 { break }
                if written < 1_000_000 { written = written * 10 + Int(d) }
                exponentDigits += 1
                p += 1
            }
            if exponentDigits == 0 { throw LineFault(start, .invalidFloat) }
            exponent += exponentNegative ? -written : written
        }
        if p != end { throw LineFault(start, .invalidFloat) }
        return try makeDouble(
            start,
            end,
            negative: negative,
            mantissa: mantissa,
            exponent: exponent,
            truncated: truncated
        )
    }

    /// The correctly rounded Double of `±mantissa × 10^exponent` (`truncated` when digits were dropped), whose
    /// text is `[start, end)`; out-of-range values throw.
    @inline(__always)
    private func makeDouble(
        _ start: UnsafePointer<UInt8>,
        _ end: UnsafePointer<UInt8>,
        negative: Bool,
        mantissa: UInt64,
        exponent: Int,
        truncated: Bool
    ) throws(LineFault) -> Double {
        let value: Double
        if mantissa == 0 {
            value = negative ? -0.0 : 0.0
        } else if !truncated && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            let m = Double(mantissa)
            let magnitude = exponent >= 0 ? m * powersOfTen[exponent] : m / powersOfTen[-exponent]
            value = negative ? -magnitude : magnitude
        } else if !truncated && mantissa <= 1 << 53 && exponent > 22 && exponent <= 22 + 15,
            case (let scaled, let overflow) = mantissa.multipliedReportingOverflow(
                by: integerPowersOfTen[exponent - 22]
            ),
            !overflow, scaled <= 1 << 53
        {
            let magnitude = Double(scaled) * powersOfTen[22]
            value = negative ? -magnitude : magnitude
        } else {
            value = try slowParse(start, end)
        }
        if !value.isFinite { throw LineFault(start, .floatOutOfRange) }
        return value
    }

    /// `strtod` in the C locale on a NUL-terminated stack copy of `[start, end)`.
    private func slowParse(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws(LineFault) -> Double {
        let count = end - start
        let result: Double? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
            guard let text = buffer.baseAddress else { return nil }
            UnsafeMutableRawPointer(text).copyMemory(from: start, byteCount: count)
            text[count] = 0
            let previous = cLocale.map { uselocale($0) }
            defer { if let previous { uselocale(previous) } }
            var stop: UnsafeMutablePointer<CChar>?
            let value = strtod(text, &stop)
            return stop == text + count ? value : nil
        }
        guard let result else { throw LineFault(start, .invalidFloat) }
        return result
    }

    /// True for `nan`, `inf` and `infinity` in any case, with an optional sign.
    static func isNonFiniteSpelling(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Bool {
        var p = start
        if p < end && (p.pointee == 0x2D || p.pointee == 0x2B) { p += 1 }
        let n = end - p
        guard n == 3 || n == 8 else { return false }
        var lower: [UInt8] = []  // Error path only.
        for i in 0..<n { lower.append(p[i] | 0x20) }
        return lower == Array("nan".utf8) || lower == Array("inf".utf8) || lower == Array("infinity".utf8)
    }
}

/// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
enum UTF8Check {
    /// The first byte of the first ill-formed sequence in `[start, end)`, or `nil` when all is valid.
    @inline(__always)
    static func firstInvalid(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        var p = start
        while p < end {
            if p.pointee < 0x80 {
                p += 1
                continue
            }
            let width = sequenceWidth(p, end)
            if width == 0 { return p }
            p += width
        }
        return nil
    }

    /// Length of the well-formed multi-byte sequence at `p`, or 0 when it is ill-formed or cut short.
    static func sequenceWidth(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Int {
        let available = end - p
        let b0 = p.pointee
        @inline(__always) func isContinuation(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            return available >= 2 && isContinuation(p[1]) ? 2 : 0
        case 0xE0...0xEF:
            guard available >= 3 else { return 0 }
            let lower: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
            let upper: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            return (lower...upper).contains(p[1]) && isContinuation(p[2]) ? 3 : 0
        case 0xF0...0xF4:
            guard available >= 4 else { return 0 }
            let lower: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
            let upper: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            return (lower...upper).contains(p[1]) && isContinuation(p[2]) && isContinuation(p[3]) ? 4 : 0
        default:
            return 0
        }
    }
}
