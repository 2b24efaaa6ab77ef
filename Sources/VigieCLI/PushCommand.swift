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

    public func run() throws {
        guard let timeoutNs = DurationFormat.parse(timeout), timeoutNs > 0 else {
            throw ValidationError("--timeout '\(timeout)' is not a duration such as 5s or 500ms")
        }
        if let producer, producer.utf8.count < 1 || producer.utf8.count > VGI1.maxProducerIDLength {
            throw ValidationError("--producer must be 1 to \(VGI1.maxProducerIDLength) bytes")
        }
        guard sequence >= 1, sequence <= UInt64(Int64.max) else {
            throw ValidationError("--sequence must be between 1 and \(Int64.max)")
        }
        let batches: [Batch]
        do {
            batches = try makeBatches()
        } catch let error as SampleLineError {
            throw fail(65, error.message)
        }
        if batches.isEmpty {
            if !quiet { print("nothing to push") }
            return
        }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let producerID = producer.map { Array($0.utf8) } ?? IngestClient.oneShotProducerID("push")
        let agentEndpoint = agent.map(Self.agentEndpoint)
        let all = Set(batches.indices)
        var tally = Tally()
        if let agentEndpoint, !spoolToAgent {
            let outcome = try deliver(
                batches,
                indices: all,
                to: agentEndpoint,
                peer: "vigie agent",
                context,
                producerID,
                timeoutNs,
                &tally
            )
            if case .timedOut(_, let message) = outcome { throw fail(75, message) }
        } else {
            let daemon = try endpoints.resolved().ingest
            let outcome = try deliver(
                batches,
                indices: all,
                to: daemon,
                peer: "vigied",
                context,
                producerID,
                timeoutNs,
                &tally
            )
            if case .timedOut(let pending, let message) = outcome {
                guard spoolToAgent else { throw fail(75, message) }
                guard let agentEndpoint else {
                    throw fail(
                        75,
                        message + "; --spool-to-agent needs --agent ENDPOINT (or --agent local) to hand it over"
                    )
                }
                let handed = try deliver(
                    batches,
                    indices: pending,
                    to: agentEndpoint,
                    peer: "vigie agent",
                    context,
                    producerID,
                    timeoutNs,
                    &tally
                )
                if case .timedOut(_, let agentMessage) = handed {
                    throw fail(75, message + "; and the agent: " + agentMessage)
                }
                if !quiet {
                    FileHandle.standardError.write(
                        Data(
                            "vigie push: \(message); handed \(pending.count) batch(es) to the agent at \(agentEndpoint)\n"
                                .utf8
                        )
                    )
                }
            }
        }
        if !quiet {
            let note = tally.duplicates > 0 ? " (\(tally.duplicates) batch(es) already applied: duplicate)" : ""
            print("accepted \(tally.accepted), rejected \(tally.rejected)\(note)")
        }
        if tally.rejected > 0 { throw ExitCode(1) }
    }

    /// Counts summed over every acknowledgment.
    private struct Tally {
        var accepted = 0
        var rejected = 0
        var duplicates = 0
    }

    /// How one delivery attempt ended (a refusal is thrown as exit 76).
    private enum Outcome {
        case done
        /// Batches (indices) not acknowledged in time, and why.
        case timedOut(Set<Int>, String)
    }

    /// Sends the batches at `indices` to `endpoint` and waits for their ACKs, printing
    /// rejected lines on stderr. Batch `i` has sequence `sequence + i`.
    private func deliver(
        _ batches: [Batch],
        indices: Set<Int>,
        to endpoint: String,
        peer: String,
        _ context: ZMQContext,
        _ producerID: [UInt8],
        _ timeoutNs: Int64,
        _ tally: inout Tally
    ) throws -> Outcome {
        let client = try IngestClient(context: context, endpoint: endpoint, producer: producerID)
        defer { client.close() }
        let timeoutMs = Int(timeoutNs / 1_000_000)
        let first = sequence
        let deadline = monotonicNanoseconds() + UInt64(timeoutNs)
        var pending = Set<UInt64>()
        for index in indices.sorted() {
            let sequence = first + UInt64(index)
            let left = Int((Int64(deadline) - Int64(monotonicNanoseconds())) / 1_000_000)
            guard
                try client.send(
                    sequence: sequence,
                    payloads: [batches[index].payload],
                    timeoutMilliseconds: max(0, min(left, timeoutMs))
                )
            else {
                let unsent = Set(indices.filter { $0 >= index }).union(pending.map { Int($0 - first) })
                return .timedOut(unsent, "\(peer) unreachable at \(endpoint) (no connection within \(timeout))")
            }
            pending.insert(sequence)
        }
        while !pending.isEmpty {
            let left = Int((Int64(deadline) - Int64(monotonicNanoseconds())) / 1_000_000)
            guard left > 0, let reply = try client.receive(timeoutMilliseconds: left) else {
                return .timedOut(
                    Set(pending.map { Int($0 - first) }),
                    "no acknowledgment from \(peer) within \(timeout) for \(pending.count) of \(indices.count) batch(es); "
                        + "resending is safe"
                )
            }
            switch reply {
            case .ack(let sequence, let ack):
                guard pending.remove(sequence) != nil else { continue }
                tally.accepted += ack.accepted
                tally.rejected += ack.rejected
                if ack.duplicate { tally.duplicates += 1 }
                let offset = batches[Int(sequence - first)].firstLine - 1
                for error in ack.errors {
                    FileHandle.standardError.write(
                        Data("\(error.line + offset):\(error.column): \(error.reason)\n".utf8)
                    )
                }
                if ack.rejected > ack.errors.count {
                    FileHandle.standardError.write(
                        Data("(\(ack.rejected - ack.errors.count) more rejected lines not listed)\n".utf8)
                    )
                }
            case .error(let message):
                throw fail(76, "\(peer) refused the batch: \(message)")
            case .welcome:
                continue
            }
        }
        return .done
    }

    private struct Batch {
        var payload: [UInt8]
        var firstLine: Int
    }

    private func fail(_ code: Int32, _ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("vigie push: \(message)\n".utf8))
        return ExitCode(code)
    }

    private func makeBatches() throws -> [Batch] {
        if let metric {
            guard let value else { throw ValidationError("missing VALUE after METRIC '\(metric)'") }
            let line = try SampleLine.make(metric: metric, tags: tag, field: field, value: value, time: time)
            return [Batch(payload: Array(line.utf8), firstLine: 1)]
        }
        guard tag.isEmpty, time == nil else {
            throw ValidationError("-t/--tag and --time go with METRIC VALUE, not with line protocol input")
        }
        var input: [UInt8] = []
        for path in file.isEmpty ? ["-"] : file {
            if path == "-" {
                input.append(contentsOf: FileHandle.standardInput.readDataToEndOfFile())
            } else {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw fail(66, "cannot read \(path)")
                }
                input.append(contentsOf: data)
            }
            if input.last.map({ $0 != 0x0A }) ?? false { input.append(0x0A) }
        }
        return Self.split(input, linesPerBatch: max(1, batchLines)).map {
            Batch(payload: $0.bytes, firstLine: $0.firstLine)
        }
    }

    /// Cuts line protocol into batches of at most `linesPerBatch` lines, on line ends.
    static func split(_ input: [UInt8], linesPerBatch: Int) -> [(bytes: [UInt8], firstLine: Int)] {
        var out: [(bytes: [UInt8], firstLine: Int)] = []
        var start = 0
        var lines = 0
        var firstLine = 1
        for (i, b) in input.enumerated() where b == 0x0A {
            lines += 1
            if lines == linesPerBatch {
                out.append((Array(input[start...i]), firstLine))
                start = i + 1
                firstLine += lines
                lines = 0
            }
        }
        if start < input.count {
            let rest = Array(input[start...])
            if rest.contains(where: { $0 != 0x0A && $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) {
                out.append((rest, firstLine))
            }
        }
        return out
    }
}

