import Foundation
import Synchronization
import VigieCore
import ZeroMQ

/// `vigie bench --mode floor`: what the push → feed path costs with no daemon work in
/// it, on this machine, now.
///
/// An echo peer with its own libzmq context (its own I/O thread, as `vigied` has)
/// runs on a thread of this process: it binds a ROUTER and a PUB on loopback TCP and
/// publishes every message it receives as `alert.floor`. The client does what
/// `--mode alert` does — sends on a DEALER, waits for the message on a SUB — with the
/// same thread hand-offs: client → client I/O → peer I/O → peer → peer I/O → client
/// I/O → client. Whatever an `alert` run measures above this floor, run beside the same
/// load, is the daemon's.
///
/// Pacing: one message every 5 ms, about the period of an `alert` run (which also waits
/// for each ACK and sleeps 2 ms), so both see vCPUs equally idle between messages.
enum BenchFloor {
    static func run(durationNs: Int64, trace: String?) throws -> BenchResult {
        let peer = try EchoPeer()
        defer { peer.stop() }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let sub = try context.makeSocket(.sub)
        try sub.setLinger(0)
        try sub.subscribe("alert.floor")
        try sub.connect(peer.feed)
        defer { sub.close() }
        let dealer = try context.makeSocket(.dealer)
        try dealer.setLinger(0)
        try dealer.connect(peer.ingest)
        defer { dealer.close() }
        usleep(300_000)  // let the subscription reach the peer
        var poller = Poller()
        poller.register(sub)
        var latencies: [UInt64] = []
        var sentTimes: [UInt64] = []
        var sent = 0
        let payload = Array("bench_alerte value=100\n".utf8)
        let end = monotonicNanoseconds() + UInt64(durationNs)
        while monotonicNanoseconds() < end {
            let sentAt = monotonicNanoseconds()
            guard try dealer.send(payload) else { break }
            sent += 1
            var got = false
            while !got, monotonicNanoseconds() < sentAt + 2_000_000_000 {
                guard try poller.poll(timeoutMilliseconds: 100) > 0 else { continue }
                while let frames = try sub.receiveMultipart(dontWait: true) {
                    if frames.count == 2, !got {
                        latencies.append(monotonicNanoseconds() - sentAt)
                        sentTimes.append(sentAt)
                        got = true
                    }
                }
            }
            usleep(5_000)
        }
        if let trace { try BenchCommand.writeTrace(trace, sentTimes: sentTimes, latencies: latencies) }
        return BenchResult(
            mode: "floor",
            samples: latencies.count,
            rejected: 0,
            batches: sent,
            seconds: Double(durationNs) / 1e9,
            latencies: latencies
        )
    }
}

/// The no-work peer of `BenchFloor`: ROUTER in, PUB out, on a thread of its own with
/// a libzmq context of its own.
private final class EchoPeer: Sendable {
    /// Where its ROUTER and PUB listen (loopback, ports picked by the kernel).
    let ingest: String
    let feed: String
    private let control = Control()

    /// Binds the peer's sockets and starts its thread.
    ///
    /// - Throws: `ZMQError` when the sockets cannot be made or bound.
    init() throws {
        let ready = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<(String, String), any Error>?>(nil)
        let control = self.control
        let thread = Thread {
            nameCurrentThread("bench-floor")
            defer { control.finished.signal() }
            do {
                let context = try ZMQContext(defaultLinger: 0)
                defer {
                    context.shutdown()
                    try? context.terminate()
                }
                let router = try context.makeSocket(.router)
                defer { router.close() }
                let publisher = try context.makeSocket(.pub)
                defer { publisher.close() }
                try router.bind("tcp://127.0.0.1:*")
                try publisher.bind("tcp://127.0.0.1:*")
                let endpoints = (try router.lastEndpoint, try publisher.lastEndpoint)
                outcome.withLock { $0 = .success(endpoints) }
                ready.signal()
                var poller = Poller()
                poller.register(router)
                while !control.stopping.load(ordering: .relaxed) {
                    guard (try? poller.poll(timeoutMilliseconds: 50)) ?? 0 > 0 else { continue }
                    while let frames = try router.receiveMultipart(dontWait: true), let body = frames.last {
                        _ = try publisher.send("alert.floor", more: true)
                        _ = try publisher.send(body)
                    }
                }
            } catch {
                outcome.withLock { if $0 == nil { $0 = .failure(error) } }
                ready.signal()
            }
        }
        thread.start()
        ready.wait()
        switch outcome.withLock({ $0 }) {
        case .success(let (ingest, feed)):
            self.ingest = ingest
            self.feed = feed
        case .failure(let error):
            control.finished.wait()
            throw error
        case nil:
            control.finished.wait()
            throw ZMQError(code: EINVAL, operation: "bench floor peer")
        }
    }

    /// Stops the peer's thread and waits for it.
    func stop() {
        control.stopping.store(true, ordering: .relaxed)
        control.finished.wait()
    }

    /// What the peer's thread and its owner share.
    private final class Control: Sendable {
        let stopping = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
    }
}
