import Foundation
import Testing
import VigieTesting

/// Runs the built `vigie parse` the way a script author would.
@Suite("vigie parse (built binary)")
struct ParseCommandTests {
    private func run(_ arguments: [String], stdin: String?) throws -> BinaryRunResult {
        try BinaryRunner.run("vigie", arguments: arguments, stdin: stdin.map { Data($0.utf8) }, timeout: 60)
    }

    @Test("--json prints one object per sample and exits 0 when every line is accepted")
    func jsonAllAccepted() throws {
        let input = """
            # agents write this
            guichet_attente,service=etat-civil,site=centre value=12.5 1700000000000000000

            guichet_attente,service=urbanisme count=3i,ok=t,note="a \\"b\\""
            """
        let result = try run(["parse", "--json"], stdin: input)
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(
            result.stdout
                == #"{"measurement":"guichet_attente","tags":{"service":"etat-civil","site":"centre"},"#
                + #""fields":{"value":{"type":"float","value":12.5}},"timestamp":1700000000000000000}"# + "\n"
                + #"{"measurement":"guichet_attente","tags":{"service":"urbanisme"},"fields":{"#
                + #""count":{"type":"int","value":3},"ok":{"type":"bool","value":true},"#
                + #""note":{"type":"string","value":"a \"b\""}},"timestamp":null}"# + "\n"
        )
    }

    @Test("rejected lines go to stderr as line:column: reason, the rest is kept, exit 1")
    func rejectedLines() throws {
        let input = "m v=1 1\nm,t=1 v=1.5i\nm v=2 2\nm v=1 9223372036854775807\n"
        let result = try run(["parse", "--json", "-"], stdin: input)
        #expect(result.status == 1)
        #expect(
            result.stderr == """
                2:9: invalid integer: expected digits before 'i', with an optional '-'
                4:7: invalid timestamp: out of range (-9223372036854775806...9223372036854775806 ns)

                """
        )
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix(#"{"measurement":"m""#) })
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["measurement"] as? String == "m")
        }
    }

    @Test("readable output without --json, from a file")
    func readableFromFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-parse-\(UUID().uuidString).lp")
        try Data("m,site=centre value=12.5,ok=f 42\nm n=-3i\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try run(["parse", url.path], stdin: nil)
        #expect(result.status == 0)
        #expect(
            result.stdout == """
                1: m site=centre | value=12.5 (float), ok=false (bool) | @42
                2: m | n=-3 (int) | @receive-time
                2 lines: 2 accepted, 0 rejected

                """
        )
        #expect(result.stderr == "")
    }

    @Test("an unreadable file is named on stderr and exits 66")
    func unreadableFile() throws {
        let result = try run(["parse", "/nonexistent/vigie-input.lp"], stdin: nil)
        #expect(result.status == 66)
        #expect(result.stderr == "vigie parse: cannot read /nonexistent/vigie-input.lp: No such file or directory\n")
        #expect(result.stdout == "")
    }

    @Test("JSON output stays valid for control characters and many lines")
    func largeInput() throws {
        var input = ""
        for i in 0..<5_000 {
            input += "m,host=h\(i % 7) v=\(i)i,s=\"tab\\there\t\u{01}\" \(i)\n"
        }
        let result = try run(["parse", "--json"], stdin: input)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 5_000)
        let last = try JSONSerialization.jsonObject(with: Data(lines[4_999].utf8)) as? [String: Any]
        #expect(last?["timestamp"] as? Int == 4_999)
        let fields = last?["fields"] as? [String: [String: Any]]
        #expect(fields?["s"]?["value"] as? String == "tab\\there\t\u{01}")
    }
}
