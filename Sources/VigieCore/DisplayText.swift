/// Text that came from outside (tag values, producer ids, alert messages built from
/// them), made safe to show to a person in a terminal or to write as one log line.
///
/// A tag value may carry ESC, CR or NUL: printed raw, `ESC ] 52 ;…` writes to the
/// operator's clipboard and `ESC [ 2 J` clears the screen; a newline in a log message
/// forges a second line. Every control character (C0, DEL, C1) and the Unicode
/// direction overrides (which reorder what a reader sees) are written as visible escapes
/// instead: `\n`, `\r`, `\t`, `\x1B`, `\u{202E}`. Printable text, accents included,
/// is left as it is.
public enum DisplayText {
    /// `text` with its control characters escaped; `text` itself when it has none.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
            }
        }
        return out
    }

    /// True for C0 controls, DEL, C1 controls and the bidirectional formatting characters.
    @inline(__always)
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v)
            || (0x2066...0x2069).contains(v) || v == 0x200E || v == 0x200F
    }
}
