import ArgumentParser
import Foundation
import VigieConfig
import VigieCore
import ZeroMQ

/// `vigie bench`: a load generator for the ingest paths.
///
/// Sends pre-built batches of line protocol (`bench,series=sN value=X`) as fast as the
/// credit window allows, and reports samples/s and ACK latency percentiles. Run the
/// daemon with `config/bench.toml` so that ten KPIs (one a p90) consume the samples.
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure ingest throughput and acknowledgment latency.",
        discussion: "Example: vigied --config config/bench.toml & vigie bench --duration 10s"
    )

    @Option(
        help: """
            'acked' (DEALER→ROUTER, waits for ACKs), 'push' (fire-and-forget PUSH→PULL), 'alert' \
            (push → alert on the feed latency, needs the bench_alerte rule of config/bench.toml) or \
            'floor' (the same hops through an echo peer in this process that does no work: what the \
            machine and libzmq cost, to set beside an 'alert' run; needs no daemon).
            """
    )
    var mode: String = "acked"

    @Option(help: "Lines per batch.")
    var batch: Int = 100

    @Option(help: "Distinct series (tag values) cycled through.")
    var series: Int = 1_000

    @Option(help: "How long to send, e.g. 10s.")
    var duration: String = "10s"

    @Option(help: "Batches in flight (credit window) on the acked path.")
    var window: Int = 64

    @Option(
        help: """
            Acked mode: target samples/s (0: as fast as the credit window allows). A paced load \
            is the background for '--mode alert' runs.
            """
    )
    var rate: Int = 0

    @Option(
        help: ArgumentHelp(
            """
            Alert mode: write each timed alert as 'SENT_NS LATENCY_NS' (CLOCK_MONOTONIC, one per \
            line) to this file, to line the slow ones up with 'perf sched record -k CLOCK_MONOTONIC'.
            """,
            valueName: "file"
        )
    )
    var trace: String?

    @Option(help: "Measurement name of the generated samples.")
    var measurement: String = "bench"

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        guard let durationNs = DurationFormat.parse(duration), durationNs > 0 else {
            throw ValidationError("--duration '\(duration)' is not a duration such as 10s")
        }
        guard batch >= 1, series >= 1, window >= 1 else {
            throw ValidationError("--batch, --series and --window must be at least 1")
        }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 (unlimited) or a number of samples/s") }
        let payloads = Self.makePayloads(measurement: measurement, batch: batch, series: series, count: 256)
        let resolved = try endpoints.resolved()
        let curve = try endpoints.curve()
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let result: BenchResult
        switch mode {
        case "acked":
            result = try runAcked(
                context: context,
                endpoint: resolved.ingest,
                payloads: payloads,
                durationNs: durationNs,
                curve: curve
            )
        case "push":
            result = try runPush(
                context: context,
                endpoint: resolved.push,
                payloads: payloads,
                durationNs: durationNs,
                curve: curve
            )
        case "alert":
            var timed = try runAlertLatency(
                context: context,
                ingest: resolved.ingest,
                feed: resolved.feed,
                durationNs: durationNs,
                curve: curve,
                trace: trace
            )
            // The daemon's own part (sample received → transition published), since it started.
            if let client = try? ControlClient(context: context, endpoint: resolved.control, curve: curve),
                let stats = try? client.request(.stats, as: ControlReply.Stats.self)
            {
                timed.daemonP50 = stats.alertLatency.p50Milliseconds
                timed.daemonP99 = stats.alertLatency.p99Milliseconds
            }
            result = timed
        case "floor":
            result = try BenchFloor.run(durationNs: durationNs, trace: trace)
        default:
            throw ValidationError("--mode must be 'acked', 'push', 'alert' or 'floor'")
        }
        print(json ? result.json : result.text)
        if result.samples == 0 { throw ExitCode(75) }
    }

    /// Pre-built payloads: `count` batches of `batch` lines cycling through `series` series.
    static func makePayloads(measurement: String, batch: Int, series: Int, count: Int) -> [[UInt8]] {
        var rng = SystemRandomNumberGenerator()
        var next = 0
        return (0..<count).map { _ in
            var text = ""
            for _ in 0..<batch {
                let value = Double(Int.random(in: 1...100_000, using: &rng)) / 100
                text += "\(measurement),series=s\(next % series),site=site\(next % 7) value=\(value)\n"
                next += 1
            }
            return Array(text.utf8)
        }
    }

    private func runAcked(
        context: ZMQContext,
        endpoint: String,
        payloads: [[UInt8]],
        durationNs: Int64,
        curve: CurveClientCredentials?
    ) throws -> BenchResult {
        let client = try IngestClient(
            context: context,
            endpoint: endpoint,
            producer: IngestClient.oneShotProducerID("bench"),
            lingerMilliseconds: 0,
            curve: curve
        )
        defer { client.close() }
        var sentAt = [UInt64](repeating: 0, count: window * 2 + 1)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(1 << 20)
        var nextSeq: UInt64 = 1
        var acked: UInt64 = 0
        var inFlight = 0
        var samples = 0
        var rejected = 0
        let start = monotonicNanoseconds()
        let end = start + UInt64(durationNs)
        var frames: [[UInt8]] = [VGI1.magic, VGI1.push, client.producer, [], []]
        var poller = Poller()
        poller.register(client.socket)
        while true {
            let now = monotonicNanoseconds()
            let sending = now < end
            if !sending && inFlight == 0 { break }
            if now > end + 10_000_000_000 { break }  // acknowledgments lost: give up after 10 s
            // Paced: batches allowed so far at `rate` samples/s.
            let allowed =
                rate > 0 ? UInt64(Double(now - start) / 1e9 * Double(rate) / Double(batch)) + 1 : UInt64.max
            while sending, inFlight < window, nextSeq <= allowed {
                frames[3] = Array(String(nextSeq).utf8)
                frames[4] = payloads[Int(nextSeq % UInt64(payloads.count))]
                guard try client.socket.sendMultipart(frames, dontWait: true) else { break }
                sentAt[Int(nextSeq % UInt64(sentAt.count))] = monotonicNanoseconds()
                nextSeq += 1
                inFlight += 1
            }
            let wait = rate > 0 ? 1 : 100
            if try poller.poll(timeoutMilliseconds: sending ? wait : 1_000) > 0 {
                while let reply = try client.socket.receiveMultipart(dontWait: true) {
                    switch IngestClient.decode(reply.map(\.bytes)) {
                    case .ack(let seq, let ack):
                        latencies.append(monotonicNanoseconds() - sentAt[Int(seq % UInt64(sentAt.count))])
                        samples += ack.accepted
                        rejected += ack.rejected
                        acked += 1
                        inFlight -= 1
                    case .error(let message):
                        throw ValidationError("vigied refused a batch: \(message)")
                    case .welcome:
                        break
                    }
                }
            } else if !sending {
                break
            }
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        latencies.sort()
        func pct(_ q: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]) / 1e6
        }
        return BenchResult(
            mode: "acked",
            samples: samples,
            rejected: rejected,
            batches: Int(acked),
            seconds: elapsed,
            p50: pct(0.5),
            p99: pct(0.99)
        )
    }

    /// Alternates a breaching and a clearing sample of `bench_alerte` and times each
    /// push until its `alert.bench_alerte` message (firing, then resolved) arrives.
    private func runAlertLatency(
        context: ZMQContext,
        ingest: String,
        feed: String,
        durationNs: Int64,
        curve: CurveClientCredentials?,
        trace: String?
    ) throws
        -> BenchResult
    {
        let sub = try context.makeSocket(.sub)
        try curve?.apply(to: sub)
        try sub.setLinger(0)
        try sub.subscribe("alert.bench_alerte")
        try sub.connect(feed)
        defer { sub.close() }
        let client = try IngestClient(
            context: context,
            endpoint: ingest,
            producer: IngestClient.oneShotProducerID("bench-alert"),
            lingerMilliseconds: 0,
            curve: curve
        )
        defer { client.close() }
        usleep(300_000)  // let the subscription reach the daemon
        var latencies: [UInt64] = []
        var sentTimes: [UInt64] = []
        var sequence: UInt64 = 0
        let end = monotonicNanoseconds() + UInt64(durationNs)
        var poller = Poller()
        poller.register(sub)
        while monotonicNanoseconds() < end {
            sequence += 1
            let breach = sequence % 2 == 1
            let expected = breach ? "\"state\":\"firing\"" : "\"state\":\"resolved\""
            let sentAt = monotonicNanoseconds()
            guard
                try client.send(
                    sequence: sequence,
                    payloads: [Array("bench_alerte value=\(breach ? 100 : 0)\n".utf8)],
                    timeoutMilliseconds: 1_000
                )
            else { break }
            var got = false
            while !got, monotonicNanoseconds() < sentAt + 2_000_000_000 {
                guard try poller.poll(timeoutMilliseconds: 100) > 0 else { continue }
                while let frames = try sub.receiveMultipart(dontWait: true) {
                    if frames.count == 2, frames[1].string.contains(expected) {
                        latencies.append(monotonicNanoseconds() - sentAt)
                        sentTimes.append(sentAt)
                        got = true
                    }
                }
            }
            _ = try client.receive(timeoutMilliseconds: 1_000)  // the ACK
            usleep(2_000)
        }
        if let trace { try Self.writeTrace(trace, sentTimes: sentTimes, latencies: latencies) }
        return BenchResult(
            mode: "alert",
            samples: latencies.count,
            rejected: 0,
            batches: Int(sequence),
            seconds: Double(durationNs) / 1e9,
            latencies: latencies
        )
    }

    /// `--trace FILE`: one 'SENT_NS LATENCY_NS' line per timed message.
    ///
    /// - Throws: `ExitCode(73)` (EX_CANTCREAT) after saying why on stderr.
    static func writeTrace(_ path: String, sentTimes: [UInt64], latencies: [UInt64]) throws {
        let text = zip(sentTimes, latencies).map { "\($0) \($1)\n" }.joined()
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            StandardStreams.writeAll(
                2,
                "vigie bench: cannot write --trace file \(path): \(error.localizedDescription)\n"
            )
            throw ExitCode(73)  // EX_CANTCREAT
        }
    }

    private func runPush(
        context: ZMQContext,
        endpoint: String,
        payloads: [[UInt8]],
        durationNs: Int64,
        curve: CurveClientCredentials?
    ) throws -> BenchResult {
        let socket = try context.makeSocket(.push)
        try curve?.apply(to: socket)
        try socket.setLinger(5_000)
        try socket.setSendHighWaterMark(1_000)
        try socket.connect(endpoint)
        defer { socket.close() }
        let start = monotonicNanoseconds()
        let end = start + UInt64(durationNs)
        var sent = 0
        while monotonicNanoseconds() < end {
            for _ in 0..<64 {
                try socket.send(payloads[sent % payloads.count])
                sent += 1
            }
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        return BenchResult(
            mode: "push",
            samples: sent * batch,
            rejected: 0,
            batches: sent,
            seconds: elapsed,
            p50: nil,
            p99: nil
        )
    }
}

