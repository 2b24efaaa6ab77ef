import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import VigieConfig
import VigieCore
import VigieDaemon
import VigieLogging
import VigieProcess

/// `vigied`: the Vigie aggregator daemon.
@main
struct Vigied: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigied",
        abstract: "Vigie aggregator: acknowledged ingest, rolling KPIs, live feed.",
        discussion: """
            Binds the endpoints of the configuration, prints one line \
            `vigied ready ingest=… push=… feed=… control=…` on standard output once they \
            are bound, and runs until SIGTERM or SIGINT.
            """,
        version: VigieVersion.string
    )

    @Option(name: .shortAndLong, help: "Configuration file.")
    var config: String = "/etc/vigie/vigie.toml"

    @Option(help: "Override [daemon] state_dir (and put the control socket in STATE_DIR/run).")
    var stateDir: String?

    @Option(help: "Override [daemon] runtime_dir: the directory of the operator control socket.")
    var runtimeDir: String?

    @Flag(
        help: """
            Start even if every checkpoint is unusable and the log was already pruned: KPI \
            windows and producers' sequence numbers are lost, and resent batches may count twice.
            """
    )
    var acceptStateLoss = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
        // Journal priorities under systemd, readable lines elsewhere; repeats rate-limited.
        let sink = ServiceLogHandler.Sink()
        LoggingSystem.bootstrap { label in
            var handler = ServiceLogHandler(label: label, sink: sink)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vigied")

        var configuration: VigieConfiguration
        do {
            configuration = try ConfigLoader.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("vigied: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        if let stateDir {
            // Like the agent's --state-dir: everything of this instance under one directory.
            configuration.daemon.stateDir = stateDir
            configuration.daemon.runtimeDir = stateDir + "/run"
        }
        if let runtimeDir { configuration.daemon.runtimeDir = runtimeDir }
        configuration.daemon.acceptStateLoss = acceptStateLoss
        for warning in configuration.warnings { logger.warning("\(warning)") }

        // The daemon binds inside the service group, after the group has taken over
        // SIGTERM/SIGINT, so a signal right after the ready line is a clean stop.
        let daemon = try Daemon(configuration: configuration, logger: logger, systemd: SystemdNotifier()) { bound in
            print("vigied ready \(bound.summary)")
            fflush(nil)
        }
        // SIGHUP (systemctl reload): re-read the configuration, keep running.
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP)
        hangup.setEventHandler { daemon.requestReload() }
        hangup.resume()
        defer { hangup.cancel() }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: daemon)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            FileHandle.standardError.write(Data("vigied: \(error)\n".utf8))
            // 74 (EX_IOERR): the log could not be synced; 69 (EX_UNAVAILABLE): an
            // endpoint could not be bound, …
            throw ExitCode((error as? DaemonError)?.exitCode ?? 69)
        }
    }
}
