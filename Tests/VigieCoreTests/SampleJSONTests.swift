import Testing
import VigieCore
import VigieTesting

@Suite("SampleJSON and JSONText are byte-exact")
struct SampleJSONTests {
    private func encode(_ text: String) -> [String] {
        LineProtocolParser().parseSnapshot(text).lines.map(\.json)
    }

    @Test("the DESIGN.md example")
    func designExample() {
        #expect(
            encode("m,k=v value=12.5 1700000000000000000") == [
                #"{"measurement":"m","tags":{"k":"v"},"fields":{"value":{"type":"float","value":12.5}},"#
                    + #""timestamp":1700000000000000000}"#
            ]
        )
    }

    @Test("every field type, in wire order, and a null timestamp")
    func everyType() {
        let line = #"s,b=2,a=1 f=-1.25,i=-9223372036854775808i,u=18446744073709551615u,t=T,x="q\"\\",n=12"#
        #expect(
            encode(line) == [
                #"{"measurement":"s","tags":{"b":"2","a":"1"},"fields":{"f":{"type":"float","value":-1.25},"#
                    + #""i":{"type":"int","value":-9223372036854775808},"#
                    + #""u":{"type":"uint","value":18446744073709551615},"t":{"type":"bool","value":true},"#
                    + #""x":{"type":"string","value":"q\"\\"},"n":{"type":"float","value":12.0}},"timestamp":null}"#
            ]
        )
    }

    @Test(
        "floats print in Swift's shortest round-trip form, always valid JSON numbers",
        arguments: [
            ("1e20", "1e+20"), ("1e-7", "1e-07"), ("12", "12.0"), ("-0.0", "-0.0"), ("0.1", "0.1"),
            ("123456789012345678", "1.2345678901234568e+17"), ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"), ("1e15", "1000000000000000.0"),
            ("1e16", "1e+16"),
        ]
    )
    func floats(input: String, printed: String) {
        #expect(
            encode("m v=\(input)") == [
                #"{"measurement":"m","tags":{},"fields":{"v":{"type":"float","value":\#(printed)}},"timestamp":null}"#
            ]
        )
    }

    @Test("a hand-built non-finite float is written null")
    func nonFinite() {
        let name: [UInt8] = Array("m".utf8)
        let json = name.withUnsafeBufferPointer { buffer -> String in
            let view = ByteView(base: buffer.baseAddress!, count: 1, escapes: .none)
            let fields = [
                ParsedField(key: view, value: .float(.nan)), ParsedField(key: view, value: .float(-.infinity)),
            ]
            return fields.withUnsafeBufferPointer { fieldBuffer in
                SampleJSON.encode(
                    ParsedLine(
                        lineNumber: 1,
                        measurement: view,
                        tags: UnsafeBufferPointer(start: nil, count: 0),
                        fields: fieldBuffer,
                        timestamp: -1
                    )
                )
            }
        }
        #expect(
            json == #"{"measurement":"m","tags":{},"fields":{"m":{"type":"float","value":null},"#
                + #""m":{"type":"float","value":null}},"timestamp":-1}"#
        )
    }

    @Test(
        "JSONText escapes per RFC 8259",
        arguments: [
            ("plain", "plain"), ("q\"b\\s/", #"q\"b\\s/"#), ("\u{08}\u{0C}\n\r\t", #"\b\f\n\r\t"#),
            ("\u{00}\u{01}\u{1F}\u{7F}", "\\u0000\\u0001\\u001f\u{7F}"), ("é漢😀", "é漢😀"),
            ("\u{2028}", "\u{2028}"),
        ]
    )
    func escaping(input: String, escaped: String) {
        var bytes: [UInt8] = []
        JSONText.appendEscaped(input, into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == escaped)
        var text = "<"
        JSONText.appendEscaped(input, into: &text)
        #expect(text == "<" + escaped)
        #expect(JSONText.quoted(input) == "\"" + escaped + "\"")
    }

    @Test(
        "invalid UTF-8 bytes become U+FFFD exactly as String(decoding:) does",
        arguments: [
            [0xFF], [0xC3], [0xC3, 0x41], [0xE2, 0x82], [0xE2, 0x82, 0x41], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98],
            [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0x80, 0x80], [0x61, 0xF0, 0x9F, 0x98, 0x80, 0xF8],
        ] as [[UInt8]]
    )
    func replacement(bytes: [UInt8]) {
        var out: [UInt8] = []
        bytes.withUnsafeBufferPointer { JSONText.appendEscaped($0, into: &out) }
        #expect(out == Array(String(decoding: bytes, as: UTF8.self).utf8))
    }

    @Test("random bytes: output is valid UTF-8 and matches String(decoding:) outside escapes")
    func randomReplacement() {
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<5_000 {
            let bytes = (0..<Int(rng.next() % 24)).map { _ -> UInt8 in
                let b = UInt8(truncatingIfNeeded: rng.next())
                return b < 0x20 || b == 0x22 || b == 0x5C ? b | 0x80 : b
            }
            var out: [UInt8] = []
            bytes.withUnsafeBufferPointer { JSONText.appendEscaped($0, into: &out) }
            #expect(out == Array(String(decoding: bytes, as: UTF8.self).utf8))
        }
    }

    @Test("escaped views are unescaped before JSON escaping")
    func escapedView() {
        #expect(
            encode(#"a\ b,c\=d=e\,f g\ h="i\"j" 1"#) == [
                #"{"measurement":"a b","tags":{"c=d":"e,f"},"fields":{"g h":{"type":"string","value":"i\"j"}},"#
                    + #""timestamp":1}"#
            ]
        )
    }
}
