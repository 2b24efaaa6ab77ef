import Foundation
import Testing
import VigieTesting
import ZeroMQ

/// Who may change what through the control socket (issue 15, defect 7): operator ops
/// only through the ipc socket in a 0750 runtime directory by default, loopback TCP
/// read-only unless the daemon's configuration says otherwise.
@Suite("Control access (real vigied and vigie)")
struct ControlAccessTests {
    static let kpis = """
        [[kpi]]
        name = "acces.count"
        metric = "acces"
        aggregate = "count"
        window = "1h"

        [[alert]]
        name = "trop"
        kpi = "acces.count"
        above = 0
        for = "0s"
        """

    static let silence = ["silence", "rule=trop", "--for", "1h", "--by", "marie", "--comment", "travaux"]

    @Test func loopbackTCPReadsButOnlyTheOperatorSocketChanges() throws {
        let daemon = try DaemonProcess(kpis: Self.kpis)
        let controls = daemon.endpointLists["control"] ?? []
        #expect(controls.count == 2, "\(controls)")
        let operatorSocket = try #require(controls.first)
        let tcp = try #require(controls.last)
        #expect(operatorSocket == "ipc://\(daemon.directory.path)/run/control.sock")
        #expect(tcp.hasPrefix("tcp://127.0.0.1:"))

        // The runtime directory was created 0750; the socket is the group's too.
        let attributes = try FileManager.default.attributesOfItem(atPath: daemon.directory.path + "/run")
        #expect((attributes[.posixPermissions] as? Int) == 0o750)
        let socket = try FileManager.default.attributesOfItem(atPath: daemon.directory.path + "/run/control.sock")
        #expect((socket[.posixPermissions] as? Int) == 0o770)

        // Reading over TCP works.
        let status = try BinaryRunner.run("vigie", arguments: ["status", "--json", "--control", tcp])
        #expect(status.status == 0, "\(status.stderr)")
        // Changing over TCP is refused, with the way to the operator socket.
        for arguments in [Self.silence, ["reload"], ["ack", "trop", "--by", "marie", "--comment", "vu"]] {
            let refused = try BinaryRunner.run("vigie", arguments: arguments + ["--control", tcp])
            #expect(refused.status == 76, "\(arguments): \(refused.stdout)")
            #expect(!refused.stderr.contains("configuration refused"), "\(refused.stderr)")
            #expect(refused.stderr.contains("needs operator access"), "\(refused.stderr)")
            #expect(refused.stderr.contains("read-only"), "\(refused.stderr)")
            #expect(refused.stderr.contains(operatorSocket), "\(refused.stderr)")
        }
        // Through the operator socket it goes through.
        let accepted = try BinaryRunner.run("vigie", arguments: Self.silence + ["--control", operatorSocket])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let alerts = try HostileControlTests.control(operatorSocket, #"{"op":"alerts"}"#)
        #expect((alerts["silences"] as? [Any])?.count == 1, "\(alerts)")
        #expect(daemon.stop().status == 0)
    }

    @Test func theCommandLineFindsTheOperatorSocketFromTheConfiguration() throws {
        let daemon = try DaemonProcess(kpis: Self.kpis)
        // --config names the runtime directory; vigie picks its socket before the TCP endpoint.
        let accepted = try BinaryRunner.run("vigie", arguments: Self.silence + ["--config", daemon.configPath])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        // Unless told otherwise: an explicit --control wins.
        let tcp = try #require(daemon.endpointLists["control"]?.last)
        let refused = try BinaryRunner.run(
            "vigie",
            arguments: Self.silence + ["--config", daemon.configPath, "--control", tcp]
        )
        #expect(refused.status != 0)
        #expect(daemon.stop().status == 0)
    }

    @Test func tcpControlOperatorAllowsChangesOverTCP() throws {
        let daemon = try DaemonProcess(kpis: Self.kpis + "\n[security]\ntcp_control = \"operator\"\n")
        let tcp = try #require(daemon.endpointLists["control"]?.last)
        let accepted = try BinaryRunner.run("vigie", arguments: Self.silence + ["--control", tcp])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(daemon.stop().status == 0)
    }

    /// A runtime directory others could enter, a symbolic link, or a file: vigied refuses
    /// to start, naming the directory and the fix, rather than expose the operator socket.
    @Test(arguments: ["world-open", "group-writable", "symlink", "file"])
    func anUnsafeRuntimeDirectoryIsRefused(kind: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-rt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let runtime = directory.path + "/run"
        switch kind {
        case "world-open":
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false)
            #expect(chmod(runtime, 0o777) == 0)
        case "group-writable":
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false)
            #expect(chmod(runtime, 0o770) == 0)
        case "symlink":
            try FileManager.default.createDirectory(
                atPath: directory.path + "/elsewhere",
                withIntermediateDirectories: false
            )
            try FileManager.default.createSymbolicLink(
                atPath: runtime,
                withDestinationPath: directory.path + "/elsewhere"
            )
        default:
            #expect(FileManager.default.createFile(atPath: runtime, contents: Data()))
        }
        let config = directory.path + "/vigie.toml"
        try """
        [daemon]
        state_dir = "\(directory.path)/state"
        runtime_dir = "\(runtime)"
        [endpoints]
        ingest = ["tcp://127.0.0.1:*"]
        push = ["tcp://127.0.0.1:*"]
        feed = ["tcp://127.0.0.1:*"]
        control = ["tcp://127.0.0.1:*"]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try BinaryRunner.run("vigied", arguments: ["--config", config], timeout: 20)
        #expect(run.status != 0 && !run.terminatedBySignal, "\(run.stdout)")
        #expect(run.stderr.contains("runtime_dir \(runtime)"), "\(run.stderr)")
        let expected = [
            "world-open": "chmod 0750", "group-writable": "mode 770", "symlink": "symbolic link",
            "file": "not a directory",
        ]
        #expect(run.stderr.contains(expected[kind] ?? "?"), "\(run.stderr)")
        #expect(!run.stdout.contains("vigied ready"))
    }

    @Test func checkConfigWarnsOfPlainEndpointsOnTheNetwork() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-warn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.path + "/vigie.toml"
        try """
        [endpoints]
        ingest = ["tcp://0.0.0.0:7600"]
        control = ["tcp://127.0.0.1:7603"]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try BinaryRunner.run("vigie", arguments: ["check-config", config])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stderr.contains(
                "warning: ingest endpoint tcp://0.0.0.0:7600 is reachable from the network without CURVE"
            ),
            "\(run.stderr)"
        )
        #expect(!run.stderr.contains("7603"), "loopback is not warned about: \(run.stderr)")
    }
}
