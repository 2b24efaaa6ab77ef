import Testing
import VigieCore
import VigieTesting

@Suite("Line protocol: batches, numbering, limits, robustness")
struct LineProtocolParserTests {
    // MARK: - Lines and numbering

    @Test("comments, blank and whitespace-only lines are skipped and not counted")
    func commentsAndBlankLines() {
        let text = "# header\n\n   \n\t\n  # indented comment\nm v=1\n#m v=2\n\r\nm v=3\n"
        let outcome = LineProtocolParser().parseSnapshot(text)
        #expect(outcome.errors == [])
        #expect(outcome.lines.map(\.lineNumber) == [6, 9])
        #expect(outcome.summary == ParseSummary(lines: 2, accepted: 2, rejected: 0, nextLineNumber: 10))
    }

    @Test("CRLF line endings")
    func crlf() {
        let outcome = LineProtocolParser().parseSnapshot("m v=1 1\r\nm v=\"x\" 2\r\nm,t=a v=t\r\n")
        #expect(outcome.errors == [])
        #expect(outcome.lines.map(\.timestamp) == [1, 2, nil])
        #expect(outcome.lines.map(\.lineNumber) == [1, 2, 3])
        #expect(outcome.lines[2].tags.map(\.value) == ["a"])
    }

    @Test("a rejected line never stops the rest; line numbers stay right")
    func mixedErrors() {
        let text = """
            m v=1 1
            bad
            # comment

            m,t=1,t=2 v=1
            m v=2 2
            m v=1.5i
            m v="ok" 3
            """
        let outcome = LineProtocolParser().parseSnapshot(text)
        #expect(outcome.lines.map(\.lineNumber) == [1, 6, 8])
        #expect(outcome.lines.map(\.timestamp) == [1, 2, 3])
        #expect(outcome.errors.map(\.line) == [2, 5, 7])
        #expect(outcome.errors.map(\.column) == [4, 7, 5])
        #expect(outcome.summary == ParseSummary(lines: 6, accepted: 3, rejected: 3, nextLineNumber: 9))
    }

    @Test("numbering continues across frames through firstLineNumber")
    func continuedNumbering() {
        let parser = LineProtocolParser()
        let first = parser.parseSnapshot("m v=1\nm v=2\n")
        #expect(first.summary.nextLineNumber == 3)
        let second = parser.parseSnapshot("m v=3\nbad\n", firstLineNumber: first.summary.nextLineNumber)
        #expect(second.lines.map(\.lineNumber) == [3])
        #expect(second.errors.map(\.line) == [4])
        let third = parser.parseSnapshot("m v=4", firstLineNumber: second.summary.nextLineNumber)
        #expect(third.lines.map(\.lineNumber) == [5])
        #expect(third.summary.nextLineNumber == 6)
    }

    @Test("empty payload")
    func emptyPayload() {
        let outcome = LineProtocolParser().parseSnapshot("", firstLineNumber: 7)
        #expect(outcome.summary == ParseSummary(lines: 0, accepted: 0, rejected: 0, nextLineNumber: 7))
    }

    @Test("a newline inside a string continues the line and advances the numbering")
    func multilineString() {
        let text = "m v=\"one\ntwo\r\nthree\",w=1i 5\nm v=2\n"
        let outcome = LineProtocolParser().parseSnapshot(text)
        #expect(outcome.errors == [])
        #expect(outcome.lines.count == 2)
        #expect(outcome.lines[0].fields[0].value == .string("one\ntwo\r\nthree"))
        #expect(outcome.lines[0].fields[1].value == .int(1))
        #expect(outcome.lines[0].timestamp == 5)
        #expect(outcome.lines.map(\.lineNumber) == [1, 4])
        #expect(outcome.summary.nextLineNumber == 5)
    }

    @Test("an error after a newline inside a string points at the right line and column")
    func errorAfterMultilineString() {
        let outcome = LineProtocolParser().parseSnapshot("m v=\"a\nb\",w=x\nm v=1\n")
        #expect(outcome.errors.map(\.line) == [2])
        #expect(outcome.errors.map(\.column) == [6])
        #expect(outcome.lines.map(\.lineNumber) == [3])
    }

    @Test("an unclosed quote with no closing quote anywhere rejects only its own line")
    func unterminatedStringRecovery() {
        let outcome = LineProtocolParser().parseSnapshot("m v=\"abc\nm v=1\nm v=2\n")
        #expect(outcome.errors.map(\.description) == ["1:5: unterminated string: missing closing '\"'"])
        #expect(outcome.lines.map(\.lineNumber) == [2, 3])
    }

