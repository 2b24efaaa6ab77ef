import Testing
import VigieCore
import VigieTesting

/// The parser's float must be bit-identical to Swift's correctly rounded `Double(String)`.
@Suite("Line protocol: float parsing is correctly rounded")
struct FloatParsingTests {
    /// Parses `text` as the value of one field; `nil` when the line is rejected.
    private func parseValue(_ text: String, parser: LineProtocolParser) -> Double? {
        let outcome = parser.parseSnapshot("m v=" + text)
        guard case .float(let v)? = outcome.lines.first?.fields.first?.value else { return nil }
        return v
    }

    private func randomDecimal(_ rng: inout SeededGenerator, maxDigits: Int, exponentRange: ClosedRange<Int>?) -> String
    {
        let digitCount = 1 + Int(rng.next() % UInt64(maxDigits))
        var digits = (0..<digitCount).map { _ in Character(String(rng.next() % 10)) }
        if rng.next() % 4 == 0 { digits[0] = "0" }
        var text = rng.next() % 2 == 0 ? "-" : ""
        let point = Int(rng.next() % UInt64(digitCount + 1))
        text +=
            String(digits[..<point]) + (point < digitCount || rng.next() % 2 == 0 ? "." : "")
            + String(digits[point...])
        if text.hasSuffix("-.") || text == "." { text += "0" }
        if let exponentRange {
            let span = UInt64(exponentRange.count)
            let exponent = exponentRange.lowerBound + Int(rng.next() % span)
            text +=
                (rng.next() % 2 == 0 ? "e" : "E") + (exponent >= 0 && rng.next() % 2 == 0 ? "+" : "")
                + String(exponent)
        }
        return text
    }

    private func check(_ text: String, parser: LineProtocolParser) {
        guard let expected = Double(text) else {
            Issue.record("Double(String) rejected \(text)")
            return
        }
        let parsed = parseValue(text, parser: parser)
        if expected.isFinite {
            #expect(parsed?.bitPattern == expected.bitPattern, "\(text): \(String(describing: parsed)) vs \(expected)")
        } else {
            #expect(parsed == nil, "\(text) should overflow")
        }
    }

    @Test("short decimals (fast path) match Double(String) exactly")
    func fastPath() {
        let parser = LineProtocolParser()
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<20_000 {
            check(
                randomDecimal(&rng, maxDigits: 15, exponentRange: rng.next() % 2 == 0 ? nil : -22...22),
                parser: parser
            )
        }
    }

    @Test("short mantissas with exponents 23...40 (scaled fast path) match Double(String) exactly")
    func scaledFastPath() {
        let parser = LineProtocolParser()
        var rng = SeededGenerator(seed: 2_024)
        for _ in 0..<20_000 {
            let digits = String(1 + rng.next() % 999_999_999_999)
            let exponent = 23 + Int(rng.next() % 18)
            check((rng.next() % 2 == 0 ? "-" : "") + digits + "e" + String(exponent), parser: parser)
        }
    }

    @Test("long mantissas and extreme exponents (strtod path) match Double(String) exactly")
    func slowPath() {
        let parser = LineProtocolParser()
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<20_000 {
            check(randomDecimal(&rng, maxDigits: 40, exponentRange: -360...330), parser: parser)
        }
    }

    @Test(
        "hard cases",
        arguments: [
            "9007199254740993", "9007199254740992.5", "0.1", "0.3", "2.2250738585072011e-308",
            "2.2250738585072014e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
            "2.4703282292062328e-324", "1.7976931348623157e308", "1.7976931348623158e308",
            "17976931348623158079372897140530341507993413271003782693617377898044496829276475"
                + "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
                + "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
                + "936475292719074168444365510704342711559699508093042880177904174497791",
            "123456789012345678901234567890", "1e23", "8.41e21", "8.41e37", "5e-324", "1e-320",
            "0.000000000000000000000000000001", "100000000000000000000000", "1234567890123456e10",
            "9007199254740991e22", "7.3177701707893310e+15", "1.00000000000000011102230246251565404236316680908203125",
            "1.00000000000000011102230246251565404236316680908203124", "-0", "0e999999999999", "1e-999999999999",
        ]
    )
    func hardCases(_ text: String) {
        check(text, parser: LineProtocolParser())
    }

    @Test("values that overflow to infinity are rejected with a reason")
    func overflow() {
        let outcome = LineProtocolParser().parseSnapshot("m v=1e309\nm v=-17976931348623159e292\nm v=1e999999999999")
        #expect(
            outcome.errors.map(\.reason) == Array(repeating: "invalid float: out of range for a 64-bit float", count: 3)
        )
    }
}
