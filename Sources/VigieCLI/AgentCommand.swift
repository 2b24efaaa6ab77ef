import ArgumentParser
import Foundation
import VigieConfig
import VigieCore
import ZeroMQ

/// `vigie agent`: the collector agent (store-and-forward to `vigied`), and its status.
public struct AgentCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the collector agent: spool local scripts' and collectors' samples, forward them to vigied.",
        discussion: """
            Example: vigie agent --config config/agent.toml --state-dir /tmp/vigie-agent
                     vigie agent status --config config/agent.toml
            """,
        subcommands: [AgentRunCommand.self, AgentStatusCommand.self],
        defaultSubcommand: AgentRunCommand.self
    )

    public init() {}
}

/// `vigie agent [run] --config FILE`: hands over to the `vigie-agent` executable
/// installed next to `vigie` (the agent links the HTTP client and SQLite, which a
/// one-shot `vigie push` should not pay for at every start).
struct AgentRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent (the default): executes vigie-agent from the same directory.",
        discussion: """
            Prints 'vigie agent ready ingest=… push=… control=…' once its endpoints are bound. \
            With --state-dir DIR, the spool and collector state go to DIR and the ipc sockets \
            to DIR/run (DIR/run/ingest.sock), whatever the file says: a normal user can run \
            an agent configured for /var/lib/vigie-agent and /run/vigie-agent. \
            Exit status: 0 after SIGTERM/SIGINT, 78 on a bad config, 69 if it cannot start.
            """
    )

    @Option(help: "Agent configuration file.")
    var config = "/etc/vigie/agent.toml"

    @Option(
        help: ArgumentHelp(
            "Keep the spool and collector state in DIR, the ipc sockets in DIR/run.",
            discussion: "Overrides [spool] directory and the ipc:// paths of [listen].",
            valueName: "DIR"
        )
    )
    var stateDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() throws {
        let own =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let agent = URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent("vigie-agent").path
        guard FileManager.default.isExecutableFile(atPath: agent) else {
            FileHandle.standardError.write(
                Data("vigie agent: \(agent) not found (install vigie-agent beside vigie)\n".utf8)
            )
            throw ExitCode(69)
        }
        var arguments = [agent, "--config", config, "--log-level", logLevel]
        if let stateDir { arguments += ["--state-dir", stateDir] }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        fflush(nil)
        execv(agent, &argv)
        FileHandle.standardError.write(
            Data("vigie agent: cannot run \(agent): \(String(cString: strerror(errno)))\n".utf8)
        )
        throw ExitCode(69)
    }
}

/// `vigie agent status`: spool depth, oldest unsent batch, last ACK, collectors.
struct AgentStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the agent's spool, forwarding and collectors.",
        discussion: "Exit status: 0 on success, 75 if the agent does not answer, 78 on a bad config."
    )

    @Option(help: "Agent configuration file (for its control endpoint).")
    var config = "/etc/vigie/agent.toml"

    @Option(help: "The agent's control endpoint (overrides the config).")
    var control: String?

    @Option(help: ArgumentHelp("The --state-dir the agent runs with (moves ipc:// endpoints).", valueName: "DIR"))
    var stateDir: String?

    @Flag(help: "Print the agent's JSON reply as is.")
    var json = false

    func run() throws {
        var endpoint = control
        if endpoint == nil {
            do {
                var configuration = try ConfigLoader.loadAgent(path: config)
                if let stateDir { configuration.relocate(stateDirectory: stateDir) }
                endpoint = configuration.listen.control.first
            } catch {
                FileHandle.standardError.write(Data("vigie agent status: \(error)\n".utf8))
                throw ExitCode(78)
            }
        }
        guard let endpoint else { throw ValidationError("the agent has no control endpoint: pass --control") }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let client = try ControlClient(context: context, endpoint: endpoint)
        defer { client.close() }
        do {
            let request = Array(#"{"op":"status"}"#.utf8)
            if json {
                print(String(decoding: try client.requestRaw(body: request), as: UTF8.self))
            } else {
                print(Self.render(try client.request(body: request, as: AgentStatusReply.self)), terminator: "")
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("vigie agent status: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }

    /// Top-level values as `key: value` lines (an object's members as `key.member: value`),
    /// then one line per collector.
    static func render(_ reply: AgentStatusReply) -> String {
        var out = ""
        for key in reply.members.keys.sorted() where key != "collectors" {
            guard let value = reply.members[key] else { continue }
            if let object = value.object {
                for sub in object.keys.sorted() { out += "\(key).\(sub): \(object[sub]?.displayText ?? "")\n" }
            } else {
                out += "\(key): \(value.displayText)\n"
            }
        }
        if !reply.collectors.isEmpty {
            out += "collectors:\n"
            for name in reply.collectors.keys.sorted() {
                guard let c = reply.collectors[name] else { continue }
                out += "  \(name) (\(c.kind)): \(c.result ?? "not run yet"), last run \(c.lastRun ?? "—"), "
                out += "\(c.totalLines) lines\n"
            }
        }
        return out
    }
}