    @Test("an unclosed quote takes text up to the next quote, as InfluxDB does")
    func unclosedQuoteSwallowsUpToNextQuote() {
        let outcome = LineProtocolParser().parseSnapshot("m v=\"abc\nm s=\"x\"\nm v=1\n")
        #expect(outcome.errors.map(\.line) == [2])
        #expect(outcome.errors.map(\.column) == [6])
        #expect(outcome.lines.map(\.lineNumber) == [3])
    }

    @Test("a payload of unclosed quotes pairs them across lines, as InfluxDB does, in linear time")
    func manyUnclosedQuotes() {
        let text = String(repeating: "m v=\"x\n", count: 20_000)
        let outcome = LineProtocolParser().parseSnapshot(text)
        #expect(outcome.summary == ParseSummary(lines: 10_000, accepted: 0, rejected: 10_000, nextLineNumber: 20_001))
        #expect(outcome.errors.last?.description == "20000:6: expected ',' or ' ' after field value")
    }

    // MARK: - Values

    @Test("escaped names compare and hash on their unescaped value")
    func escapedViews() throws {
        let text = #"m\ 1,k\,e\=y=v\ a\,l\=ue f\ k="s\"t\\r" 1"#
        var checked = false
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { payload in
            LineProtocolParser().parse(
                payload,
                onLine: { line in
                    #expect(line.measurement.string == "m 1")
                    #expect(line.measurement.equals(Array("m 1".utf8)))
                    #expect(line.measurement.fnv1a() == fnv1a(Array("m 1".utf8)))
                    #expect(line.tags[0].key.string == "k,e=y")
                    #expect(line.tags[0].value.string == "v a,l=ue")
                    #expect(line.tags[0].value.equals(Array("v a,l=ue".utf8)))
                    #expect(!line.tags[0].value.equals(Array("v a,l=u".utf8)))
                    #expect(line.fields[0].key.string == "f k")
                    if case .string(let s) = line.fields[0].value {
                        #expect(s.string == #"s"t\r"#)
                        #expect(s.escapes == .string)
                    } else {
                        Issue.record("expected a string field")
                    }
                    #expect(line.tagValue(forKey: UnsafeBufferPointer(start: line.tags[0].key.base, count: 0)) == nil)
                    checked = true
                },
                onError: { Issue.record("\($0)") }
            )
        }
        #expect(checked)
    }

