import Testing
import VigieCore
import VigieTesting

/// One line, the defaults it gets and the exact bytes expected.
struct TagDefaultsCase: Sendable, CustomTestStringConvertible {
    let label: String
    let input: String
    let expected: String
    var testDescription: String { label }
}

/// The agent's usual defaults.
let agentDefaults: [(key: String, value: String)] = [
    (key: "site", value: "mairie"), (key: "department", value: "etat-civil"), (key: "host", value: "pc-12"),
]

/// Every sample `text` parses to.
func snapshots(_ text: [UInt8]) -> [ParsedLineSnapshot] {
    var lines: [ParsedLineSnapshot] = []
    _ = text.withUnsafeBytes { bytes in
        LineProtocolParser().parse(bytes, onLine: { lines.append(ParsedLineSnapshot($0)) }, onError: { _ in })
    }
    return lines
}

@Suite("Default tags")
struct LineTagDefaultsTests {
    static let cases: [TagDefaultsCase] = [
        TagDefaultsCase(
            label: "no tags",
            input: "rdv value=3",
            expected: "rdv,site=mairie,department=etat-civil,host=pc-12 value=3"
        ),
        TagDefaultsCase(
            label: "own tags kept first, own value wins",
            input: "rdv,site=annexe,guichet=2 value=3i 1700000000000000000",
            expected: "rdv,site=annexe,guichet=2,department=etat-civil,host=pc-12 value=3i 1700000000000000000"
        ),
        TagDefaultsCase(
            label: "escaped measurement",
            input: #"file\ d'attente\,guichet value=1"#,
            expected: #"file\ d'attente\,guichet,site=mairie,department=etat-civil,host=pc-12 value=1"#
        ),
        TagDefaultsCase(
            label: "tag values with escaped spaces, commas and equals",
            input: #"rdv,lieu=salle\ 1\,\ rdc,k\=v=x\=y value=1"#,
            expected: #"rdv,lieu=salle\ 1\,\ rdc,k\=v=x\=y,site=mairie,department=etat-civil,host=pc-12 value=1"#
        ),
        TagDefaultsCase(
            label: "string field with spaces, commas, equals and quotes",
            input: #"note,host=srv texte="a b, c=d \"e\" f\\",n=2i 42"#,
            expected: #"note,host=srv,site=mairie,department=etat-civil texte="a b, c=d \"e\" f\\",n=2i 42"#
        ),
        TagDefaultsCase(
            label: "every default already there",
            input: "rdv,host=a,department=b,site=c value=1",
            expected: "rdv,host=a,department=b,site=c value=1"
        ),
        TagDefaultsCase(
            label: "indentation and CRLF dropped, inner spaces kept",
            input: "  rdv   value=1   7\r\n",
            expected: "rdv,site=mairie,department=etat-civil,host=pc-12   value=1   7"
        ),
    ]

    @Test(arguments: cases)
    func insertsMissingTags(_ row: TagDefaultsCase) throws {
        let output = try LineTagDefaults(agentDefaults).rewrite(line: Array(row.input.utf8), parser: .init())
        #expect(String(decoding: output, as: UTF8.self) == row.expected)
    }

    @Test(arguments: cases)
    func outputParsesToSameFieldsPlusDefaults(_ row: TagDefaultsCase) throws {
        let output = try LineTagDefaults(agentDefaults).rewrite(line: Array(row.input.utf8), parser: .init())
        let before = try #require(snapshots(Array(row.input.utf8)).first)
        let after = try #require(snapshots(output).first)
        #expect(after.measurement == before.measurement)
        #expect(after.timestamp == before.timestamp)
        let fieldsBefore: [String] = before.fields.map { "\($0.key)=\($0.value)" }
        let fieldsAfter: [String] = after.fields.map { "\($0.key)=\($0.value)" }
        #expect(fieldsAfter == fieldsBefore)
        #expect(after.tags.prefix(before.tags.count).elementsEqual(before.tags, by: { $0 == $1 }))
        var expected = before.tags
        for tag in agentDefaults where !before.tags.contains(where: { $0.key == tag.key }) { expected.append(tag) }
        #expect(after.tags.elementsEqual(expected, by: { $0 == $1 }))
    }

