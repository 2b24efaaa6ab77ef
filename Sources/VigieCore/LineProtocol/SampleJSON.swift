/// The JSON form of one parsed line, as `vigie parse --json` prints it (DESIGN.md).
///
/// Byte-exact and stable: keys in the order `measurement`, `tags`, `fields`, `timestamp`; tags and fields in
/// wire order; no spaces. `m,k=v value=12.5 1` gives
///
///     {"measurement":"m","tags":{"k":"v"},"fields":{"value":{"type":"float","value":12.5}},"timestamp":1}
///
/// Integers are printed exactly; floats use Swift's shortest round-trip form (`12.5`, `12.0`, `1e+20`);
/// a non-finite float, which the parser never produces, is written `null`. `timestamp` is `null` when absent.
public enum SampleJSON {
    /// The JSON object for `line`, without a trailing newline.
    public static func encode(_ line: ParsedLine) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        append(line, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the JSON object for `line` (no trailing newline) to `output`.
    public static func append(_ line: ParsedLine, into output: inout [UInt8]) {
        output.append(contentsOf: #"{"measurement":"#.utf8)
        JSONText.appendQuoted(line.measurement, into: &output)
        output.append(contentsOf: #","tags":{"#.utf8)
        for (i, tag) in line.tags.enumerated() {
            if i > 0 { output.append(0x2C) }
            JSONText.appendQuoted(tag.key, into: &output)
            output.append(0x3A)
            JSONText.appendQuoted(tag.value, into: &output)
        }
        output.append(contentsOf: #"},"fields":{"#.utf8)
        for (i, field) in line.fields.enumerated() {
            if i > 0 { output.append(0x2C) }
            JSONText.appendQuoted(field.key, into: &output)
            output.append(contentsOf: #":{"type":"#.utf8)
            switch field.value {
            case .float(let v):
                output.append(contentsOf: #""float","value":"#.utf8)
                if v.isFinite {
                    output.append(contentsOf: v.description.utf8)
                } else {
                    output.append(contentsOf: "null".utf8)
                }
            case .int(let v):
                output.append(contentsOf: #""int","value":"#.utf8)
                output.append(contentsOf: String(v).utf8)
            case .uint(let v):
                output.append(contentsOf: #""uint","value":"#.utf8)
                output.append(contentsOf: String(v).utf8)
            case .bool(let v):
                output.append(contentsOf: #""bool","value":"#.utf8)
                output.append(contentsOf: (v ? "true" : "false").utf8)
            case .string(let view):
                output.append(contentsOf: #""string","value":"#.utf8)
                JSONText.appendQuoted(view, into: &output)
            }
            output.append(0x7D)
        }
        output.append(contentsOf: #"},"timestamp":"#.utf8)
        if let timestamp = line.timestamp {
            output.append(contentsOf: String(timestamp).utf8)
        } else {
            output.append(contentsOf: "null".utf8)
        }
        output.append(0x7D)
    }
}
