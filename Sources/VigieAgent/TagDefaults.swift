/// Adds the agent's default tags (`site`, `department`, `host`…) to a line that lacks
/// them, and the receive time to a line without a timestamp (a spooled batch may reach
/// the daemon minutes later, and the daemon would otherwise stamp it with its own
/// receive time).
public enum TagDefaults {
    /// `line` (one line-protocol line, no newline) with `,key=value` inserted after the
    /// measurement and tags for each default tag whose key is not in `presentKeys`, and
    /// ` receivedAt` appended if `hasTimestamp` is false. Keys and values are escaped per
    /// line protocol (`,`, `=`, space).
    ///
    /// - Parameters:
    ///   - presentKeys: the tag keys the line already has (unescaped).
    public static func rewrite(
        line: ArraySlice<UInt8>,
        defaults: [(key: String, value: String)],
        presentKeys: Set<[UInt8]>,
        hasTimestamp: Bool,
        receivedAt: Int64
    ) -> [UInt8] {
        var start = line.startIndex
        while start < line.endIndex, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        var end = line.endIndex
        while end > start, line[end - 1] == 0x0D || line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        // The measurement and tags end at the first unescaped space.
        var split = start
        while split < end {
            if line[split] == 0x5C {
                split += 2
                continue
            }
            if line[split] == 0x20 { break }
            split += 1
        }
        split = min(split, end)
        var out: [UInt8] = []
        out.reserveCapacity(end - start + 64)
        out.append(contentsOf: line[start..<split])
        for tag in defaults where !presentKeys.contains(Array(tag.key.utf8)) {
            out.append(0x2C)
            escape(tag.key, into: &out)
            out.append(0x3D)
            escape(tag.value, into: &out)
        }
        out.append(contentsOf: line[split..<end])
        if !hasTimestamp {
            out.append(0x20)
            out.append(contentsOf: String(receivedAt).utf8)
        }
        return out
    }

    /// Escapes a tag key or value: `,`, `=` and space get a backslash.
    static func escape(_ text: String, into out: inout [UInt8]) {
        for byte in text.utf8 {
            if byte == 0x2C || byte == 0x3D || byte == 0x20 { out.append(0x5C) }
            out.append(byte)
        }
    }
}
