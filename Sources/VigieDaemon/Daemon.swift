import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VigieConfig
import VigieCore
import VigieHTTP
import VigieProcess
import ZeroMQ

/// The `vigied` aggregator: binds the endpoints of the configuration and runs the engine
/// thread that owns every KPI window.
///
/// Lifecycle: `start()` binds synchronously (so a port in use fails at once and tests can
/// read the resolved ports), `run()` waits for the engine thread and turns a graceful
/// shutdown (SIGTERM/SIGINT through `ServiceGroup`) into `stop()`. The ZeroMQ context is
/// shut down and terminated only after the engine thread has closed its sockets.
public final class Daemon: Service, Sendable {
    /// The validated configuration this daemon runs.
    public let configuration: VigieConfiguration
    private let logger: Logger
    private let clock: any WallClock
    private let context: ZMQContext
    private let stopRequested = Atomic<Bool>(false)
    private let reloadRequested = Atomic<Bool>(false)
    private let lifecycle = Mutex(LifecycleState())
    private let onReady: (@Sendable (BoundEndpoints) -> Void)?
    private let systemd: SystemdNotifier?
    /// The `[http]` listener and what it serves; nil without `[http] listen`.
    private let metrics: DaemonMetrics?
    private let listener = Mutex<HTTPListener?>(nil)
    /// The engine's inproc control endpoint (for `/metrics` and `/healthz`).
    private let internalControl = "inproc://vigie-control-\(UUID().uuidString)"

    private struct LifecycleState: Sendable {
        var started = false
        var finished = false
        /// Why the engine stopped on its own (set before `finished`).
        var failure: DaemonError?
        var terminated = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Creates a daemon; nothing is bound until `start()`.
    ///
    /// - Parameters:
    ///   - systemd: where to send `READY=1`, `STATUS=`, `WATCHDOG=1` and `STOPPING=1`
    ///     (`SystemdNotifier()` under systemd; nil otherwise).
    ///   - onReady: called once every endpoint is bound and recovery is done (from
    ///     `start()`), e.g. to print the ready line.
    public init(
        configuration: VigieConfiguration,
        logger: Logger,
        clock: any WallClock = SystemClock(),
        systemd: SystemdNotifier? = nil,
        onReady: (@Sendable (BoundEndpoints) -> Void)? = nil
    ) throws {
        self.onReady = onReady
        self.systemd = systemd
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.context = try ZMQContext(ioThreads: 1, defaultLinger: 0)
        self.metrics = configuration.http.listen == nil ? nil : DaemonMetrics()
    }

