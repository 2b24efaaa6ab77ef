import Foundation
import Testing
import VigieTesting

/// `vigie push --agent` and `--spool-to-agent`, through the real binaries. A second
/// `vigied` plays the agent: it speaks the same acknowledged `VGI1` protocol.
@Suite("vigie push to the local agent")
struct PushToAgentTests {
    /// A daemon endpoint nothing listens on.
    static let deadDaemon = ["--ingest", "tcp://127.0.0.1:9"]

    /// Whether `endpoint` already applied `producer`'s batch `sequence` (a resend is a duplicate).
    static func applied(at endpoint: String, producer: String, sequence: String) throws -> Bool {
        let resend = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "wait", "1", "--producer", producer, "--sequence", sequence, "--ingest", endpoint]
        )
        return resend.status == 0 && resend.stdout.contains("already applied: duplicate")
    }

    @Test func agentOptionSendsToTheAgentInsteadOfTheDaemon() throws {
        let agent = try DaemonProcess(kpis: e2eKPIs)
        let agentIngest = try #require(agent.endpoints["ingest"])
        let push = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "wait", "1", "--producer", "script-a", "--sequence", "7", "--agent", agentIngest]
                + Self.deadDaemon
        )
        #expect(push.status == 0, "\(push.stderr)")
        #expect(push.stdout == "accepted 1, rejected 0\n")
        #expect(try Self.applied(at: agentIngest, producer: "script-a", sequence: "7"))
    }

    @Test func spoolToAgentHandsOverWhenTheDaemonIsDown() throws {
        let agent = try DaemonProcess(kpis: e2eKPIs)
        let agentIngest = try #require(agent.endpoints["ingest"])
        let push = try BinaryRunner.run(
            "vigie",
            arguments: [
                "push", "--producer", "cron-b", "--sequence", "100", "--spool-to-agent", "--agent", agentIngest,
                "--timeout", "300ms",
            ] + Self.deadDaemon,
            stdin: Data("wait value=1\nwait value=oops\n".utf8)
        )
        #expect(push.status == 1, "\(push.stderr)")
        #expect(push.stdout == "accepted 1, rejected 1\n")
        #expect(push.stderr.contains("vigied unreachable at tcp://127.0.0.1:9"))
        #expect(push.stderr.contains("handed 1 batch(es) to the agent at \(agentIngest)"))
        #expect(push.stderr.contains("2:"))
        #expect(try Self.applied(at: agentIngest, producer: "cron-b", sequence: "100"))
    }

    @Test func spoolToAgentPrefersTheDaemonWhenItAnswers() throws {
        let daemon = try DaemonProcess(kpis: e2eKPIs)
        let push = try BinaryRunner.run(
            "vigie",
            arguments: [
                "push", "wait", "1", "--producer", "cron-c", "--sequence", "5", "--spool-to-agent", "--agent",
                "tcp://127.0.0.1:9",
            ] + daemon.endpointArguments
        )
        #expect(push.status == 0, "\(push.stderr)")
        #expect(push.stdout == "accepted 1, rejected 0\n")
        #expect(push.stderr.isEmpty)
        #expect(try Self.applied(at: try #require(daemon.endpoints["ingest"]), producer: "cron-c", sequence: "5"))
    }

    @Test func spoolToAgentWithoutAgentFailsClearly() throws {
        let push = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "wait", "1", "--spool-to-agent", "--timeout", "200ms"] + Self.deadDaemon
        )
        #expect(push.status == 75)
        #expect(push.stdout.isEmpty)
        #expect(push.stderr.contains("vigied unreachable"))
        #expect(push.stderr.contains("--spool-to-agent needs --agent ENDPOINT"))
    }

    @Test func unreachableAgentExits75() throws {
        let start = Date()
        let direct = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "wait", "1", "--agent", "tcp://127.0.0.1:9", "--timeout", "200ms"]
        )
        #expect(direct.status == 75)
        #expect(direct.stderr.contains("vigie agent unreachable at tcp://127.0.0.1:9"))
        let both = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "wait", "1", "--spool-to-agent", "--agent", "tcp://127.0.0.1:9", "--timeout", "200ms"]
                + Self.deadDaemon
        )
        #expect(both.status == 75)
        #expect(both.stderr.contains("; and the agent: vigie agent unreachable"))
        #expect(Date().timeIntervalSince(start) < 10)
    }
}
