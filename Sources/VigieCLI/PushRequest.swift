import ArgumentParser
import Foundation
import VigieConfig
import VigieCore
import ZeroMQ

/// What `vigie push` was asked to do, as a plain value: built by ``PushCommand`` from
/// ArgumentParser's parse, or by ``init(fastArguments:)`` for the common cases.
struct PushRequest: Equatable, Sendable {
    var metric: String?
    var value: String?
    var tags: [String] = []
    var field = "value"
    var time: Int64?
    var files: [String] = []
    var timeout = "5s"
    var batchLines = 5_000
    var quiet = false
    var producer: String?
    var sequence: UInt64 = 1
    var endpoints = EndpointChoice()
    var agent: String?
    var spoolToAgent = false

    /// Sends the samples and waits for their acknowledgments. `terminatesContext: false`
    /// leaves the ZeroMQ context to the process's exit (the fast path exits right after;
    /// with linger 0 a terminate flushes nothing, it only joins libzmq's threads).
    func run(terminatesContext: Bool = true) throws {
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
        let curve = try endpoints.curve()
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            if terminatesContext {
                context.shutdown()
                try? context.terminate()
            }
        }
        let producerID = producer.map { Array($0.utf8) } ?? IngestClient.oneShotProducerID("push")
        let agentEndpoint = agent.map(PushCommand.agentEndpoint)
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
                &tally,
                curve: nil
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
                &tally,
                curve: curve
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
                    &tally,
                    curve: nil
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
        _ tally: inout Tally,
        curve: CurveClientCredentials?
    ) throws -> Outcome {
        let client = try IngestClient(context: context, endpoint: endpoint, producer: producerID, curve: curve)
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
            let line = try SampleLine.make(metric: metric, tags: tags, field: field, value: value, time: time)
            return [Batch(payload: Array(line.utf8), firstLine: 1)]
        }
        guard tags.isEmpty, time == nil else {
            throw ValidationError("-t/--tag and --time go with METRIC VALUE, not with line protocol input")
        }
        var input: [UInt8] = []
        for path in files.isEmpty ? ["-"] : files {
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
