import Foundation
import Testing
import VigieTesting

/// `systemd/vigied.service` and `systemd/vigie-agent.service`, checked with the real
/// `systemd-analyze` (`make deps` installs systemd).
@Suite("systemd units")
struct SystemdUnitTests {
    static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static func unit(_ name: String) throws -> String {
        try String(
            contentsOfFile: VigieBinary.packageRoot.appendingPathComponent("systemd/\(name)").path,
            encoding: .utf8
        )
    }

    /// Runs systemd-analyze with `arguments`; returns its status and combined output.
    static func runAnalyze(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let analyze = try #require(Self.analyze, "systemd-analyze is missing: run `make deps`")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-out-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outPath = directory.appendingPathComponent("out").path
        let child = try ChildProcess(path: analyze, arguments: arguments, stdoutPath: outPath, stderrPath: outPath)
        let status = child.wait(timeout: 60) ?? -1
        return (status, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "")
    }

    /// A copy of unit `name` in a fresh directory whose ExecStart names the built binaries
    /// (verify checks that they are executable).
    static func copyWithBuiltBinaries(_ name: String, into directory: URL) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var text = try unit(name)
        for binary in ["vigied", "vigie"] {
            text = text.replacingOccurrences(
                of: "ExecStart=/usr/bin/\(binary) ",
                with: "ExecStart=\(BinaryRunner.locate(binary).path) "
            )
        }
        let copy = directory.appendingPathComponent(name)
        try text.write(to: copy, atomically: true, encoding: .utf8)
        return copy.path
    }

    static func lines(_ text: String) -> Set<String> { Set(text.split(separator: "\n").map(String.init)) }

    @Test func daemonUnitHasTheRequiredSettings() throws {
        let lines = Self.lines(try Self.unit("vigied.service"))
        for setting in [
            "Type=notify",
            "ExecStart=/usr/bin/vigied --config /etc/vigie/vigie.toml --state-dir /var/lib/vigie --runtime-dir /run/vigie",
            "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=30s", "Restart=on-failure", "StateDirectory=vigie",
            "RuntimeDirectory=vigie", "RuntimeDirectoryMode=0750", "ConfigurationDirectory=vigie", "User=vigie",
            "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "SystemCallFilter=@system-service",
            "CapabilityBoundingSet=", "LockPersonality=yes",
            // Exec notifiers write under $LOGS_DIRECTORY (config/vigie.toml's journal_alertes).
            "LogsDirectory=vigie", "LogsDirectoryMode=0750",
        ] {
            #expect(lines.contains(setting), "missing \(setting)")
        }
    }

    /// The agent's secret key reaches its dynamic user as a credential, at the path the
    /// example agent.toml names, and the unit starts without it.
    @Test func agentUnitPassesItsSecretKeyAsACredential() throws {
        let lines = Self.lines(try Self.unit("vigie-agent.service"))
        #expect(lines.contains("LoadCredential=agent.key_secret:/etc/vigie/keys/agent.key_secret"))
        // systemd ≥ 250: SetCredential= of the same id is the fallback when the file is missing.
        #expect(lines.contains { $0.hasPrefix("SetCredential=agent.key_secret:") && $0.count > 32 })
        let example = try String(
            contentsOfFile: VigieBinary.packageRoot.appendingPathComponent("config/agent.toml").path,
            encoding: .utf8
        )
        #expect(example.contains("key_file = \"/run/credentials/vigie-agent.service/agent.key_secret\""))
    }

    @Test func agentUnitHasTheRequiredSettings() throws {
        let lines = Self.lines(try Self.unit("vigie-agent.service"))
        for setting in [
            "Type=notify", "WatchdogSec=30s", "ExecStart=/usr/bin/vigie agent --config /etc/vigie/agent.toml",
            "Restart=on-failure",
            "DynamicUser=yes", "StateDirectory=vigie-agent", "RuntimeDirectory=vigie-agent",
            "RuntimeDirectoryMode=0750", "ConfigurationDirectory=vigie", "ProtectSystem=strict", "ProtectHome=yes",
            "PrivateTmp=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
            "SystemCallFilter=@system-service", "CapabilityBoundingSet=", "LockPersonality=yes",
        ] {
            #expect(lines.contains(setting), "missing \(setting)")
        }
    }

    /// An unknown key or a bad value makes the output non-empty. `--man=no`: the man
    /// pages named in Documentation= exist only once installed.
    @Test(arguments: ["vigied.service", "vigie-agent.service"])
    func unitVerifies(name: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = try Self.copyWithBuiltBinaries(name, into: directory)
        let run = try Self.runAnalyze(["verify", "--man=no", copy])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.isEmpty, "\(run.output)")
    }

    @Test func daemonUnitExposureIsAtMostTwo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = try Self.copyWithBuiltBinaries("vigied.service", into: directory)
        let run = try Self.runAnalyze(["security", "--offline=true", "--no-pager", copy])
        let marker = "Overall exposure level for vigied.service: "
        let line = try #require(run.output.split(separator: "\n").first { $0.contains(marker) }, "\(run.output)")
        let score = try #require(Double(line.components(separatedBy: marker)[1].prefix { $0 != " " }), "\(line)")
        #expect(score <= 2.0, "\(line)")
    }
}
