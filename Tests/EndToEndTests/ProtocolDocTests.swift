import Foundation
import Testing
import VigieTesting

/// Every `python` block of docs/protocol.md, run as written (endpoints from the
/// `VIGIE_*` variables) against a real `vigied`: the one-shot acknowledged push, the
/// feed subscriber with its snapshot, and the control request.
@Suite("docs/protocol.md Python examples")
struct ProtocolDocTests {
    /// A KPI over the metric the push example sends.
    static let kpis = """
        [[kpi]]
        name = "etat_civil.attente_moyenne"
        title = "Attente moyenne"
        metric = "guichet_attente"
        where = { service = "etat-civil" }
        group_by = ["site"]
        aggregate = "mean"
        window = "today"
        unit = "min"
        target = 15
        """

    /// What each block of the page is, recognized by what it does.
    enum Example: Hashable {
        case push, watch, control

        init?(_ script: String) {
            if script.contains("b\"PUSH\"") {
                self = .push
            } else if script.contains("zmq.SUB") {
                self = .watch
            } else if script.contains("\"op\": \"stats\"") {
                self = .control
            } else {
                return nil
            }
        }
    }

    /// The blocks between a ```` ```python ```` line and the next ```` ``` ```` line, in order.
    static func blocks() throws -> [String] {
        let page = try String(
            contentsOf: VigieBinary.packageRoot.appendingPathComponent("docs/protocol.md"),
            encoding: .utf8
        )
        var found: [String] = []
        var rest = page[...]
        while let open = rest.range(of: "```python\n") {
            let close = try #require(rest[open.upperBound...].range(of: "\n```\n"), "unterminated python block")
            found.append(String(rest[open.upperBound..<close.lowerBound]) + "\n")
            rest = rest[close.upperBound...]
        }
        return found
    }

    /// A python3 run of one script, its output in files of `directory`.
    final class Run {
        let child: ChildProcess
        let stdoutPath: String
        let stderrPath: String

        init(_ python: String, _ script: String, name: String, in directory: URL, environment: [String: String]) throws
        {
            let path = directory.appendingPathComponent("\(name).py").path
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            stdoutPath = directory.appendingPathComponent("\(name).out").path
            stderrPath = directory.appendingPathComponent("\(name).err").path
            child = try ChildProcess(
                path: python,
                arguments: [path],
                stdoutPath: stdoutPath,
                stderrPath: stderrPath,
                environment: environment.merging(["PYTHONUNBUFFERED": "1"]) { given, _ in given }
            )
        }

        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        /// Waits for the exit (killing the script after `timeout` seconds); its status.
        func finish(timeout: Double = 30) -> Int32? {
            if let status = child.wait(timeout: timeout) { return status }
            child.signal(SIGKILL)
            _ = child.wait(timeout: 5)
            return nil
        }

        /// Waits until standard output contains `text`; false after `timeout` seconds.
        func waitForOutput(_ text: String, timeout: Double = 15) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if stdout.contains(text) { return true }
                if !child.isRunning { return stdout.contains(text) }
                usleep(20_000)
            }
            return false
        }
    }

    @Test(.enabled(if: ReadmePythonTests.python != nil, "no python3 with pyzmq (apt-get install python3-zmq)"))
    func examplesRunAgainstARealDaemon() throws {
        let python = try #require(ReadmePythonTests.python)
        var examples: [Example: String] = [:]
        for block in try Self.blocks() {
            guard let example = Example(block) else {
                Issue.record("a python block of docs/protocol.md that this test does not run:\n\(block)")
                continue
            }
            #expect(examples[example] == nil, "two \(example) blocks in docs/protocol.md")
            examples[example] = block
        }
        let push = try #require(examples[.push], "no acknowledged push example")
        let watch = try #require(examples[.watch], "no feed subscriber example")
        let control = try #require(examples[.control], "no control example")

        let daemon = try DaemonProcess(kpis: Self.kpis)
        let environment = [
            "VIGIE_INGEST": try #require(daemon.endpoints["ingest"]),
            "VIGIE_FEED": try #require(daemon.endpoints["feed"]),
            "VIGIE_CONTROL": try #require(daemon.endpoints["control"]),
        ]
        let directory = daemon.directory

        // The one-shot push: HELLO says 0, the batch goes as sequence 1.
        let first = try Run(python, push, name: "push1", in: directory, environment: environment)
        #expect(first.finish() == 0, "\(first.stdout)\(first.stderr)\n\(daemon.log)")
        #expect(first.stdout.contains("sequence 1: accepted 2, rejected 0"), "\(first.stdout)\(first.stderr)")

        // The subscriber's snapshot holds the first batch; a second one reaches it on the feed.
        var watchEnvironment = environment
        watchEnvironment["VIGIE_WATCH_SECONDS"] = "8"
        let watcher = try Run(python, watch, name: "watch", in: directory, environment: watchEnvironment)
        #expect(watcher.waitForOutput("snapshot seq="), "\(watcher.stdout)\(watcher.stderr)")
        #expect(
            watcher.stdout.contains("snapshot etat_civil.attente_moyenne{site=centre} = 12.5 min (ok, 1 samples)"),
            "\(watcher.stdout)"
        )
        let second = try Run(python, push, name: "push2", in: directory, environment: environment)
        #expect(second.finish() == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("sequence 2: accepted 2, rejected 0"), "\(second.stdout)\(second.stderr)")
        #expect(watcher.finish() == 0, "\(watcher.stdout)\(watcher.stderr)")
        #expect(
            watcher.stdout.contains("update etat_civil.attente_moyenne{site=nord} = 8 min (ok, 2 samples)"),
            "\(watcher.stdout)\(watcher.stderr)"
        )
        // Only what is newer than the snapshot is applied: the second batch's values.
        let updates = watcher.stdout.split(separator: "\n").filter { $0.hasPrefix("update ") }
        #expect(updates.count >= 2 && updates.allSatisfy { $0.hasSuffix("(ok, 2 samples)") }, "\(watcher.stdout)")

        // The control request sees both batches and the error shape.
        let stats = try Run(python, control, name: "control", in: directory, environment: environment)
        #expect(stats.finish() == 0, "\(stats.stdout)\(stats.stderr)")
        for line in [
            "samples_accepted 4", "samples_rejected 0", "batches_acked 2", "batches_duplicate 0", "frames_invalid 0",
            "kpis etat_civil.attente_moyenne", "error unknown op \"no-such-op\": expected one of snapshot,",
        ] {
            #expect(stats.stdout.contains(line), "missing \(line) in:\n\(stats.stdout)\(stats.stderr)")
        }

        // Unreachable: the push gives up within its deadline, exit 75 and a message.
        let quick = push.replacingOccurrences(of: "TIMEOUT_S = 5.0", with: "TIMEOUT_S = 0.5")
        #expect(quick != push, "the push example no longer sets TIMEOUT_S = 5.0")
        var nowhere = environment
        nowhere["VIGIE_INGEST"] = "tcp://127.0.0.1:9"
        let down = try Run(python, quick, name: "push-down", in: directory, environment: nowhere)
        #expect(down.finish(timeout: 10) == 75, "\(down.stdout)\(down.stderr)")
        #expect(down.stderr.contains("vigied unreachable at tcp://127.0.0.1:9: nothing sent"), "\(down.stderr)")
    }
}