/// What a bench run measured.
struct BenchResult {
    var mode: String
    var samples: Int
    var rejected: Int
    var batches: Int
    var seconds: Double
    var p50: Double?
    var p99: Double?
    /// `--mode alert`: the daemon's own receipt → feed latency (its `stats`).
    var daemonP50: Double?
    var daemonP99: Double?

    var rate: Double { seconds > 0 ? Double(samples) / seconds : 0 }

    var text: String {
        var s =
            "\(mode): \(samples) samples in \(batches) batches, "
            + String(format: "%.2f s: %.0f samples/s", seconds, rate)
        if mode == "floor", let p50, let p99 {
            return "floor: \(samples) round trips through a no-work peer (DEALER→ROUTER, PUB→SUB): p50 "
                + String(format: "%.2f ms, p99 %.2f ms", p50, p99)
        }
        if mode == "alert", let p50, let p99 {
            var line =
                "alert: \(samples) alert transitions timed: push → feed latency p50 "
                + String(format: "%.2f ms, p99 %.2f ms", p50, p99)
            if let daemonP50, let daemonP99 {
                line += String(
                    format: "; in vigied, sample received → published: p50 %.3f ms, p99 %.3f ms",
                    daemonP50,
                    daemonP99
                )
            }
            return line
        }
        if let p50, let p99 { s += String(format: "; ACK latency p50 %.2f ms, p99 %.2f ms", p50, p99) }
        if mode == "push" { s += " (sent; fire-and-forget: check `vigie status --stats` for what was applied)" }
        if rejected > 0 { s += "; \(rejected) rejected" }
        return s
    }

