import ArgumentParser
import Foundation
import Logging
import VigieAgent
import VigieConfig
import VigieCore
import VigieLogging
import VigieProcess

/// `vigie-agent --config FILE` (what `vigie agent` executes): runs until SIGTERM or SIGINT.
@main
struct VigieAgentMain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigie-agent",
        abstract: "The collector agent (run it as `vigie agent`).",
        discussion: """
            Prints 'vigie agent ready ingest=… push=… control=…' once its endpoints are bound. \
            Exit status: 0 after SIGTERM/SIGINT, 78 on a bad config, 69 if it cannot start.
            """,
        version: VigieVersion.string
    )

    @Option(help: "Agent configuration file.")
    var config = "/etc/vigie/agent.toml"

    @Option(
        help: ArgumentHelp(
            "Keep the spool and collector state in DIR, the ipc sockets in DIR/run.",
            discussion: "Overrides [spool] directory and the ipc:// paths of [listen]: runs an agent as a normal user.",
            valueName: "DIR"
        )
    )
    var stateDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() throws {
        var configuration: AgentConfiguration
        do {
            configuration = try ConfigLoader.loadAgent(path: config)
        } catch {
            FileHandle.standardError.write(Data("vigie agent: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if let stateDir { configuration.relocate(stateDirectory: stateDir) }
        // Journal priorities under systemd, readable lines elsewhere; repeats rate-limited.
        let sink = ServiceLogHandler.Sink()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = ServiceLogHandler(label: label, sink: sink)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vigie-agent")
        let systemd = SystemdNotifier()

        let collectorState = configuration.spool.directory + "/collectors"
        try? FileManager.default.createDirectory(atPath: collectorState, withIntermediateDirectories: true)
        let box = RuntimeBox()
        let scheduler = CollectorScheduler(
            configurations: configuration.collectors,
            stateDirectory: collectorState,
            sink: { lines, receivedAt in
                // The collector thread waits for the spool: backpressure, and a file
                // collector's offset saved only once its lines are spooled.
                box.runtime?.submitAndWait(lines: Array(lines.utf8), receivedAt: receivedAt) == true
            },
            logger: logger
        )
        let runtime: AgentRuntime
        let bound: AgentEndpoints
        do {
            runtime = try AgentRuntime(
                configuration: configuration,
                logger: logger,
                collectors: SchedulerStatus(scheduler: scheduler),
                systemd: systemd
            )
            bound = try runtime.start()
        } catch {
            var message = "vigie agent: \(error)\n"
            if stateDir == nil && getuid() != 0 {
                message += "vigie agent: hint: as a normal user, --state-dir DIR keeps the spool and sockets in DIR\n"
            }
            FileHandle.standardError.write(Data(message.utf8))
            throw ExitCode(69)
        }
        box.runtime = runtime
        scheduler.start()
        let summary =
            "ingest=\(bound.ingest.joined(separator: ",")) push=\(bound.push.joined(separator: ",")) "
            + "control=\(bound.control.joined(separator: ","))"
        print("vigie agent ready " + summary)
        fflush(nil)
        systemd?.notify("READY=1\nSTATUS=ready: \(summary)")

        // SIGTERM/SIGINT: stop collectors, then the runtime (it persists its state).
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        while stop.wait(timeout: .now() + 0.5) == .timedOut {
            if runtime.isStopped { break }
        }
        systemd?.notify("STOPPING=1\nSTATUS=stopping: syncing the spool")
        scheduler.stop()
        runtime.stop()
        while !runtime.waitUntilStopped(timeout: 15) {}
        for source in sources { source.cancel() }
    }
}

/// Lets the collectors' sink reach the runtime created after them.
private final class RuntimeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: AgentRuntime?

    var runtime: AgentRuntime? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// The scheduler's per-collector status, for `vigie agent status`.
private struct SchedulerStatus: CollectorStatusProvider {
    let scheduler: CollectorScheduler

    func collectorStatus() -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for status in scheduler.statusObjects() {
            if let name = status["name"]?.string { out[name] = .object(status) }
        }
        return out
    }
}