    /// Binds every endpoint and starts the engine thread.
    ///
    /// - Returns: the endpoints as bound (wildcard ports resolved).
    /// - Throws: the first bind or setup error; nothing is left running then.
    @discardableResult
    public func start() throws -> BoundEndpoints {
        let alreadyStarted = lifecycle.withLock { state in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { throw DaemonError(message: "daemon already started") }

        let ready = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<BoundEndpoints, any Error>?>(nil)
        let configuration = self.configuration
        let logger = self.logger
        let clock = self.clock
        let context = self.context
        let systemd = self.systemd
        let metrics = self.metrics
        let internalControl = self.internalControl
        let thread = Thread { [self] in
            nameCurrentThread("vigie-engine")
            let loop: EngineLoop
            do {
                loop = try EngineLoop(
                    configuration: configuration,
                    context: context,
                    logger: logger,
                    clock: clock,
                    systemd: systemd,
                    internalControl: internalControl,
                    metrics: metrics
                )
                do {
                    try loop.recover()
                } catch {
                    loop.close()
                    throw DaemonError(message: "recovery from \(configuration.daemon.stateDir) failed: \(error)")
                }
                let bound = loop.bound
                outcome.withLock { $0 = .success(bound) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
                ready.signal()
                self.finish()
                return
            }
            ready.signal()
            loop.run(
                until: { self.stopRequested.load(ordering: .relaxed) },
                reloadRequested: { self.reloadRequested.exchange(false, ordering: .relaxed) }
            )
            loop.close()
            if let failure = loop.storageFailure {
                self.lifecycle.withLock {
                    $0.failure = DaemonError(message: "write-ahead log sync failed: \(failure)", exitCode: 74)
                }
            }
            self.finish()
        }
        thread.stackSize = 8 << 20
        thread.start()
        ready.wait()
        switch outcome.withLock({ $0 }) {
        case .success(var bound):
            if let listen = configuration.http.listen {
                do {
                    bound.http = try startHTTP(listen, hosts: configuration.http.hosts)
                } catch {
                    stop()
                    waitUntilStoppedBlocking()
                    throw DaemonError(message: "[http] listen \(listen): \(error)")
                }
            }
            logger.info("vigied ready", metadata: ["endpoints": "\(bound.summary)"])
            onReady?(bound)
            systemd?.notify("READY=1\nSTATUS=ready: \(bound.summary)")
            return bound
        case .failure(let error):
            terminateContext()
            throw error
        case .none:
            throw DaemonError(message: "engine thread did not report")
        }
    }

    /// Serves `/metrics` (the `metrics` control op: Prometheus text) and `/healthz` (the
    /// `health` op: 200 when the engine answers and the log is healthy, else 503), asking
    /// the engine thread over its inproc control socket. Returns the bound `host:port`.
    private func startHTTP(_ listen: HostPort, hosts: [String]) throws -> String {
        let context = self.context
        let endpoint = internalControl
        let metrics = self.metrics
        let server = try HTTPListener(host: listen.host, port: listen.port, allowedHosts: hosts) { path in
            switch path {
            case "/metrics":
                // The engine reads a consistent view and hands it over; this thread renders.
                guard Self.ask(context, endpoint, #"{"op":"metrics","hand_over":true}"#) != nil,
                    let body = metrics?.renderHandedOver()
                else {
                    return HTTPReply(status: 503, text: "the engine did not answer within 2 s\n")
                }
                return HTTPReply(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body)
            case "/healthz":
                guard let body = Self.ask(context, endpoint, #"{"op":"health"}"#), let reply = JSONValue.decode(body)
                else { return HTTPReply(status: 503, text: "unhealthy: the engine did not answer within 2 s\n") }
                let problems = reply["problems"]?.array?.compactMap(\.string) ?? []
                return problems.isEmpty
                    ? HTTPReply(status: 200, text: "ok\n")
                    : HTTPReply(status: 503, text: "unhealthy: " + problems.joined(separator: "; ") + "\n")
            default:
                return HTTPReply(status: 404, text: "not found: try /metrics or /healthz\n")
            }
        }
        listener.withLock { $0 = server }
        let host = listen.host.contains(":") ? "[\(listen.host)]" : listen.host
        return "\(host):\(server.port)"
    }

    /// One control request over the inproc endpoint (a fresh REQ socket: this runs on
    /// the HTTP thread pool); nil when no reply came within 2 s.
    private static func ask(_ context: ZMQContext, _ endpoint: String, _ request: String) -> [UInt8]? {
        guard let socket = try? context.makeSocket(.req) else { return nil }
        defer { socket.close(linger: 0) }
        do {
            try socket.setReceiveTimeout(2_000)
            try socket.connect(endpoint)
            _ = try socket.send(request)
            return try socket.receiveMultipart()?.last?.bytes
        } catch {
            return nil
        }
    }

    /// Runs until stopped: the `Service` entry point.
    public func run() async throws {
        let started = lifecycle.withLock { $0.started }
        if !started { try start() }
        await withGracefulShutdownHandler {
            await waitUntilStopped()
        } onGracefulShutdown: {
            self.stop()
        }
        if let failure = lifecycle.withLock({ $0.failure }) { throw failure }
    }

    /// Why the engine stopped on its own (a write-ahead log sync failure), if it did.
    public var failure: DaemonError? { lifecycle.withLock { $0.failure } }

    /// Asks the engine thread to finish its current turn, close its sockets and exit.
    public func stop() {
        if !stopRequested.exchange(true, ordering: .relaxed) {
            systemd?.notify("STOPPING=1\nSTATUS=stopping: finishing in-flight batches, syncing, checkpointing")
        }
    }

    /// Asks the engine thread to re-read the configuration file (SIGHUP): it does so
    /// within 100 ms; the outcome goes to the log (and to systemd's status).
    public func requestReload() {
        reloadRequested.store(true, ordering: .relaxed)
    }

    /// Returns once the engine thread has exited and the context is terminated.
    public func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lifecycle.withLock { state -> Bool in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// True once the engine thread has exited (sockets closed, notifier workers stopped
    /// or abandoned) and the context is terminated; for callers that cannot `await`.
    public var isStopped: Bool {
        lifecycle.withLock { $0.finished }
    }

    /// Blocks until the engine thread has finished (start-up failures only).
    private func waitUntilStoppedBlocking() {
        while !isStopped { usleep(10_000) }
    }

    private func finish() {
        // The HTTP pool may hold a request socket: stop it before the context terminates.
        listener.withLock { server in
            server?.stop()
            server = nil
        }
        terminateContext()
        let waiters = lifecycle.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func terminateContext() {
        let first = lifecycle.withLock { state -> Bool in
            defer { state.terminated = true }
            return !state.terminated
        }
        guard first else { return }
        context.shutdown()
        do {
            try context.terminate()
        } catch {
            logger.error("zmq context termination failed", metadata: ["error": "\(error)"])
        }
    }
}

/// A daemon-level failure with a message for the operator.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// vigied's exit status for this error, when not the default (69, EX_UNAVAILABLE):
    /// 74 (EX_IOERR) when the write-ahead log could not be synced.
    public var exitCode: Int32?
    public init(message: String, exitCode: Int32? = nil) {
        self.message = message
        self.exitCode = exitCode
    }
    public var description: String { message }
}
