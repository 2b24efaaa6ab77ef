import Foundation
import Logging
import VigieConfig
import VigieCore
import VigieProcess
import VigieStore
import ZeroMQ

/// The engine thread's loop: polls the sockets, hands each ready message to the server
/// of its socket's role, runs the timers (publishing, alert ticks, checkpoints,
/// heartbeats) and decides when to give the CPU away. Everything else is done by the
/// parts it owns (docs/architecture.md draws them). Created on the engine thread and
/// never shared (sockets are not `Sendable`).
final class EngineLoop {
    /// Set when the write-ahead log could not be synced: the loop stops, no checkpoint is
    /// written, vigied exits non-zero and recovery replays the log at the next start.
    private(set) var storageFailure: StoreError?
    private let state: EngineState
    private let endpoints: EndpointSet
    private let replies = DurableReplies()
    private let keeper: StateKeeper
    /// The ZAP handler admitting CURVE clients (`[security] curve = true`), else nil.
    private let zap: ZAPHandler?
    private let metrics: DaemonMetrics?
    /// The history thread's link and the write-ahead log; nil until ``recover()`` ran.
    private var history: HistoryLink?
    private var wal: WALWriter?
    private var vitals: EngineVitals
    private let alerting: AlertStage

    private let receiver = MessageReceiver()
    private let applier: BatchApplier
    private let peers: CurvePeers
    private let ingest: IngestServer
    private let push: PushServer
    private let control: ControlServer
    private let context: ZMQContext
    /// systemd notifications (watchdog pings and status); nil when not under systemd.
    private let systemd: SystemdNotifier?
    private var watchdog = SystemdNotifier.WatchdogClock()
    /// The background threads, stopped in reverse order of start (``close()``).
    private let services: ServiceStack

    private enum Role { case ingest, push, control, walSync, history }
    private var poller = Poller()
    private var pollRoles: [(role: Role, socket: Socket?)] = []
    /// Bumped whenever `poller` is rebuilt (a reload changed the endpoints).
    private var pollGeneration = 0

    private var publisher: KPIPublisher
    /// The last loop turn kept the CPU for at least `longTurn`.
    private var yieldBeforePoll = false
    /// When the current stretch of work began (monotonic ns; 0 outside a turn).
    private var workingSince: UInt64 = 0

    /// A stretch of work this long (ns) gives the CPU away (``yieldCPU()``).
    private static let longTurn: UInt64 = 200_000
    /// Messages drained from one socket before polling again (fairness).
    private static let drainBudget = 512

    init(
        configuration: VigieConfiguration,
        context: ZMQContext,
        logger: Logger,
        clock: any WallClock,
        systemd: SystemdNotifier? = nil,
        internalControl: String? = nil,
        metrics: DaemonMetrics? = nil
    ) throws {
        self.context = context
        self.systemd = systemd
        self.metrics = metrics
        let state = EngineState(configuration: configuration, logger: logger, clock: clock)
        self.state = state
        let now = state.now()
        vitals = EngineVitals(now: now, heartbeatInterval: configuration.daemon.heartbeatInterval)
        publisher = KPIPublisher(now: now)
        let services = ServiceStack(logger: logger)
        self.services = services
        // ZAP first: libzmq asks it from the first CURVE handshake on.
        zap = try services.startZAP(configuration.security, context: context)
        do {
            endpoints = try EndpointSet(
                configuration: configuration,
                context: context,
                internalControl: internalControl,
                now: now
            )
        } catch {
            services.stopAll()
            throw error
        }
        applier = BatchApplier(state: state)
        peers = CurvePeers(keys: configuration.security.authorized)
        ingest = IngestServer(state: state, receiver: receiver, applier: applier, peers: peers, replies: replies)
        push = PushServer(state: state, receiver: receiver, applier: applier, peers: peers)
        keeper = StateKeeper(state: state, feed: endpoints.feed, applier: applier)
        alerting = AlertStage(state: state, feed: endpoints.feed, metrics: metrics)
        control = ControlServer(
            handler: ControlHandler(
                state: state,
                endpoints: endpoints,
                keeper: keeper,
                replies: replies,
                alerting: alerting,
                zap: zap,
                metrics: metrics,
                vitals: vitals
            ),
            receiver: receiver
        )
        replies.adopt(endpoints.ingest + endpoints.control)
        rebuildPoller()
        services.startNotifiers(state)
    }

