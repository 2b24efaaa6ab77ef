/// RFC 8259 string escaping, shared by every JSON encoder in Vigie (samples, ACKs, feed payloads).
///
/// Escapes `"` and `\`, writes control characters (U+0000…U+001F) as `\b`, `\f`, `\n`, `\r`, `\t` or `\u00XX`,
/// and copies everything else as UTF-8. Byte input that is not valid UTF-8 has each maximal ill-formed
/// subsequence replaced by U+FFFD, exactly as `String(decoding:as: UTF8.self)` does, so the output is always
/// valid JSON text.
public enum JSONText {
    /// Appends the escaped content of `value` (without surrounding quotes) to `output`.
    public static func appendEscaped(_ value: String, into output: inout [UInt8]) {
        var value = value
        value.withUTF8 { appendEscaped($0, into: &output) }
    }

    /// Appends the escaped content of `value` (without surrounding quotes) to `output`.
    public static func appendEscaped(_ value: String, into output: inout String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count + 8)
        appendEscaped(value, into: &bytes)
        output += String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the escaped content of the unescaped value of `view` (without surrounding quotes) to `output`.
    public static func appendEscaped(_ view: ByteView, into output: inout [UInt8]) {
        if view.escapes == .none {
            appendEscaped(UnsafeBufferPointer(start: view.base, count: view.count), into: &output)
        } else {
            let bytes = view.bytes
            bytes.withUnsafeBufferPointer { appendEscaped($0, into: &output) }
        }
    }

    /// Appends the escaped content of UTF-8 `bytes` (without surrounding quotes) to `output`; ill-formed
    /// sequences become U+FFFD.
    public static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        guard let start = bytes.baseAddress else { return }
        let end = start + bytes.count
        var p = start
        while p < end {
            // A run of bytes that need no escape (printable ASCII but `"` and `\`) is
            // copied in one append: names and tag values are usually nothing else.
            var run = p
            while run < end, run.pointee >= 0x20, run.pointee < 0x80, run.pointee != 0x22, run.pointee != 0x5C {
                run += 1
            }
            if run > p {
                output.append(contentsOf: UnsafeBufferPointer(start: p, count: run - p))
                p = run
                if p == end { break }
            }
            let b = p.pointee
            if b >= 0x80 {
                let width = UTF8Check.sequenceWidth(p, end)
                if width > 0 {
                    output.append(contentsOf: UnsafeBufferPointer(start: p, count: width))
                    p += width
                } else {
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD] as [UInt8])
                    p += maximalSubpartLength(p, end)
                }
                continue
            }
            switch b {
            case 0x22: output.append(contentsOf: [0x5C, 0x22] as [UInt8])
            case 0x5C: output.append(contentsOf: [0x5C, 0x5C] as [UInt8])
            case 0x08: output.append(contentsOf: [0x5C, 0x62] as [UInt8])
            case 0x0C: output.append(contentsOf: [0x5C, 0x66] as [UInt8])
            case 0x0A: output.append(contentsOf: [0x5C, 0x6E] as [UInt8])
            case 0x0D: output.append(contentsOf: [0x5C, 0x72] as [UInt8])
            case 0x09: output.append(contentsOf: [0x5C, 0x74] as [UInt8])
            case 0x00..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0x0F)]] as [UInt8])
            default:
                output.append(b)
            }
            p += 1
        }
    }

    /// Appends `value` as a quoted JSON string to `output`.
    public static func appendQuoted(_ value: String, into output: inout [UInt8]) {
        output.append(0x22)
        appendEscaped(value, into: &output)
        output.append(0x22)
    }

    /// Appends the unescaped value of `view` as a quoted JSON string to `output`.
    public static func appendQuoted(_ view: ByteView, into output: inout [UInt8]) {
        output.append(0x22)
        appendEscaped(view, into: &output)
        output.append(0x22)
    }

    /// `value` as a quoted JSON string.
    public static func quoted(_ value: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count + 2)
        appendQuoted(value, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Bytes of the maximal ill-formed subpart at `p` (Unicode §3.9): at least 1.
    private static func maximalSubpartLength(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Int {
        let b0 = p.pointee
        let width: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: width = 2
        case 0xE0...0xEF:
            width = 3
            if b0 == 0xE0 { lower = 0xA0 }
            if b0 == 0xED { upper = 0x9F }
        case 0xF0...0xF4:
            width = 4
            if b0 == 0xF0 { lower = 0x90 }
            if b0 == 0xF4 { upper = 0x8F }
        default: return 1
        }
        var length = 1
        while length < width && p + length < end {
            let b = p[length]
            let ok = length == 1 ? (lower...upper).contains(b) : (b & 0xC0 == 0x80)
            if !ok { break }
            length += 1
        }
        return length
    }
}
