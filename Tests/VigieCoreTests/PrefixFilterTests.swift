import Testing
import VigieCore
import VigieTesting

/// A key's metric prefixes: nothing applied from a filtered payload falls outside them.
@Suite struct PrefixFilterTests {
    static let prefixes: [[UInt8]] = [Array("guichet_".utf8), Array("appels".utf8)]

    /// The lines `parser` accepts in `bytes`: (line number, measurement).
    static func accepted(_ bytes: [UInt8], parser: LineProtocolParser) -> [(Int, String)] {
        var lines: [(Int, String)] = []
        _ = bytes.withUnsafeBytes { payload in
            parser.parse(payload) {
                lines.append(($0.lineNumber, $0.measurement.string))
            } onError: { _ in
            }
        }
        return lines
    }

    /// Filters `text`; returns what is left to apply and the refused line numbers.
    static func filter(_ text: String, parser: LineProtocolParser) -> (applied: [(Int, String)], refused: [Int]) {
        let bytes = Array(text.utf8)
        var copy: [UInt8] = []
        var refused: [Int] = []
        let (count, _) = bytes.withUnsafeBytes { payload in
            PrefixFilter.filter(payload, firstLineNumber: 1, prefixes: prefixes, parser: parser, copy: &copy) {
                refused.append($0.lineNumber)
            }
        }
        #expect(count == refused.count)
        return (accepted(count > 0 ? copy : bytes, parser: parser), refused)
    }

    @Test func aLineHiddenInARefusedLinesStringIsNotApplied() {
        // Once, only the refused line's first byte became '#': the comment ended at the
        // newline inside its string, and the line hidden after it was applied unchecked.
        let parser = LineProtocolParser()
        let text = "voirie,a=1 note=\"x\ndemandes,site=nord value=999\n\"\nguichet_attente value=5\n"
        let (applied, refused) = Self.filter(text, parser: parser)
        #expect(refused == [1])
        #expect(applied.count == 1)
        #expect(applied.first?.0 == 4 && applied.first?.1 == "guichet_attente")
    }

    @Test func randomBatchesNeverApplyALineOutsideThePrefixes() {
        let parser = LineProtocolParser()
        var rng = SeededGenerator(seed: 0xF11_7E25)
        let names = ["guichet_attente", "appels", "appels_perdus", "voirie", "guichet", "g", "appel"]
        func name() -> String { names.randomElement(using: &rng) ?? "x" }
        func stringValue() -> String {
            // Strings that hold newlines and whole lines of either kind, escaped quotes too.
            let pieces = ["\n", "\n\(name()) value=1\n", "\\\"", " ", "\(name()),t=1 value=2", "\r\n", "#"]
            return (0..<Int.random(in: 0...4, using: &rng)).map { _ in pieces.randomElement(using: &rng) ?? "" }
                .joined()
        }
        for _ in 0..<2_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: text += "\(name()) value=\(Int.random(in: 0...9, using: &rng))\n"
                case 1: text += "\(name()),site=n note=\"\(stringValue())\",value=1\n"
                case 2: text += "# \(name()) value=1\n"
                case 3: text += "\(name()) note=\"\(stringValue())\n"  // unterminated string
                default: text += "\n"
                }
            }
            let original = Self.accepted(Array(text.utf8), parser: parser)
            let (applied, refused) = Self.filter(text, parser: parser)
            for (line, measurement) in applied {
                #expect(
                    Self.prefixes.contains { Array(measurement.utf8).starts(with: $0) },
                    "line \(line) \(measurement) applied from \(text.debugDescription)"
                )
            }
            // Exactly the allowed lines of the original remain, at the same line numbers.
            let allowed = original.filter { _, m in Self.prefixes.contains { Array(m.utf8).starts(with: $0) } }
            #expect(applied.map(\.0) == allowed.map(\.0), "\(text.debugDescription)")
            #expect(refused.count == original.count - allowed.count)
        }
    }
}