    /// What was bound, as resolved (wildcard ports).
    var bound: BoundEndpoints { endpoints.bound }

    /// Replays the write-ahead log into the engine, then opens the log for appending and
    /// starts history and checkpoints. Call once, before `run`; a failure is fatal.
    func recover() throws {
        var observer: (@Sendable (UInt64) -> Void)?
        if let metrics { observer = { metrics.recordFsync(nanoseconds: $0) } }
        let wal = try services.startLog(keeper: keeper, replies: replies, syncObserver: observer) {
            control.handler.replay(request: $0, at: $1)
        }
        self.wal = wal
        alerting.wal = wal
        let history = services.startHistory(state, wal: wal, walDirectory: keeper.walDirectory, context: context)
        self.history = history
        services.startCheckpointWriter(keeper, history: history)
        rebuildPoller()
    }

    /// Loops until `shouldStop` returns true (checked at least every 100 ms).
    func run(until shouldStop: () -> Bool, reloadRequested: () -> Bool = { false }) {
        while !shouldStop() {
            if reloadRequested() { _ = reloadConfiguration() }
            let now = state.now()
            // Rounded up: a deadline 0.4 ms away waits 1 ms rather than spinning on
            // zero-timeout polls until it passes.
            let wait =
                (max(0, min(vitals.nextHeartbeat, publisher.nextCheck, alerting.nextTick) - now) + 999_999) / 1_000_000
            do {
                if yieldBeforePoll { yieldCPU() }
                let ready = try poller.poll(timeoutMilliseconds: Int(min(wait, 100)))
                workingSince = monotonicNanoseconds()
                if ready > 0 { dispatchReady() }
                if let wal {
                    state.statistics.repliesDropped += replies.release(
                        upTo: wal.durableLSN,
                        producers: &state.producers
                    )
                    history?.publish(durable: wal.durableLSN)
                }
                if let failure = storageFailure {
                    state.logger.critical(
                        """
                        write-ahead log sync failed: stopping without a checkpoint; held batches are not \
                        acknowledged (their producers resend), recovery at the next start replays the log
                        """,
                        metadata: ["error": "\(failure)"]
                    )
                    systemd?.notify("STATUS=stopping: write-ahead log sync failed: \(failure)")
                    return
                }
            } catch let error as ZMQError where error.kind == .terminated {
                return
            } catch {
                state.logger.error("poll failed", metadata: ["error": "\(error)"])
            }
            tick(now: state.now())
            yieldBeforePoll = workingSince > 0 && monotonicNanoseconds() &- workingSince >= Self.longTurn
            workingSince = 0
        }
    }

    /// Serves every socket the last poll found ready, by role.
    private func dispatchReady() {
        let generation = pollGeneration
        for (index, entry) in pollRoles.enumerated() where poller.isReadable(at: index) {
            // A reload rebound the sockets: what was ready is polled again.
            guard generation == pollGeneration else { break }
            switch (entry.role, entry.socket) {
            case (.history, _):
                state.statistics.repliesDropped += history?.drainReplies(to: endpoints.control) ?? 0
            case (.walSync, _):
                wal?.drainNotification()
                // The syncer signals a failure too; read it only then (a lock).
                if storageFailure == nil, let failure = wal?.syncFailure { storageFailure = failure }
            case (let role, let socket?):
                drain(socket, role: role)
            default:
                break
            }
        }
    }

    /// Receives up to `drainBudget` messages from `socket` and hands each to its server;
    /// a batch's alerts are evaluated right after it, before the log is asked to sync.
    private func drain(_ socket: Socket, role: Role) {
        let curve = endpoints.isCurve(socket)
        let maxBytes = state.configuration.ingest.maxMessageSize
        for _ in 0..<Self.drainBudget {
            do {
                guard try receiver.receive(from: socket, maxBytes: maxBytes) else { return }
            } catch let error as ZMQError where error.kind == .terminated {
                return
            } catch {
                state.logger.warning("receive failed", metadata: ["error": "\(error)"])
                return
            }
            // A long drain (a backlog of batches) gives the CPU away now and then.
            let received = monotonicNanoseconds()
            if workingSince > 0, received &- workingSince >= Self.longTurn {
                yieldCPU()
                workingSince = monotonicNanoseconds()
            }
            switch role {
            case .ingest, .push:
                if role == .ingest {
                    ingest.handle(socket: socket, curve: curve, wal: wal)
                } else {
                    push.handle(curve: curve, wal: wal)
                }
                // A transition is on its way out: libzmq's I/O thread must run to send it.
                if alerting.evaluateChanges(receivedAt: state.alerts.isEmpty ? 0 : received) { yieldCPU() }
                // Waking the syncer only now keeps its thread off the CPU until the
                // batch's alerts are on the feed; the ACK waits for the sync either way.
                wal?.requestSync()
            case .control:
                // A request over a bound is dropped whole (its last kept frame is not it).
                guard !receiver.truncated else {
                    state.statistics.controlErrors += 1
                    continue
                }
                control.serve(
                    socket: socket,
                    access: endpoints.access(socket, curve: curve),
                    turn: ControlHandler.Turn(wal: wal, vitals: vitals),
                    history: history,
                    reload: { reloadConfiguration() }
                )
            case .walSync, .history:
                return
            }
        }
    }

