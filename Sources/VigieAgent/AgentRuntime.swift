import Foundation
import Logging
import Synchronization
import VigieConfig
import VigieCore
import VigieProcess
import ZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reports the agent's collectors for `vigie agent status` (collectors are run by
/// someone else; the runtime only asks). Called on the agent loop thread: answer fast.
public protocol CollectorStatusProvider: Sendable {
    /// One entry per collector name: its status object (last run, result…).
    func collectorStatus() -> [String: JSONValue]
}

/// The endpoints an ``AgentRuntime`` bound (wildcard ports resolved).
public struct AgentEndpoints: Sendable, Equatable {
    /// Acknowledged `VGI1` endpoints (ROUTER).
    public var ingest: [String]
    /// Fire-and-forget endpoints (PULL).
    public var push: [String]
    /// Status endpoints (ROUTER, JSON).
    public var control: [String]
}

/// The agent process body (`vigie agent`): binds the local endpoints, spools every
/// accepted batch, forwards the spool to the daemon, publishes its health as samples.
///
/// Threads: ``start()`` spawns the loop thread, which owns the sockets, the
/// ``AgentSpool`` and the replies held until the spool is durable; the loop starts the
/// ``Forwarder`` thread. Other threads (collectors) hand batches over with
/// ``submit(lines:receivedAt:)``. ``stop(persistState:)`` then ``waitUntilStopped(timeout:)``.
public final class AgentRuntime: Sendable {
    /// The configuration it runs.
    public let configuration: AgentConfiguration
    /// systemd notifications (nil when not under systemd).
    let systemd: SystemdNotifier?
    private let logger: Logger
    private let clock: any WallClock
    private let healthInterval: Int64
    private let collectors: (any CollectorStatusProvider)?
    private let context: ZMQContext
    private let stopRequested = Atomic<Bool>(false)
    private let persistOnStop = Atomic<Bool>(true)
    private let stopped = Atomic<Bool>(false)
    private let submissions = Mutex<[Submission]>([])
    /// Wakes the loop when a submission arrives: `[read, write]` ends of a pipe.
    private let wakeup: (read: Int32, write: Int32)

    /// Most batches waiting in the submission queue; beyond, ``submit(lines:receivedAt:)``
    /// refuses (the caller reports it).
    public static let submissionQueueLimit = 10_000

    struct Submission: Sendable {
        var bytes: [UInt8]
        var receivedAt: Int64
        /// Told whether the batch reached the spool (``submitAndWait(lines:receivedAt:timeout:)``).
        var done: Completion? = nil
    }

    /// Whether a submitted batch reached the spool, handed from the loop to the waiting
    /// collector thread. A waiter that gives up first abandons the batch, and the loop
    /// then skips it: lines the collector will read again are never spooled twice.
    final class Completion: Sendable {
        private enum State {
            case queued, taken, abandoned
            case finished(Bool)
        }
        private let state = Mutex(State.queued)
        private let signal = DispatchSemaphore(value: 0)

        /// Called by the loop before it spools the batch: false if the waiter gave up.
        func take() -> Bool {
            state.withLock { state in
                guard case .queued = state else { return false }
                state = .taken
                return true
            }
        }

        /// `spooled`: every line was written to the spool or rejected as malformed
        /// (nothing to read again); false: the spool refused the batch.
        func finish(spooled: Bool) {
            state.withLock { $0 = .finished(spooled) }
            signal.signal()
        }

