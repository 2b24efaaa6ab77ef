import Foundation
import Logging
import VigieAgent
import VigieConfig

/// A bare agent process for crash tests (SIGKILL mid-forward): runs an ``AgentRuntime``
/// until killed. Not installed; `vigie agent` is the real command.
///
/// Usage: `vigie-agent-testhost SPOOL_DIR UPSTREAM INGEST CONTROL PRODUCER_ID`
let arguments = CommandLine.arguments
guard arguments.count == 6 else {
    FileHandle.standardError.write(
        Data("usage: vigie-agent-testhost SPOOL_DIR UPSTREAM INGEST CONTROL PRODUCER\n".utf8)
    )
    exit(64)
}
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
let configuration = AgentConfiguration(
    name: "testhost",
    producerID: arguments[5],
    upstream: arguments[2],
    window: 16,
    ackTimeout: 1_000_000_000,
    backoffInitial: 50_000_000,
    backoffMax: 300_000_000,
    spool: AgentSpoolConfiguration(directory: arguments[1], fsync: .batch, fsyncInterval: 2_000_000),
    listen: AgentListenConfiguration(ingest: [arguments[3]], push: [], control: [arguments[4]])
)
do {
    let runtime = try AgentRuntime(
        configuration: configuration,
        logger: Logger(label: "vigie-agent-testhost"),
        healthInterval: 3_600_000_000_000
    )
    _ = try runtime.start()
    while !runtime.isStopped { sleep(1) }
} catch {
    FileHandle.standardError.write(Data("vigie-agent-testhost: \(error)\n".utf8))
    exit(1)
}
