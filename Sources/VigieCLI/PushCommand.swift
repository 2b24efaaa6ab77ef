import ArgumentParser
import Foundation
import VigieCore
import ZeroMQ

/// `vigie push`: send samples and wait for the daemon's (or the local agent's) acknowledgment.
public struct PushCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push samples to vigied and wait for the acknowledgment.",
        discussion: """
            Either one sample from the arguments:
              vigie push guichet_attente 12.5 -t service=etat-civil -t site=centre
            or line protocol from files or standard input:
              my-script | vigie push
              vigie push --file today.lp

            Exit status: 0 every line accepted; 1 some lines rejected (each printed on \
            stderr as `line:column: reason`); 65 the arguments do not make a valid sample; \
            66 an input file cannot be read; 75 the daemon is unreachable or did not \
            acknowledge within --timeout; 76 the daemon answered with an error.

            --agent ENDPOINT sends to the local vigie agent instead (same protocol); it \
            acknowledges once the batch is on its disk and forwards it to vigied later. \
            --agent local means ipc:///run/vigie-agent/ingest.sock, or tcp://127.0.0.1:7700 \
            when that socket does not exist. With --spool-to-agent, vigied is tried first \
            and the batches it did not acknowledge within --timeout go to --agent; exit 75 \
            only if the agent does not acknowledge either.

            Each run uses a fresh producer id, so after a 75 the batch may or may not have \
            been applied. For exactly-once retries, give a stable --producer and a \
            --sequence that grows from run to run (e.g. the epoch seconds): a resend of \
            the same sequence is acknowledged as a duplicate and not applied twice.
            """
    )

    @Argument(help: "Measurement name (omit to read line protocol from --file or stdin).")
    var metric: String?

    @Argument(help: "Field value: 12.5, 3i, 7u, true/false or a quoted string.")
    var value: String?

    @Option(name: [.customShort("t"), .long], help: "Tag key=value (repeatable).")
    var tag: [String] = []

    @Option(help: "Field name for VALUE.")
    var field: String = "value"

    @Option(help: "Timestamp in nanoseconds since the epoch (default: the daemon's receive time).")
    var time: Int64?

    @Option(help: "Read line protocol from this file ('-' for stdin). Repeatable.")
    var file: [String] = []

    @Option(help: "How long to wait for the daemon to accept and acknowledge, e.g. 5s, 500ms.")
    var timeout: String = "5s"

    @Option(help: "Lines per batch when reading files or stdin.")
    var batchLines: Int = 5_000

    @Flag(help: "Print nothing on success.")
    var quiet = false

    @Option(help: "Stable producer id (1-128 bytes) for exactly-once retries; default: a fresh one per run.")
    var producer: String?

    @Option(help: "Sequence number of the first batch (with --producer); later batches count up from it.")
    var sequence: UInt64 = 1

    @OptionGroup var endpoints: EndpointOptions

    @Option(
        help: ArgumentHelp(
            "Push to the local vigie agent at ENDPOINT instead of vigied ('local': the default agent endpoint).",
            valueName: "ENDPOINT"
        )
    )
    var agent: String?

    @Flag(help: "If vigied does not acknowledge in time, hand the unacknowledged batches to --agent.")
    var spoolToAgent = false

    public init() {}

    /// The agent's default acknowledged endpoint (its `[listen] ingest` ipc socket).
    public static let defaultAgentEndpoint = "ipc:///run/vigie-agent/ingest.sock"
    /// Used for `--agent local` when the ipc socket does not exist (the agent's loopback TCP).
    public static let fallbackAgentEndpoint = "tcp://127.0.0.1:7700"

    /// `--agent local` → the ipc socket if it exists, else loopback TCP; anything else as given.
    static func agentEndpoint(_ option: String) -> String {
        guard option == "local" else { return EndpointOptions.connectable(option) }
        let socketPath = String(defaultAgentEndpoint.dropFirst("ipc://".count))
        return FileManager.default.fileExists(atPath: socketPath) ? defaultAgentEndpoint : fallbackAgentEndpoint
    }

    /// The parsed options as a plain value.
    var request: PushRequest {
        PushRequest(
            metric: metric,
            value: value,
            tags: tag,
            field: field,
            time: time,
            files: file,
            timeout: timeout,
            batchLines: batchLines,
            quiet: quiet,
            producer: producer,
            sequence: sequence,
            endpoints: endpoints.choice,
            agent: agent,
            spoolToAgent: spoolToAgent
        )
    }

    public func run() throws {
        try request.run()
    }
}
