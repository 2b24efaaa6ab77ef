import VigieCore

/// The readable one-line form of a sample that `vigie parse` prints without `--json`.
///
/// `3: guichet_attente service=etat-civil site=centre | value=12.5 (float), ok=true (bool) | @1700000000000000000`
/// Names are unescaped, with control characters written as JSON escapes; strings are JSON-quoted; a missing
/// timestamp reads `@receive-time`.
enum SampleSummary {
    static func append(_ line: ParsedLine, into output: inout [UInt8]) {
        output.append(contentsOf: "\(line.lineNumber): ".utf8)
        JSONText.appendEscaped(line.measurement, into: &output)
        for tag in line.tags {
            output.append(0x20)
            JSONText.appendEscaped(tag.key, into: &output)
            output.append(0x3D)
            JSONText.appendEscaped(tag.value, into: &output)
        }
        output.append(contentsOf: " | ".utf8)
        for (i, field) in line.fields.enumerated() {
            if i > 0 { output.append(contentsOf: ", ".utf8) }
            JSONText.appendEscaped(field.key, into: &output)
            output.append(0x3D)
            switch field.value {
            case .float(let v): output.append(contentsOf: "\(v) (float)".utf8)
            case .int(let v): output.append(contentsOf: "\(v) (int)".utf8)
            case .uint(let v): output.append(contentsOf: "\(v) (uint)".utf8)
            case .bool(let v): output.append(contentsOf: "\(v) (bool)".utf8)
            case .string(let view):
                JSONText.appendQuoted(view, into: &output)
                output.append(contentsOf: " (string)".utf8)
            }
        }
        output.append(contentsOf: " | ".utf8)
        if let timestamp = line.timestamp {
            output.append(contentsOf: "@\(timestamp)".utf8)
        } else {
            output.append(contentsOf: "@receive-time".utf8)
        }
    }
}