        func wait(nanoseconds: Int64) -> Bool {
            _ = signal.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds)))
            let taken = state.withLock { state -> Bool? in
                switch state {
                case .queued:
                    state = .abandoned
                    return nil
                case .taken: return true
                case .finished, .abandoned: return false
                }
            }
            guard let taken else { return false }
            // Being spooled right now: its outcome is a write away.
            if taken { signal.wait() }
            return state.withLock { state in
                if case .finished(let spooled) = state { return spooled }
                return false
            }
        }
    }

    /// A runtime for `configuration` (nothing is opened until ``start()``).
    ///
    /// - Parameters:
    ///   - healthInterval: time between two health reports, ns (default 10 s).
    ///   - collectors: answers the per-collector part of the status request.
    ///   - systemd: the loop thread sends `WATCHDOG=1` through it (under systemd).
    /// - Throws: if the context or the wakeup pipe cannot be created.
    public init(
        configuration: AgentConfiguration,
        logger: Logger,
        clock: any WallClock = SystemClock(),
        healthInterval: Int64 = 10_000_000_000,
        collectors: (any CollectorStatusProvider)? = nil,
        systemd: SystemdNotifier? = nil
    ) throws {
        self.systemd = systemd
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.healthInterval = healthInterval
        self.collectors = collectors
        context = try ZMQContext(ioThreads: 1, defaultLinger: 0)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw AgentError("pipe: \(String(cString: strerror(errno)))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeup = (fds[0], fds[1])
    }

    deinit {
        close(wakeup.read)
        close(wakeup.write)
    }

    /// Opens the spool, binds every endpoint and starts the loop and forwarder threads.
    ///
    /// - Returns: the bound endpoints.
    /// - Throws: the first spool or bind error; nothing is left running then.
    public func start() throws -> AgentEndpoints {
        let outcome = Mutex<Result<AgentEndpoints, any Error>?>(nil)
        let thread = Thread { [self] in
            nameCurrentThread("agent-loop")
            let loop: AgentLoop
            do {
                loop = try AgentLoop(runtime: self)
                outcome.withLock { $0 = .success(loop.endpoints) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
                stopped.store(true, ordering: .releasing)
                return
            }
            loop.run()
            stopped.store(true, ordering: .releasing)
        }
        thread.start()
        while true {
            if let result = outcome.withLock({ $0 }) { return try result.get() }
            usleep(1_000)
        }
    }

    /// Asks the loop to stop. With `persistState` false the acknowledged position is
    /// not saved (a crash as far as `state.json` goes; the spool itself is always
    /// durable): for tests.
    public func stop(persistState: Bool = true) {
        persistOnStop.store(persistState, ordering: .releasing)
        stopRequested.store(true, ordering: .releasing)
        signalWakeup()
    }

    /// Blocks until the loop has stopped (or `timeout` seconds); returns true if it has.
    @discardableResult
    public func waitUntilStopped(timeout: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !stopped.load(ordering: .acquiring) {
            if Date() >= deadline { return false }
            usleep(2_000)
        }
        return true
    }

    /// True once the loop has ended.
    public var isStopped: Bool { stopped.load(ordering: .acquiring) }

    /// Hands a batch of line-protocol lines to the loop (thread-safe; for collectors).
    /// It is parsed, tagged and spooled like a fire-and-forget push.
    ///
    /// - Parameter receivedAt: ns since the Unix epoch; default now.
    /// - Returns: false if the runtime is stopping or the queue is full (the loop is
    ///   stuck): the batch was not taken.
    @discardableResult
    public func submit(lines: [UInt8], receivedAt: Int64? = nil) -> Bool {
        guard !shouldStop, !isStopped else { return false }
        let stamp = receivedAt ?? clock.now()
        let accepted = submissions.withLock { queue -> Bool in
            guard queue.count < Self.submissionQueueLimit else { return false }
            queue.append(Submission(bytes: lines, receivedAt: stamp))
            return true
        }
        if accepted { signalWakeup() }
        return accepted
    }

    /// Like ``submit(lines:receivedAt:)``, then waits until the loop has written the
    /// batch to the spool: true when it did (or found every line malformed), false when
    /// the queue is full, the spool refused it or `timeout` (ns) passed. A `file`
    /// collector saves its offset only after true, and reads the lines again after false.
    public func submitAndWait(lines: [UInt8], receivedAt: Int64? = nil, timeout: Int64 = 10_000_000_000) -> Bool {
        guard !shouldStop, !isStopped else { return false }
        let stamp = receivedAt ?? clock.now()
        let done = Completion()
        let queued = submissions.withLock { queue -> Bool in
            guard queue.count < Self.submissionQueueLimit else { return false }
            queue.append(Submission(bytes: lines, receivedAt: stamp, done: done))
            return true
        }
        guard queued else { return false }
        signalWakeup()
        return done.wait(nanoseconds: timeout)
    }

    /// ``submit(lines:receivedAt:)`` for text.
    @discardableResult
    public func submit(lines: String, receivedAt: Int64? = nil) -> Bool {
        submit(lines: Array(lines.utf8), receivedAt: receivedAt)
    }

    private func signalWakeup() {
        var byte: UInt8 = 1
        _ = write(wakeup.write, &byte, 1)
    }

    // MARK: - For the loop

    var loopLogger: Logger { logger }
    var loopClock: any WallClock { clock }
    var loopContext: ZMQContext { context }
    var loopHealthInterval: Int64 { healthInterval }
    var loopCollectors: (any CollectorStatusProvider)? { collectors }
    var wakeupFD: Int32 { wakeup.read }
    var shouldStop: Bool { stopRequested.load(ordering: .acquiring) }
    var shouldPersistOnStop: Bool { persistOnStop.load(ordering: .acquiring) }

    func takeSubmissions() -> [Submission] {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(wakeup.read, &buffer, 256) > 0 {}
        return submissions.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
    }
}