    @Test func escapesDefaultKeysAndValues() throws {
        let defaults = LineTagDefaults([(key: "lieu dit", value: "a,b=c d"), (key: "lieu dit", value: "second")])
        let output = try defaults.rewrite(line: Array("m v=1".utf8), parser: .init())
        #expect(String(decoding: output, as: UTF8.self) == #"m,lieu\ dit=a\,b\=c\ d v=1"#)
        let parsed = try #require(snapshots(output).first)
        #expect(parsed.tags.map(\.key) == ["lieu dit"])
        #expect(parsed.tags.map(\.value) == ["a,b=c d"])
    }

    @Test func rejectsWhatIsNotOneLine() {
        let defaults = LineTagDefaults(agentDefaults)
        #expect(throws: LineProtocolError.self) { try defaults.rewrite(line: Array("m".utf8), parser: .init()) }
        #expect(throws: LineProtocolError.self) { try defaults.rewrite(line: Array("# note".utf8), parser: .init()) }
        #expect(throws: LineProtocolError.self) {
            try defaults.rewrite(line: Array("a v=1\nb v=2".utf8), parser: .init())
        }
    }

    @Test func batchKeepsAcceptedLinesAndReportsRejectedOnes() throws {
        let batch = """
            # relevé du matin
            rdv,guichet=1 value=3 1700000000000000000
            rdv guichet=
            note texte="deux
            lignes, avec = et \\" guillemet" 1700000000000000001

            rdv,site=annexe value=4i
            """
        var output: [UInt8] = Array("déjà\n".utf8)
        let parser = LineProtocolParser()
        let result = Array(batch.utf8).withUnsafeBytes { bytes in
            LineTagDefaults.rewrite(batch: bytes, defaults: agentDefaults, into: &output, parser: parser)
        }
        #expect(result.accepted == 3)
        #expect(result.rejected.map(\.line) == [3])
        let expected = """
            déjà
            rdv,guichet=1,site=mairie,department=etat-civil,host=pc-12 value=3 1700000000000000000
            note,site=mairie,department=etat-civil,host=pc-12 texte="deux
            lignes, avec = et \\" guillemet" 1700000000000000001
            rdv,site=annexe,department=etat-civil,host=pc-12 value=4i

            """
        #expect(String(decoding: output, as: UTF8.self) == expected)
        let parsed = snapshots(Array(output.dropFirst("déjà\n".utf8.count)))
        #expect(parsed.count == 3)
        #expect(parsed[1].fields.first?.value == .string("deux\nlignes, avec = et \" guillemet"))
        #expect(parsed[2].tags.first?.value == "annexe")
    }

    @Test func emptyDefaultsCopyLinesAsTheyAre() {
        var output: [UInt8] = []
        let result = Array("a,b=c v=1i 5\nb w=\"x y\"".utf8).withUnsafeBytes { bytes in
            LineTagDefaults([]).rewrite(batch: bytes, into: &output, parser: LineProtocolParser())
        }
        #expect(result.accepted == 2)
        #expect(String(decoding: output, as: UTF8.self) == "a,b=c v=1i 5\nb w=\"x y\"\n")
    }

    /// The agent's use: defaults inserted after the line's own tags, and its receive
    /// time appended to a line without a timestamp.
    @Test func tagDefaultsAreInsertedAfterTheTagsAndTheReceiveTimeAppended() {
        let defaults = LineTagDefaults([("site", "nord"), ("department", "état civil")])
        func rewrite(_ line: String) -> String {
            var output: [UInt8] = []
            Array(line.utf8).withUnsafeBytes { bytes in
                guard let raw = bytes.baseAddress else { return }
                let limit = UnsafePointer(raw.assumingMemoryBound(to: UInt8.self)) + bytes.count
                LineProtocolParser().parse(bytes) { parsed in
                    defaults.append(
                        parsed,
                        end: LineTagDefaults.lineEnd(of: parsed, limit: limit),
                        to: &output,
                        stamp: 42
                    )
                } onError: { _ in
                }
            }
            return String(decoding: output, as: UTF8.self)
        }
        #expect(rewrite("m value=1") == #"m,site=nord,department=état\ civil value=1 42"#)
        #expect(rewrite("m,site=sud value=1 7") == #"m,site=sud,department=état\ civil value=1 7"#)
        #expect(rewrite(#"my\ m,a=b\ c f="x y" 7"#) == #"my\ m,a=b\ c,site=nord,department=état\ civil f="x y" 7"#)
    }
}
