import ArgumentParser
import VigieCore

/// `vigie`: the Vigie command-line client.
public struct VigieCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vigie",
        abstract: "Vigie: live KPIs of a city's public services.",
        discussion: """
            Talks to vigied over ZeroMQ. Endpoints default to the loopback ports 7600-7603 \
            (docs/protocol.md); use --config FILE, the --ingest/--feed/--control options or the \
            VIGIE_* environment variables to point elsewhere.
            """,
        version: VigieVersion.string,
        subcommands: [
            PushCommand.self, WatchCommand.self, StatusCommand.self, AlertsCommand.self, AckCommand.self,
            SilenceCommand.self, UnsilenceCommand.self, ReloadCommand.self, KeygenCommand.self, CompletionsCommand.self,
            HistoryCommand.self, EventsCommand.self,
            ParseCommand.self,
            CheckConfigCommand.self,
            BenchCommand.self,
            SimulateCommand.self,
            AgentCommand.self,
        ]
    )

    public init() {}
}