/// Builds one line of line protocol from command-line pieces, escaping as InfluxDB does.
/// Why `METRIC VALUE` arguments do not make a sample (exit 65).
struct SampleLineError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

enum SampleLine {
    static func make(metric: String, tags: [String], field: String, value: String, time: Int64?) throws -> String {
        guard !metric.isEmpty else { throw SampleLineError("METRIC must not be empty") }
        var line = escape(metric, extra: [])
        for tag in tags {
            guard let eq = tag.firstIndex(of: "="), eq != tag.startIndex, tag.index(after: eq) != tag.endIndex else {
                throw SampleLineError("tag '\(tag)' must be key=value with both parts non-empty")
            }
            line +=
                "," + escape(String(tag[..<eq]), extra: ["="]) + "="
                + escape(String(tag[tag.index(after: eq)...]), extra: ["="])
        }
        line += " " + escape(field, extra: ["="]) + "=" + (try fieldValue(value))
        if let time { line += " \(time)" }
        return line + "\n"
    }

    private static func escape(_ text: String, extra: Set<Character>) -> String {
        var out = ""
        for c in text {
            if c == "," || c == " " || extra.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    private static func fieldValue(_ value: String) throws -> String {
        let lowered = value.lowercased()
        if ["true", "false", "t", "f"].contains(lowered) { return lowered }
        if let last = value.last, last == "i" || last == "u",
            Int64(value.dropLast()) != nil || UInt64(value.dropLast()) != nil
        {
            return value
        }
        if let d = Double(value) {
            guard d.isFinite else { throw SampleLineError("VALUE '\(value)' is not finite: NaN and Inf are rejected") }
            return value
        }
        if value.count >= 2, value.first == "\"", value.last == "\"" { return value }
        throw SampleLineError("VALUE '\(value)' is not a number (12.5, 3i, 7u), a boolean or a \"quoted string\"")
    }
}
