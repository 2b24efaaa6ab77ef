import Foundation
import Testing
import VigieCore
import VigieTesting

/// What every binary answers before any real work: versions, and `vigie push`'s fast
/// path (parsed without the whole command tree) behaving like the full parser.
@Suite("Command-line entry points")
struct CommandLineEntryTests {
    @Test(arguments: ["vigie", "vigied", "vigie-agent"])
    func versionIsTheSameEverywhere(binary: String) throws {
        let run = try BinaryRunner.run(binary, arguments: ["--version"], timeout: 20)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == VigieVersion.string)
    }

    @Test func aPlainPushRunsTheCommandAndExits75WhenNobodyAnswers() throws {
        let run = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "--ingest", "tcp://127.0.0.1:1", "--timeout", "300ms", "guichet_attente", "12"],
            timeout: 20
        )
        #expect(run.status == 75, "stdout: \(run.stdout) stderr: \(run.stderr)")
        #expect(run.stderr.contains("tcp://127.0.0.1:1"))
    }

    @Test func pushHelpAndBadOptionsGoThroughTheFullParser() throws {
        let help = try BinaryRunner.run("vigie", arguments: ["push", "--help"], timeout: 20)
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: vigie push"))
        let bad = try BinaryRunner.run("vigie", arguments: ["push", "--bogus", "x", "1"], timeout: 20)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("Unknown option '--bogus'"))
        #expect(bad.stderr.contains("vigie push"))
    }

    @Test func anInvalidValueIsRefusedWith65() throws {
        let run = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "--ingest", "tcp://127.0.0.1:1", "guichet_attente", "douze"],
            timeout: 20
        )
        #expect(run.status == 65, "stderr: \(run.stderr)")
    }
}
