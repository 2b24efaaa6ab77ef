/// Why `METRIC VALUE` arguments do not make a sample (exit 65).
struct SampleLineError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Builds one line of line protocol from command-line pieces, escaping as InfluxDB does.
enum SampleLine {
    static func make(metric: String, tags: [String], field: String, value: String, time: Int64?) throws -> String {
        guard !metric.isEmpty else { throw SampleLineError("METRIC must not be empty") }
        var line = escape(metric, extra: [])
        for tag in tags {
            guard let eq = tag.firstIndex(of: "="), eq != tag.startIndex, tag.index(after: eq) != tag.endIndex else {
                throw SampleLineError("tag '\(tag)' must be key=value with both parts non-empty")
            }
            line +=
                "," + escape(String(tag[..<eq]), extra: ["="]) + "="
                + escape(String(tag[tag.index(after: eq)...]), extra: ["="])
        }
        line += " " + escape(field, extra: ["="]) + "=" + (try fieldValue(value))
        if let time { line += " \(time)" }
        return line + "\n"
    }

    private static func escape(_ text: String, extra: Set<Character>) -> String {
        var out = ""
        for c in text {
            if c == "," || c == " " || extra.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    private static func fieldValue(_ value: String) throws -> String {
        let lowered = value.lowercased()
        if ["true", "false", "t", "f"].contains(lowered) { return lowered }
        if let last = value.last, last == "i" || last == "u",
            Int64(value.dropLast()) != nil || UInt64(value.dropLast()) != nil
        {
            return value
        }
        if let d = Double(value) {
            guard d.isFinite else { throw SampleLineError("VALUE '\(value)' is not finite: NaN and Inf are rejected") }
            return value
        }
        if value.count >= 2, value.first == "\"", value.last == "\"" { return value }
        throw SampleLineError("VALUE '\(value)' is not a number (12.5, 3i, 7u), a boolean or a \"quoted string\"")
    }
}