    /// Gives the CPU away: whatever the scheduler queued behind this thread on its CPU
    /// runs first — often libzmq's I/O thread carrying an ACK or an alert out, woken
    /// onto this CPU beside its waker, where it would wait until this thread blocks or
    /// its slice ends (~3 ms; perf sched showed alerts queued 2 ms behind batches while
    /// the other CPU sat idle). The one place the engine thread yields.
    private func yieldCPU() {
        sched_yield()
    }

    private func tick(now: Int64) {
        let feed = endpoints.feed
        publisher.publishDue(now: now, state: state, feed: feed)
        alerting.tickIfDue(now: now)
        if let wal { keeper.checkpointIfDue(now: now, wal: wal, replies: replies) }
        if vitals.heartbeatIfDue(now: now, state: state, feed: feed) { systemd?.notify("STATUS=\(statusLine)") }
        // WATCHDOG=1 from this thread only: a missing ping means the engine is stuck.
        watchdog.pingIfDue(systemd)
        state.statistics.feedMessages = feed.published
    }

    /// Re-reads the configuration file (``ConfigReloader``) and rebinds what changed.
    func reloadConfiguration() -> ConfigReloader.Outcome {
        systemd?.reloading()
        let outcome = ConfigReloader(
            state: state,
            endpoints: endpoints,
            keeper: keeper,
            applier: applier,
            peers: peers,
            zap: zap,
            history: history
        ).reload()
        if !outcome.endpointChanges.isEmpty {
            replies.adopt(endpoints.ingest + endpoints.control)
            rebuildPoller()
        }
        systemd?.notify("READY=1\nSTATUS=\(outcome.ok ? "reloaded" : "reload refused"); \(statusLine)")
        return outcome
    }

    /// Registers every open socket, in dispatch order: ingest, push, control, the log's
    /// notification descriptor, the history socket.
    private func rebuildPoller() {
        pollGeneration &+= 1
        poller = Poller()
        pollRoles = []
        for (role, sockets) in [
            (Role.ingest, endpoints.ingest), (.push, endpoints.push), (.control, endpoints.control),
        ] {
            for socket in sockets where !socket.isClosed {
                poller.register(socket)
                pollRoles.append((role, socket))
            }
        }
        if let wal {
            poller.register(fileDescriptor: wal.notificationFD)
            pollRoles.append((.walSync, nil))
        }
        if let socket = history?.socket {
            poller.register(socket)
            pollRoles.append((.history, socket))
        }
    }

    /// Stops: makes what the log holds durable (its replies go out, history reads it),
    /// stops the services in reverse order of start (checkpoint writer, history, the
    /// log, notifiers, ZAP), writes the final checkpoint and closes the sockets.
    func close() {
        if let wal, storageFailure == nil {
            do {
                let durable = try wal.flushAndWaitUntilDurable()
                state.statistics.repliesDropped += replies.release(upTo: durable, producers: &state.producers)
            } catch {
                state.logger.error("flushing the write-ahead log failed", metadata: ["error": "\(error)"])
            }
        }
        services.stopAll()
        // After a sync failure nothing more is written: recovery starts from the log.
        if let wal, storageFailure == nil {
            keeper.finalCheckpoint(wal: wal, historyPosition: history?.position ?? .max)
        }
        // The ACKs and replies released above go out before the context terminates
        // (bounded: a peer that vanished holds the stop at most this long).
        endpoints.close(replyLinger: 1_000)
    }

    var statusLine: String { state.statusLine(ingestRate: vitals.ingestRate) }
}