    @Test("ByteView.equals(ByteView) ignores how each side is escaped")
    func viewEquality() {
        let a: [UInt8] = Array(#"a\ b"#.utf8)
        let b: [UInt8] = Array("a b".utf8)
        let c: [UInt8] = Array(#"a\,b"#.utf8)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeBufferPointer { pc in
                    let va = ByteView(base: pa.baseAddress!, count: pa.count, escapes: .key)
                    let vb = ByteView(base: pb.baseAddress!, count: pb.count, escapes: .none)
                    let vc = ByteView(base: pc.baseAddress!, count: pc.count, escapes: .key)
                    #expect(va.equals(vb))
                    #expect(vb.equals(va))
                    #expect(!va.equals(vc))
                    #expect(!vb.equals(vc))
                    #expect(va.fnv1a() == vb.fnv1a())
                }
            }
        }
    }

    @Test("a repeated field keeps its first position and takes the last value")
    func duplicateFieldsLastWins() {
        let outcome = LineProtocolParser().parseSnapshot("m a=1,b=2,a=\"x\",c=3,b=4i")
        #expect(outcome.lines.first?.fields.map(\.key) == ["a", "b", "c"])
        #expect(outcome.lines.first?.fields.map(\.value) == [.string("x"), .int(4), .float(3)])
    }

    @Test("numericValue: numbers as Double, true = 1, false = 0, strings nil")
    func numericValues() {
        var values: [Double?] = []
        let bytes = Array("m a=1.5,b=-2i,c=3u,d=t,e=F,f=\"s\"".utf8)
        _ = bytes.withUnsafeBytes { payload in
            LineProtocolParser().parse(
                payload,
                onLine: { line in values = line.fields.map(\.value.numericValue) },
                onError: { _ in }
            )
        }
        #expect(values == [1.5, -2, 3, 1, 0, nil])
    }

    // MARK: - UTF-8 and garbage

    @Test(
        "invalid UTF-8 is rejected in every name and in strings",
        arguments: [
            (Array("m".utf8) + [0xFF] + Array(" v=1".utf8), 2, "invalid UTF-8 in measurement"),
            (Array("m,k".utf8) + [0xC3] + Array("=v v=1".utf8), 4, "invalid UTF-8 in tag key"),
            (Array("m,k=".utf8) + [0xE2, 0x82] + Array(" v=1".utf8), 5, "invalid UTF-8 in tag value"),
            (Array("m ".utf8) + [0xED, 0xA0, 0x80] + Array("=1".utf8), 3, "invalid UTF-8 in field key"),
            (Array("m v=\"ok".utf8) + [0xC0, 0xAF] + Array("\"".utf8), 8, "invalid UTF-8 in string value"),
            (Array("m v=\"".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("\"".utf8), 6, "invalid UTF-8 in string value"),
        ] as [([UInt8], Int, String)]
    )
    func invalidUTF8(bytes: [UInt8], column: Int, reason: String) {
        let outcome = LineProtocolParser().parseSnapshot(bytes)
        #expect(outcome.lines.isEmpty)
        #expect(outcome.errors.map(\.column) == [column])
        #expect(outcome.errors.map(\.reason) == [reason])
    }

    @Test("NUL and control bytes in names are accepted and escaped in JSON")
    func controlBytes() {
        let bytes: [UInt8] =
            Array("m".utf8) + [0x00] + Array(",k=".utf8) + [0x1B] + Array(" v=\"".utf8) + [0x00]
            + Array("\"".utf8)
        let outcome = LineProtocolParser().parseSnapshot(bytes)
        #expect(outcome.errors == [])
        #expect(
            outcome.lines.map(\.json) == [
                #"{"measurement":"m\u0000","tags":{"k":"\u001b"},"fields":{"v":{"type":"string","value":"\u0000"}},"#
                    + #""timestamp":null}"#
            ]
        )
    }

    @Test("random garbage never crashes and every line is accounted for")
    func garbage() {
        var rng = SeededGenerator(seed: 0x5EED)
        let alphabet: [UInt8] =
            Array(#"m v=1,\ "#.utf8) + Array(#"=,"\\ ti.-e0u9#"#.utf8) + [0x0A, 0x0D, 0x00, 0xFF, 0xC3]
        let parser = LineProtocolParser(limits: LineProtocolLimits(maxLineLength: 200, maxTags: 3, maxFields: 3))
        for _ in 0..<3_000 {
            let length = Int(rng.next() % 300)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                let r = rng.next()
                bytes.append(r % 4 == 0 ? UInt8(truncatingIfNeeded: r >> 8) : alphabet[Int(r >> 16) % alphabet.count])
            }
            var accepted = 0
            var rejected = 0
            let summary = bytes.withUnsafeBytes { payload in
                parser.parse(
                    payload,
                    onLine: { line in
                        accepted += 1
                        _ = SampleJSON.encode(line)
                        #expect(line.measurement.count > 0)
                        #expect(line.fields.count > 0)
                    },
                    onError: { error in
                        rejected += 1
                        #expect(error.column >= 1)
                        #expect(error.line >= 1)
                    }
                )
            }
            #expect(summary.accepted == accepted)
            #expect(summary.rejected == rejected)
            #expect(summary.lines == accepted + rejected)
            #expect(
                summary.nextLineNumber == 1 + bytes.count(where: { $0 == 0x0A })
                    + (bytes.last.map { $0 == 0x0A ? 0 : 1 } ?? 0)
            )
        }
    }

    // MARK: - Limits

    @Test("line length: the limit itself passes, one byte more is rejected at the first excess column")
    func lineLength() {
        let limits = LineProtocolLimits()
        let head = "m v=\""
        let exact = head + String(repeating: "x", count: limits.maxLineLength - head.utf8.count - 1) + "\""
        #expect(LineProtocolParser().parseSnapshot(exact + "\n").errors == [])
        let long = "m v=1 " + String(repeating: "1", count: 70_000 - 6)
        let outcome = LineProtocolParser().parseSnapshot("m v=1\n" + long + "\nm v=2\n")
        #expect(outcome.errors.map(\.description) == ["2:65537: line too long (70000 bytes > 65536)"])
        #expect(outcome.lines.map(\.lineNumber) == [1, 3])
    }

    @Test("line length counts the whole line across newlines in strings")
    func lineLengthMultiline() {
        let parser = LineProtocolParser(limits: LineProtocolLimits(maxLineLength: 12))
        let outcome = parser.parseSnapshot("m v=\"ab\ncdef\" 1\nm v=\"a\nb\"\n")
        #expect(outcome.errors.map(\.description) == ["2:5: line too long (15 bytes > 12)"])
        #expect(outcome.errors.map(\.limit) == [.lineLength])
        #expect(outcome.lines.map(\.lineNumber) == [3])
    }

    @Test("too many tags reports the count and the first tag over the limit")
    func tooManyTags() {
        let tags = (1...33).map { "t\($0)=v" }.joined(separator: ",")
        let outcome = LineProtocolParser().parseSnapshot("m,\(tags) v=1")
        #expect(outcome.errors.map(\.reason) == ["too many tags (33 > 32)"])
        #expect(outcome.errors.map(\.limit) == [.tags])
        let column = 3 + (1...32).map { "t\($0)=v,".utf8.count }.reduce(0, +)
        #expect(outcome.errors.map(\.column) == [column])
        let ok = (1...32).map { "t\($0)=v" }.joined(separator: ",")
        #expect(LineProtocolParser().parseSnapshot("m,\(ok) v=1").lines.first?.tags.count == 32)
    }

    @Test("too many fields reports the count")
    func tooManyFields() {
        let fields = (1...65).map { "f\($0)=1" }.joined(separator: ",")
        let outcome = LineProtocolParser().parseSnapshot("m \(fields)")
        #expect(outcome.errors.map(\.reason) == ["too many fields (65 > 64)"])
        #expect(outcome.errors.map(\.limit) == [.fields])
        let ok = (1...64).map { "f\($0)=1" }.joined(separator: ",")
        #expect(LineProtocolParser().parseSnapshot("m \(ok)").lines.first?.fields.count == 64)
        let parser = LineProtocolParser(limits: LineProtocolLimits(maxFields: 1))
        #expect(parser.parseSnapshot("m a=1,a=2").lines.count == 1)
        #expect(parser.parseSnapshot("m a=1,b=2").errors.map(\.description) == ["1:7: too many fields (2 > 1)"])
    }

    @Test(
        "name length limit, per element",
        arguments: [
            ("m,k=v f=1", "m", "measurement too long (257 bytes > 256)", 1),
            ("m,k=v f=1", "k", "tag key too long (257 bytes > 256)", 3),
            ("m,k=v f=1", "v", "tag value too long (257 bytes > 256)", 5),
            ("m,k=v f=1", "f", "field key too long (257 bytes > 256)", 7),
        ]
    )
    func nameLength(template: String, name: String, reason: String, column: Int) {
        let long = String(repeating: name, count: 257)
        var parts = template.split(separator: " ").map(String.init)
        if name == "f" {
            parts[1] = long + "=1"
        } else {
            parts[0] = parts[0].replacingOccurrences(of: name, with: long)
        }
        let outcome = LineProtocolParser().parseSnapshot(parts.joined(separator: " "))
        #expect(outcome.errors.map(\.reason) == [reason])
        #expect(outcome.errors.map(\.column) == [column])
        let fits = String(repeating: "x", count: 256)
        #expect(LineProtocolParser().parseSnapshot("\(fits),\(fits)=\(fits) \(fits)=1").errors == [])
    }

    @Test("zero limits reject every point instead of crashing")
    func zeroLimits() {
        let parser = LineProtocolParser(limits: LineProtocolLimits(maxLineLength: 0, maxTags: 0, maxFields: 0))
        #expect(parser.parseSnapshot("m v=1").errors.map(\.reason) == ["line too long (5 bytes > 0)"])
        let noFields = LineProtocolParser(limits: LineProtocolLimits(maxTags: 0, maxFields: 0))
        #expect(noFields.parseSnapshot("m,t=1 v=1").errors.map(\.reason) == ["too many tags (1 > 0)"])
        #expect(noFields.parseSnapshot("m v=1").errors.map(\.reason) == ["too many fields (1 > 0)"])
    }

    @Test("a parser is reusable: scratch storage from one payload never leaks into the next")
    func reuse() {
        let parser = LineProtocolParser()
        _ = parser.parseSnapshot("m,a=1,b=2,c=3 x=1,y=2,z=3")
        let outcome = parser.parseSnapshot("n,d=4 w=5")
        #expect(
            outcome.lines.map(\.json) == [
                #"{"measurement":"n","tags":{"d":"4"},"fields":{"w":{"type":"float","value":5.0}},"timestamp":null}"#
            ]
        )
    }
}
