import ArgumentParser
import Testing

@testable import VigieCLI

/// `vigie push`'s hand-written parser must read every form it accepts exactly as
/// ArgumentParser does, and leave everything else to ArgumentParser.
@Suite("vigie push fast argument parser")
struct PushFastArgumentsTests {
    static let accepted: [[String]] = [
        ["guichet_attente", "12.5"],
        ["guichet_attente", "12.5", "-t", "service=etat-civil", "-t", "site=centre"],
        ["m", "3i", "--tag", "a=b", "--tag=c=d", "--field", "n", "--time", "1700000000000000000"],
        ["--agent", "local", "m", "1"],
        ["m", "1", "--agent", "ipc:///run/vigie-agent/ingest.sock", "--quiet"],
        ["m", "1", "--agent=tcp://127.0.0.1:7700", "--spool-to-agent", "--timeout", "500ms"],
        ["--file", "a.lp", "--file", "b.lp", "--batch-lines", "100"],
        ["--producer", "cron-etat-civil", "--sequence", "1732000000", "m", "true"],
        ["m", "\"texte\"", "--config", "config/vigie.toml"],
        ["m", "1", "--ingest", "tcp://h:7600", "--push", "tcp://h:7601", "--feed", "tcp://h:7602"],
        ["m", "1", "--control=tcp://h:7603"],
        ["m", "1", "--ingest", "tcp://h:7600", "--server-key", "keys/vigied.key", "--key=keys/nord.key_secret"],
        [],
        ["m"],
        ["m", "1", "--time", "+5"],
    ]

    static let declined: [[String]] = [
        ["--help"], ["-h"], ["m", "1", "--help"],
        ["m", "-3.5"],  // a value that looks like an option
        ["m", "1", "--field", "-x"],
        ["m", "1", "--bogus", "x"],
        ["m", "1", "--quiet", "--quiet"],
        ["m", "1", "--field", "a", "--field", "b"],
        ["m", "1", "--time", "soon"],
        ["m", "1", "--sequence", "-1"],
        ["m", "1", "--batch-lines", "many"],
        ["m", "1", "extra"],
        ["m", "1", "--"],
        ["", "1"],
        ["m", "1", "--tag"],
        ["m", "1", "--quiet=yes"],
        ["m", "1", "-tq=1"],
    ]

    @Test(arguments: accepted)
    func readsTheSameAsArgumentParser(_ arguments: [String]) throws {
        let fast = try #require(PushRequest(fastArguments: arguments))
        let full = try PushCommand.parse(arguments).request
        #expect(fast == full)
    }

    @Test(arguments: declined)
    func leavesEverythingElseToArgumentParser(_ arguments: [String]) {
        #expect(PushRequest(fastArguments: arguments) == nil)
    }

    @Test func keepsRepeatedTagsAndFilesInOrder() throws {
        let request = try #require(
            PushRequest(fastArguments: ["--file", "b", "m", "1", "-t", "z=1", "--file", "a", "--tag", "y=2"])
        )
        #expect(request.tags == ["z=1", "y=2"])
        #expect(request.files == ["b", "a"])
        #expect(request.metric == "m")
        #expect(request.value == "1")
    }
}
