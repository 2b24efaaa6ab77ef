/// Takes the lines of a payload whose measurement starts with none of a key's metric
/// prefixes out of it, for ingest from a CURVE key that may only write some metrics.
///
/// The refused lines are overwritten in a copy of the payload: every byte of each one,
/// from its first byte to its terminating newline, becomes `#` except the newlines
/// inside it (a string field may hold some). Each physical line of a refused line is
/// then a comment, so what is applied, logged and replayed from the copy is exactly the
/// other lines, with their line numbers unchanged: parsing the copy meets the same line
/// starts as parsing the original, since only bytes inside refused lines changed.
public enum PrefixFilter {
    /// Parses `payload` with `parser`; for each accepted line whose measurement has
    /// none of `prefixes`, calls `refused` and blanks it in `copy` (which then holds the
    /// whole payload). Returns how many lines were refused (0: `copy` is untouched) and
    /// the next line number.
    public static func filter(
        _ payload: UnsafeRawBufferPointer,
        firstLineNumber: Int,
        prefixes: [[UInt8]],
        parser: LineProtocolParser,
        copy: inout [UInt8],
        refused: (ParsedLine) -> Void
    ) -> (refused: Int, nextLineNumber: Int) {
        guard let start = payload.baseAddress else { return (0, firstLineNumber) }
        var count = 0
        let next = parser.parse(payload, firstLineNumber: firstLineNumber) { line in
            guard !prefixes.contains(where: { line.measurement.hasPrefix($0) }) else { return }
            if count == 0 {
                copy.removeAll(keepingCapacity: true)
                copy.append(contentsOf: payload)
            }
            count += 1
            if let lineStart = line.extent.baseAddress {
                let offset = lineStart - start
                for i in offset..<(offset + line.extent.count) where copy[i] != 0x0A {
                    copy[i] = UInt8(ascii: "#")
                }
            } else {
                copy[UnsafeRawPointer(line.measurement.base) - start] = UInt8(ascii: "#")
            }
            refused(line)
        } onError: { _ in
        }.nextLineNumber
        return (count, next)
    }
}
