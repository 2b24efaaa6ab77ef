import Foundation
import Testing
import VigieTesting

/// The pyzmq client of README's "Push from your scripts", run against a real `vigied`.
@Suite("README Python example")
struct ReadmePythonTests {
    /// A Python 3 that has pyzmq (`apt-get install python3-zmq`), if any.
    static let python: String? = ["/usr/bin/python3", "/bin/python3"].first { path in
        guard FileManager.default.isExecutableFile(atPath: path) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-c", "import zmq"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// The block after `## Push from your scripts` that starts with ```` ```python ````.
    static func example() throws -> String {
        let readme = try String(
            contentsOf: VigieBinary.packageRoot.appendingPathComponent("README.md"),
            encoding: .utf8
        )
        let section = try #require(readme.range(of: "## Push from your scripts"))
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```python\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```\n"))
        return String(rest[open.upperBound..<close.lowerBound])
    }

    /// Runs `script` with `VIGIE_INGEST=endpoint`; returns the exit status and output.
    static func run(_ python: String, _ script: String, endpoint: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        var environment = ProcessInfo.processInfo.environment
        environment["VIGIE_INGEST"] = endpoint
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test(.enabled(if: python != nil, "no python3 with pyzmq (apt-get install python3-zmq)"))
    func pushesExactlyOnceAndGivesUpWhenUnreachable() throws {
        let python = try #require(Self.python)
        let daemon = try DaemonProcess(kpis: e2eKPIs)
        let ingest = try #require(daemon.endpoints["ingest"])
        let state = daemon.directory.appendingPathComponent("sequence").path
        let script = try Self.example().replacingOccurrences(of: "/var/lib/rdv-vigie/sequence", with: state)
        #expect(script.contains(state))

        let (status, output) = try Self.run(python, script, endpoint: ingest)
        #expect(status == 0, "\(output)")
        let sequence = try String(contentsOfFile: state, encoding: .utf8)
        #expect(UInt64(sequence) != nil)

        // The same batch resent with the same sequence number is a duplicate.
        let resend = script.replacingOccurrences(
            of: "if __name__ == \"__main__\":",
            with: "next_sequence = lambda: \(sequence)\nif __name__ == \"__main__\":\n    print(push([\"m value=1\"]))"
        )
        let (again, text) = try Self.run(python, resend, endpoint: ingest)
        #expect(again == 0, "\(text)")
        #expect(text.contains("'duplicate': True"), "\(text)")

        let quick = script.replacingOccurrences(of: "attempts=5", with: "attempts=1")
            .replacingOccurrences(of: "timeout_s=5.0", with: "timeout_s=0.3")
        let (down, message) = try Self.run(python, quick, endpoint: "tcp://127.0.0.1:9")
        #expect(down == 1)
        #expect(message.contains("no acknowledgment from tcp://127.0.0.1:9 after 1 attempts"))
    }
}
