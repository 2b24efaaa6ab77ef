import VigieCore

/// Line protocol text the collectors write and check: escaping of names and tag values,
/// number formatting, and validation of lines that come from outside.
enum LineProtocolText {
    /// A measurement name escaped per line protocol (`,` and space).
    static func measurement(_ name: String) -> String {
        escape(name, special: [",", " "])
    }

    /// A tag key, tag value or field key escaped per line protocol (`,`, `=` and space).
    static func key(_ text: String) -> String {
        escape(text, special: [",", "=", " "])
    }

    /// Escapes scalar by scalar: `,` followed by a combining mark is one `Character`, but
    /// still a `,` to the parser.
    private static func escape(_ text: String, special: Set<Unicode.Scalar>) -> String {
        var output = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n", "\r", "\t":
                // A line break would end the line: it becomes an escaped space.
                output.append(contentsOf: "\\ ".unicodeScalars)
            case _ where special.contains(scalar):
                output.append("\\")
                output.append(scalar)
            default:
                output.append(scalar)
            }
        }
        return String(output)
    }

    /// Whether `text` can be written as a name or tag value: not empty, not ending in a
    /// backslash (it would escape the delimiter written after it: line protocol has no
    /// way to write one there) and, for a measurement, not starting with `#` (a comment).
    static func canWrite(_ text: String, measurement: Bool = false) -> Bool {
        !text.isEmpty && text.unicodeScalars.last != "\\" && !(measurement && text.unicodeScalars.first == "#")
    }

    /// A float field value: `12.5`, `3.0`, `1e-05`.
    static func float(_ value: Double) -> String {
        "\(value)"
    }

    /// Checks each physical line of `text` (blank and `#` lines skipped): the accepted
    /// lines, `\n`-terminated, their count and the number rejected.
    ///
    /// Lines are checked one by one, so a string field value holding a newline is
    /// rejected (collectors never need one).
    static func validate(_ text: [UInt8], parser: LineProtocolParser) -> (lines: String, accepted: Int, rejected: Int) {
        var output: [UInt8] = []
        var accepted = 0
        var rejected = 0
        var start = 0
        while start < text.count {
            var end = start
            while end < text.count && text[end] != 0x0A { end += 1 }
            let line = text[start..<end]
            let summary = line.withUnsafeBytes { raw in
                parser.parse(raw, onLine: { _ in }, onError: { _ in })
            }
            if summary.accepted == 1 {
                var content = Array(line)
                if content.last == 0x0D { content.removeLast() }
                output.append(contentsOf: content)
                output.append(0x0A)
                accepted += 1
            } else if summary.rejected > 0 {
                rejected += 1
            }
            start = end + 1
        }
        return (String(decoding: output, as: UTF8.self), accepted, rejected)
    }
}