    var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.key("mode")
        w.string(mode)
        w.key("samples")
        w.integer(samples)
        w.key("rejected")
        w.integer(rejected)
        w.key("batches")
        w.integer(batches)
        w.key("seconds")
        w.number(seconds)
        w.key("samples_per_second")
        w.number(rate.rounded())
        w.key("ack_p50_ms")
        w.number(p50)
        w.key("ack_p99_ms")
        w.number(p99)
        if mode == "alert" {
            w.key("daemon_p50_ms")
            w.number(daemonP50)
            w.key("daemon_p99_ms")
            w.number(daemonP99)
        }
        w.endObject()
        return w.string
    }
}

extension BenchResult {
    /// A timed run (`alert`, `floor`): p50 and p99 of `latencies` (ns), in ms. (In an
    /// extension, so the memberwise initializer stays.)
    init(mode: String, samples: Int, rejected: Int, batches: Int, seconds: Double, latencies: [UInt64]) {
        let sorted = latencies.sorted()
        func pct(_ q: Double) -> Double? {
            guard !sorted.isEmpty else { return nil }
            return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1e6
        }
        self.init(
            mode: mode,
            samples: samples,
            rejected: rejected,
            batches: batches,
            seconds: seconds,
            p50: pct(0.5),
            p99: pct(0.99)
        )
    }
}
