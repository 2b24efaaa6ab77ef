import Foundation
import Testing
import VigieTesting

/// `systemd/vigie-agent.service`, checked by `systemd-analyze verify` when the machine has it.
@Suite("systemd units")
struct SystemdUnitTests {
    static let unitPath = VigieBinary.packageRoot.appendingPathComponent("systemd/vigie-agent.service").path
    static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test func agentUnitHasTheRequiredSettings() throws {
        let unit = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        for setting in [
            "Type=simple", "ExecStart=/usr/bin/vigie agent --config /etc/vigie/agent.toml", "Restart=on-failure",
            "DynamicUser=yes", "StateDirectory=vigie-agent", "RuntimeDirectory=vigie-agent",
            "RuntimeDirectoryMode=0750", "ConfigurationDirectory=vigie", "ProtectSystem=strict", "ProtectHome=yes",
            "PrivateTmp=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
            "SystemCallFilter=@system-service", "CapabilityBoundingSet=", "LockPersonality=yes",
        ] {
            #expect(lines.contains(setting), "missing \(setting)")
        }
    }

    /// Verifies a copy whose ExecStart names the built binary (verify checks that it is
    /// executable); an unknown key or a bad value makes the output non-empty.
    @Test(.enabled(if: analyze != nil, "systemd-analyze is not installed"))
    func agentUnitVerifies() throws {
        let analyze = try #require(Self.analyze)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let unit = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
        let vigie = BinaryRunner.locate("vigie").path
        let copy = directory.appendingPathComponent("vigie-agent.service")
        try unit.replacingOccurrences(of: "ExecStart=/usr/bin/vigie ", with: "ExecStart=\(vigie) ")
            .write(to: copy, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyze)
        process.arguments = ["verify", copy.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.isEmpty, "\(text)")
    }
}
