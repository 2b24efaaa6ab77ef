import Foundation
import Testing

@Suite("vigie check-config on agent files")
struct CheckAgentConfigTests {
    @Test func exampleAgentFileIsOK() throws {
        let result = try VigieBinary.run(["check-config", "--verbose", "config/agent.toml"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(
            result.stdout.hasPrefix(
                "config/agent.toml: OK — agent etat-civil-mairie, 3 collectors, upstream tcp://127.0.0.1:7600\n"
            )
        )
        // The exec command is relative to the file: config/collectors/ in the clone.
        let script = VigieBinary.packageRoot.appendingPathComponent("config/collectors/rdv-etat-civil.sh").path
        #expect(result.stdout.contains("  rdv_etat_civil  exec every 5m: \(script)\n"), "\(result.stdout)")
        #expect(result.stderr.isEmpty)
    }

    @Test func agentErrorsUseTheSameFormat() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("agent.toml").path
        let text = "[agent]\nname = \"a\"\nwindow = 0\n\n[spool]\nfsync = \"allways\"\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let result = try VigieBinary.run(["check-config", path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let expected = """
            \(path):3: agent.window: 0 is out of range
                hint: must be between 1 and 1024 (batches in flight)
            \(path):6: spool.fsync: unknown fsync policy "allways"
                hint: did you mean "always"?
            \(path): 2 errors

            """
        #expect(result.stderr == expected)
    }

    @Test func agentFlagChecksAFileWithoutAgentTable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("agent.toml").path
        try Data("[spool]\ndirectory = \"/tmp/x\"\n".utf8).write(to: URL(fileURLWithPath: path))
        let result = try VigieBinary.run(["check-config", "--agent", path])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("\(path): agent: missing [agent] table\n    hint: add [agent] with name = "))
    }
}
