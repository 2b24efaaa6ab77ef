import Foundation
import Logging
import VigieConfig
import VigieCore
import VigieProcess
import VigieStore
import ZeroMQ

/// The engine thread: owns every socket it polls and all KPI state.
///
/// Created on the engine thread and never shared (sockets are not `Sendable`). One turn
/// of `run` polls the sockets, drains ready messages (receive → parse → apply in place,
/// reusing frames and scratch buffers), then publishes due KPI values and heartbeats.
final class EngineLoop {
    private(set) var bound: BoundEndpoints
    /// Set when the write-ahead log could not be synced: the loop stops, no checkpoint
    /// is written, and vigied exits non-zero so that systemd restarts it and recovery
    /// replays the log (a failed fdatasync may have dropped pages: never retried).
    private(set) var storageFailure: StoreError?
    private var configuration: VigieConfiguration
    private let logger: Logger
    private let clock: any WallClock

    private var ingestSockets: [Socket] = []
    private var pushSockets: [Socket] = []
    private var controlSockets: [Socket] = []
    /// Each configured ingest, push and control endpoint's socket, by "role endpoint"
    /// (a reload closes a removed endpoint's socket through this).
    private var socketsByEndpoint: [String: Socket] = [:]
    /// The endpoint of each control socket but the internal one (decides what its
    /// requests may do: ``controlAccess(_:curve:)``).
    private var controlEndpoints: [ObjectIdentifier: String] = [:]
    /// `ipc://<runtime_dir>/control.sock`: every op, bound at start and kept until stop.
    private let operatorEndpoint: String
    private let feed: FeedPublisher
    private var poller = Poller()
    private var pollRoles: [(role: Role, socket: Socket?)] = []
    /// Bumped whenever `poller` is rebuilt (a reload changed the endpoints).
    private var pollGeneration = 0

    private enum Role { case ingest, push, control, walSync, history }

    /// The history thread (rollups in SQLite, `history`/`events` queries), and the PAIR
    /// socket queries go through; `nil` when `[history] enabled = false` or the database
    /// could not be opened (`historyUnavailable` says why).
    private var history: HistoryRecorder?
    private var historySocket: Socket?
    private(set) var historyUnavailable: String?

    /// The write-ahead log: every accepted batch is appended and flushed before it is
    /// applied; its ACK waits in `pending` until the log is durable past it. `nil` until
    /// `recover()` ran.
    private var wal: WALWriter?
    private var pending = PendingReplies()
    /// Sockets replies are held for: ingest sockets, then control sockets.
    private var replySockets: [Socket] = []
    /// The `[daemon] state_dir` layout.
    let walDirectory: String
    /// What recovery found (for `stats` and the log).
    private(set) var recoverySummary = RecoverySummary()

    private(set) var engine: KPIEngine
    /// KPIs with alert rules (tracked for `takeChangedForAlerts`).
    private var watchedKPIs: Set<Int>
    /// Writes checkpoints off the engine thread; `nil` until `recover()` ran.
    private var checkpointWriter: CheckpointWriter?
    private let checkpointStore: CheckpointStore
    /// WAL position of the last checkpoint written or submitted.
    private var checkpointLSN: UInt64 = 0
    private var nextCheckpointAt: Int64 = .max
    private(set) var alerts: AlertCoordinator
    private var nextAlertTick: Int64
    private var parser: LineProtocolParser
    private var producers = ByteKeyTable<AntiReplayWindow>(capacity: 256)
    /// The ZAP handler admitting CURVE clients (`[security] curve = true`), else nil.
    let zap: ZAPHandler?
    /// Sockets that are CURVE servers: their peers' producer ids are scoped by the
    /// authenticated name, and lines outside the key's prefixes are rejected.
    private var curveSockets: Set<ObjectIdentifier> = []
    /// Allowed metric prefixes by authenticated name (empty list: any metric).
    private var keyPrefixes = ByteKeyTable<[[UInt8]]>(capacity: 16)
    /// Scratch for "name 0x1F producer id", the producer key of a CURVE peer.
    private var scopedProducer: [UInt8] = []
    /// Payload frames of the current message with lines outside the peer's prefixes
    /// commented out (`#`), by frame index, when `frameFiltered[f]`; reused buffers.
    private var filteredFrames: [[UInt8]] = []
    private var frameFiltered: [Bool] = []
    /// Some `frameFiltered` entry is set (cleared before each message).
    private var anyFrameFiltered = false
    var statistics = DaemonStatistics()
    /// Receipt of a breaching sample → its alert on the feed (`stats`, `/metrics`).
    private(set) var alertLatency = AlertLatency()
    /// Monotonic time the message now being evaluated for alerts was received; 0 outside.
    private var alertReceipt: UInt64 = 0
    let startedAt: Int64
    /// When the running configuration was read (start, or the last reload applied).
    private(set) var configurationLoadedAt: Int64
    private let startedMonotonic: UInt64

    /// Reused receive frames; grows to the largest message's frame count.
    private var frames: [Message] = (0..<8).map { _ in Message() }
    private var ackWriter = JSONWriter(capacity: 2_048)
    private var lineErrors: [LineProtocolError] = []

    private var nextHeartbeat: Int64
    private var nextPublishCheck: Int64
    /// The last loop turn kept the CPU for at least `longTurn`.
    private var yieldBeforePoll = false
    /// When the current stretch of work began (monotonic ns; 0 outside a turn).
    private var workingSince: UInt64 = 0
    private var lastRateAt: Int64
    private var lastRateAccepted: UInt64 = 0
    private(set) var ingestRate: Double = 0
    private lazy var control = ControlHandler(loop: self)

    /// Most frames accepted in one ingest request (envelope included).
    static let maxFrames = 4_096
    /// Set by `receiveMessage`: the message's frames added up to more than
    /// `[ingest] max_message_size` bytes, and the rest was discarded.
    private var messageTooLarge = false
    /// Series (of window groups) taken per slice when publishing; slices go on while
    /// `publishTimeBudget` lasts, so a second in which thousands of series changed does
    /// not stall acknowledgments or alerts (each turn also serves the sockets).
    private static let publishSlice = 16
    /// Time spent publishing per loop turn at most (then the sockets are served), ns.
    private static let publishTimeBudget: UInt64 = 250_000
    /// A loop turn this long (ns) yields the CPU before the next poll.
    private static let longTurn: UInt64 = 200_000
    /// Messages drained from one socket before polling again (fairness).
    private static let drainBudget = 512

    private let context: ZMQContext
    /// systemd notifications (watchdog pings and status) from this thread; nil when not
    /// under systemd.
    private let systemd: SystemdNotifier?
    /// The Prometheus view (`metrics` op, for the `[http]` listener); nil without one.
    let metrics: DaemonMetrics?
    /// When the producers without a batch since start were restored (checkpoint, log
    /// replay): their idle time for eviction counts from here.
    private var producersRestoredAt: Int64 = 0
    /// Time of the last batch of each producer (by its `producers` slot), ns; reset when
    /// the producer table is restored (start, reload).
    private(set) var producerLastSeen: [Int64] = []
    /// ACKs held for each producer (by its `producers` slot) until the log is durable;
    /// at most `[ingest] max_in_flight`.
    private var producerInFlight: [Int32] = []
    /// Reused list of the producer slots whose ACKs one release sent.
    private var releasedScratch: [Int] = []
    /// Watchdog pings, on the monotonic clock (the wall clock may be a test's manual clock).
    private var watchdog = SystemdNotifier.WatchdogClock()

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
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        let now = clock.now()
        self.startedAt = now
        self.configurationLoadedAt = now
        self.startedMonotonic = monotonicNanoseconds()
        self.parser = LineProtocolParser(limits: configuration.ingest.lineProtocolLimits)
        self.engine = KPIEngine(kpis: configuration.kpis, timeZone: configuration.daemon.timeZone, now: now)
        engine.maxTotalSeries = configuration.ingest.maxSeriesTotal
        let alerts = AlertCoordinator(
            rules: configuration.alerts,
            timeZone: configuration.daemon.timeZone,
            now: now,
            logger: logger,
            store: InMemoryOperatorActionStore(),
            notifiers: NotifierDispatcher(
                configurations: configuration.notifiers,
                stateDirectory: configuration.daemon.stateDir,
                logger: logger
            )
        )
        self.alerts = alerts
        let watched = Set(
            configuration.kpis.indices.filter { alerts.evaluator.watches(kpi: configuration.kpis[$0].name) }
        )
        engine.trackChanges(forKPIs: watched)
        self.watchedKPIs = watched
        self.checkpointStore = CheckpointStore(directory: configuration.daemon.stateDir + "/checkpoints")
        self.operatorEndpoint = configuration.operatorControlEndpoint
        self.nextAlertTick = now + 1_000_000_000
        self.nextHeartbeat = now + configuration.daemon.heartbeatInterval
        self.nextPublishCheck = now
        self.lastRateAt = now

        // ZAP first: libzmq asks it from the first CURVE handshake on.
        if configuration.security.curve {
            let zap = ZAPHandler(context: context, keys: configuration.security.authorized, logger: logger)
            try zap.start()
            self.zap = zap
        } else {
            self.zap = nil
        }
        scopedProducer.reserveCapacity(256)
        keyPrefixes = Self.prefixTable(configuration.security.authorized)

        var bound = BoundEndpoints()
        var opened: [Socket] = []
        do {
            for endpoint in configuration.endpoints.ingest {
                let socket = try Self.bindSocket(.ingest, endpoint, context: context, configuration: configuration)
                opened.append(socket)
                bound.ingest.append(try socket.lastEndpoint)
                ingestSockets.append(socket)
                socketsByEndpoint["ingest \(endpoint)"] = socket
            }
            for endpoint in configuration.endpoints.push {
                let socket = try Self.bindSocket(.push, endpoint, context: context, configuration: configuration)
                opened.append(socket)
                bound.push.append(try socket.lastEndpoint)
                pushSockets.append(socket)
                socketsByEndpoint["push \(endpoint)"] = socket
            }
            let feedSocket = try context.makeSocket(.pub)
            opened.append(feedSocket)
            let feedHWM = Int32(clamping: configuration.endpoints.feedHighWaterMark)
            try feedSocket.setSendHighWaterMark(feedHWM)
            try feedSocket.setLinger(0)
            // CURVE is a socket option: CURVE feed endpoints get a PUB socket of their own.
            var curveFeed: Socket?
            if configuration.security.curve {
                let socket = try context.makeSocket(.pub)
                opened.append(socket)
                try socket.setSendHighWaterMark(feedHWM)
                try socket.setLinger(0)
                try Self.makeCurveServer(socket, configuration.security)
                curveFeed = socket
            }
            for endpoint in configuration.endpoints.feed {
                let socket = configuration.security.requiresCurve(endpoint) ? (curveFeed ?? feedSocket) : feedSocket
                try EndpointsConfiguration.prepareIPCDirectory(endpoint)
                try socket.bind(endpoint)
                bound.feed.append(try socket.lastEndpoint)
            }
            // The operator socket first: `bound.control[0]` allows every op.
            try RuntimeDirectory.prepare(configuration.daemon.runtimeDir)
            let operatorSocket = try Self.bindSocket(
                .control,
                operatorEndpoint,
                context: context,
                configuration: configuration
            )
            opened.append(operatorSocket)
            // Connecting needs write permission on the socket file: the daemon's group
            // gets it whatever the umask (the 0750 directory keeps others out).
            let socketPath = String(operatorEndpoint.dropFirst("ipc://".count))
            guard chmod(socketPath, 0o770) == 0 else {
                throw DaemonError(message: "cannot set mode 0770 on \(socketPath): \(String(cString: strerror(errno)))")
            }
            bound.control.append(try operatorSocket.lastEndpoint)
            controlSockets.append(operatorSocket)
            controlEndpoints[ObjectIdentifier(operatorSocket)] = operatorEndpoint
            for endpoint in Self.configuredControl(configuration.endpoints, operatorEndpoint)
                + (internalControl.map { [$0] } ?? [])
            {
                let socket = try Self.bindSocket(.control, endpoint, context: context, configuration: configuration)
                opened.append(socket)
                if endpoint != internalControl {
                    bound.control.append(try socket.lastEndpoint)
                    socketsByEndpoint["control \(endpoint)"] = socket
                    controlEndpoints[ObjectIdentifier(socket)] = endpoint
                }
                controlSockets.append(socket)
            }
            self.feed = FeedPublisher(
                socket: feedSocket,
                curveSocket: curveFeed,
                epoch: FeedPublisher.makeEpoch(now: now)
            )
        } catch {
            for socket in opened { socket.close(linger: 0) }
            zap?.stop()
            throw error
        }
        for socket in ingestSockets + pushSockets + controlSockets where (try? socket.curveServer) == true {
            curveSockets.insert(ObjectIdentifier(socket))
        }
        self.bound = bound
        self.walDirectory = configuration.daemon.stateDir + "/wal"
        replySockets = ingestSockets + controlSockets
        for socket in ingestSockets {
            poller.register(socket)
            pollRoles.append((.ingest, socket))
        }
        for socket in pushSockets {
            poller.register(socket)
            pollRoles.append((.push, socket))
        }
        for socket in controlSockets {
            poller.register(socket)
            pollRoles.append((.control, socket))
        }
        alerts.notifiers.start()
        wireTransitions(alerts)
    }

    /// Each transition, right after it went out on the feed: its latency (when a
    /// received sample caused it), then the log record for history.
    private func wireTransitions(_ coordinator: AlertCoordinator) {
        coordinator.onTransition = { [unowned self] message in
            if self.alertReceipt != 0 { self.recordAlertLatency(monotonicNanoseconds() &- self.alertReceipt) }
            self.logAlertTransition(message, now: self.clock.now())
        }
    }

    /// A socket of `role` (ingest ROUTER, push PULL or control ROUTER) bound to `endpoint`.
    private static func bindSocket(
        _ role: Role,
        _ endpoint: String,
        context: ZMQContext,
        configuration: VigieConfiguration
    ) throws -> Socket {
        let socket = try context.makeSocket(role == .push ? .pull : .router)
        do {
            switch role {
            case .ingest:
                try socket.setRouterMandatory(true)
                try socket.setRouterHandover(true)
                try socket.setMaxMessageSize(configuration.ingest.maxMessageSize)
            case .push:
                try socket.setMaxMessageSize(configuration.ingest.maxMessageSize)
            default:
                try socket.setMaxMessageSize(Int64(configuration.endpoints.controlMaxRequest))
            }
            try socket.setLinger(0)
            if configuration.security.requiresCurve(endpoint) {
                try makeCurveServer(socket, configuration.security)
            }
            try EndpointsConfiguration.prepareIPCDirectory(endpoint)
            try socket.bind(endpoint)
        } catch {
            socket.close(linger: 0)
            throw error
        }
        return socket
    }

    /// Makes `socket` a CURVE server with the daemon's key, authenticated by the ZAP handler.
    private static func makeCurveServer(_ socket: Socket, _ security: SecurityConfiguration) throws {
        guard let secret = security.serverCertificate?.secretKey else {
            throw DaemonError(message: "[security] curve = true but no secret key was loaded")
        }
        try socket.setCurveServer(true)
        try socket.setCurveSecretKey(secret)
        try socket.setZAPDomain(ZAPHandler.domain)
    }

    /// Allowed metric prefixes by key name, for the ingest path.
    private static func prefixTable(_ keys: AuthorizedKeys) -> ByteKeyTable<[[UInt8]]> {
        var table = ByteKeyTable<[[UInt8]]>(capacity: max(16, keys.keys.count))
        for key in keys.keys {
            _ = Array(key.name.utf8).withUnsafeBytes { table.insert($0, value: key.prefixes.map { Array($0.utf8) }) }
        }
        return table
    }

    /// `[endpoints] control` without the operator socket (bound on its own, kept across reloads).
    private static func configuredControl(_ endpoints: EndpointsConfiguration, _ operatorEndpoint: String) -> [String] {
        endpoints.control.filter { $0 != operatorEndpoint }
    }

    /// What a request on control `socket` may do: a CURVE socket's key decides; an ipc
    /// socket (the operator socket, guarded by its directory) allows every op; plain TCP
    /// allows what `[security] tcp_control` says; the internal inproc socket (`/metrics`)
    /// only reads.
    private func controlAccess(_ socket: Socket, curve: Bool) -> ControlHandler.Access {
        if curve { return .byKey }
        guard let endpoint = controlEndpoints[ObjectIdentifier(socket)] else { return .readOnly(endpoint: "inproc") }
        switch configuration.security.controlAccess(plainEndpoint: endpoint) {
        case .operator: return .all
        case .readOnly: return .readOnly(endpoint: endpoint)
        }
    }

    /// Binds the endpoints `next` adds and closes those it removes, for ingest, push,
    /// control and the feed; unchanged endpoints keep their sockets and peers. All new
    /// binds happen first: if one fails, the new sockets are closed and nothing changes.
    /// Replies still held for a closed socket are dropped (its peers are gone anyway).
    ///
    /// - Returns: what changed, e.g. `bound ingest ipc:///run/vigie/ingest2.sock`.
    private func rebind(to next: EndpointsConfiguration) throws -> [String] {
        let old = configuration.endpoints
        let oldControl = Self.configuredControl(old, operatorEndpoint)
        let nextControl = Self.configuredControl(next, operatorEndpoint)
        var changes: [String] = []
        var added: [(Role, String, Socket)] = []
        var feedBound: [(endpoint: String, resolved: String)] = []
        do {
            for (role, before, after) in [
                (Role.ingest, old.ingest, next.ingest), (.push, old.push, next.push),
                (.control, oldControl, nextControl),
            ] {
                for endpoint in after where !before.contains(endpoint) {
                    let socket = try Self.bindSocket(role, endpoint, context: context, configuration: configuration)
                    added.append((role, endpoint, socket))
                }
            }
            for endpoint in next.feed where !old.feed.contains(endpoint) {
                let socket = feed.socket(curve: configuration.security.requiresCurve(endpoint))
                try EndpointsConfiguration.prepareIPCDirectory(endpoint)
                try socket.bind(endpoint)
                feedBound.append((endpoint, try socket.lastEndpoint))
            }
        } catch {
            for (_, _, socket) in added { socket.close(linger: 0) }
            for entry in feedBound {
                try? feed.socket(curve: configuration.security.requiresCurve(entry.endpoint)).unbind(entry.resolved)
            }
            throw error
        }
        // Close what was removed: sockets stay in their arrays (closed) so the indices
        // held replies and history queries refer to remain valid.
        for (role, before, after) in [
            (Role.ingest, old.ingest, next.ingest), (.push, old.push, next.push), (.control, oldControl, nextControl),
        ] {
            for endpoint in before where !after.contains(endpoint) {
                if let socket = socketsByEndpoint.removeValue(forKey: "\(role) \(endpoint)") {
                    controlEndpoints.removeValue(forKey: ObjectIdentifier(socket))
                    socket.close(linger: 0)
                }
                changes.append("closed \(role) \(endpoint)")
            }
        }
        for (index, endpoint) in old.feed.enumerated() where !next.feed.contains(endpoint) {
            try? feed.socket(curve: configuration.security.requiresCurve(endpoint))
                .unbind(index < bound.feed.count ? bound.feed[index] : endpoint)
            changes.append("closed feed \(endpoint)")
        }
        for (role, endpoint, socket) in added {
            socketsByEndpoint["\(role) \(endpoint)"] = socket
            if (try? socket.curveServer) == true { curveSockets.insert(ObjectIdentifier(socket)) }
            switch role {
            case .ingest:
                ingestSockets.append(socket)
                replySockets.append(socket)
            case .push: pushSockets.append(socket)
            default:
                controlSockets.append(socket)
                replySockets.append(socket)
                controlEndpoints[ObjectIdentifier(socket)] = endpoint
            }
            changes.append("bound \(role) \(endpoint)")
        }
        for entry in feedBound { changes.append("bound feed \(entry.endpoint)") }
        // Each role's endpoints in the configured order, as resolved (wildcard ports).
        func resolved(_ endpoints: [String], _ before: [String], _ earlier: [String]) -> [String] {
            endpoints.compactMap { endpoint in
                if let index = before.firstIndex(of: endpoint), index < earlier.count { return earlier[index] }
                if let entry = feedBound.first(where: { $0.endpoint == endpoint }) { return entry.resolved }
                return added.first { $0.1 == endpoint }.flatMap { try? $0.2.lastEndpoint }
            }
        }
        bound.ingest = resolved(next.ingest, old.ingest, bound.ingest)
        bound.push = resolved(next.push, old.push, bound.push)
        bound.feed = resolved(next.feed, old.feed, bound.feed)
        bound.control =
            Array(bound.control.prefix(1)) + resolved(nextControl, oldControl, Array(bound.control.dropFirst()))
        rebuildPoller()
        return changes
    }

    /// Registers every open socket again, in `run`'s order: ingest, push, control, the
    /// log's notification descriptor, the history socket.
    private func rebuildPoller() {
        pollGeneration &+= 1
        poller = Poller()
        pollRoles = []
        for (role, sockets) in [(Role.ingest, ingestSockets), (.push, pushSockets), (.control, controlSockets)] {
            for socket in sockets where !socket.isClosed {
                poller.register(socket)
                pollRoles.append((role, socket))
            }
        }
        if let wal {
            poller.register(fileDescriptor: wal.notificationFD)
            pollRoles.append((.walSync, nil))
        }
        if let historySocket {
            poller.register(historySocket)
            pollRoles.append((.history, historySocket))
        }
    }

    // MARK: - Reload

    /// What a reload did, for the `reload` reply and the log.
    struct ReloadOutcome {
        var errors: [String] = []
        /// KPIs by what happened to their state.
        var kept: [String] = []
        var restarted: [String] = []
        var added: [String] = []
        var removed: [String] = []
        var rules = 0
        var notifiersReplaced = false
        /// Endpoints bound and closed, e.g. `bound ingest ipc:///run/vigie/ingest2.sock`.
        var endpointChanges: [String] = []
        /// Settings that changed in the file but take effect only at the next start.
        var needsRestart: [String] = []
        var ok: Bool { errors.isEmpty }
    }

    /// Re-reads the configuration file and applies what changed, on this thread (SIGHUP
    /// and the `reload` op both land here). An invalid file changes nothing: every error
    /// is logged and returned. A valid one replaces KPIs, alert rules and notifiers:
    /// the state is carried over through the checkpoint codec, so KPIs (and rules) whose
    /// definition is unchanged keep their windows (and alert states), changed ones start
    /// empty, removed ones are dropped; acks, silences and producers' sequence numbers are
    /// kept. Endpoints added to `[endpoints]` are bound and removed ones closed;
    /// `[daemon]`, `[history]` and `[http]` changes are reported and wait for a restart.
    func reloadConfiguration() -> ReloadOutcome {
        var outcome = ReloadOutcome()
        systemd?.reloading()
        defer { systemd?.notify("READY=1\nSTATUS=\(outcome.ok ? "reloaded" : "reload refused"); \(statusLine)") }
        guard let path = configuration.sourcePath else {
            outcome.errors = ["this daemon was not started from a configuration file"]
            return outcome
        }
        let loaded: VigieConfiguration
        do {
            loaded = try ConfigLoader.load(path: path)
        } catch {
            outcome.errors = (error as? ConfigErrors)?.errors.map(\.description) ?? ["\(error)"]
            statistics.reloadsRefused += 1
            for message in outcome.errors {
                logger.error("reload refused: keeping the running configuration", metadata: ["error": "\(message)"])
            }
            return outcome
        }
        var next = loaded
        var daemon = next.daemon
        // --state-dir and --runtime-dir override the file.
        daemon.stateDir = configuration.daemon.stateDir
        daemon.runtimeDir = configuration.daemon.runtimeDir
        daemon.acceptStateLoss = configuration.daemon.acceptStateLoss
        if daemon != configuration.daemon { outcome.needsRestart.append("[daemon]") }
        if next.history != configuration.history { outcome.needsRestart.append("[history]") }
        if next.http != configuration.http { outcome.needsRestart.append("[http]") }
        next.daemon = configuration.daemon
        next.history = configuration.history
        next.http = configuration.http
        // CURVE itself needs a restart (sockets are CURVE servers or not from their
        // creation); the authorized keys are taken at once.
        if next.endpoints.feedHighWaterMark != configuration.endpoints.feedHighWaterMark
            || next.endpoints.controlMaxRequest != configuration.endpoints.controlMaxRequest
        {
            outcome.needsRestart.append("[endpoints] feed_hwm/control_max_request")
            next.endpoints.feedHighWaterMark = configuration.endpoints.feedHighWaterMark
            next.endpoints.controlMaxRequest = configuration.endpoints.controlMaxRequest
        }
        var security = configuration.security
        if next.security.curve != security.curve || next.security.curveOnLoopback != security.curveOnLoopback
            || next.security.serverCertificate != security.serverCertificate
        {
            outcome.needsRestart.append("[security]")
        }
        security.authorizedKeysDirectory = next.security.authorizedKeysDirectory
        security.authorized = next.security.authorized
        security.grants = next.security.grants
        security.tcpControl = next.security.tcpControl
        security.unmatchedGrants = next.security.unmatchedGrants
        next.security = security
        if next.endpoints != configuration.endpoints {
            do {
                outcome.endpointChanges = try rebind(to: next.endpoints)
            } catch {
                outcome.errors = ["[endpoints]: \(error); nothing was changed"]
                statistics.reloadsRefused += 1
                logger.error("reload refused: an endpoint could not be bound", metadata: ["error": "\(error)"])
                return outcome
            }
        }

        let previous = configuration
        let oldKPIs = Dictionary(previous.kpis.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newNames = Set(next.kpis.map(\.name))
        for kpi in next.kpis {
            switch oldKPIs[kpi.name] {
            case nil: outcome.added.append(kpi.name)
            case let old? where old == kpi: outcome.kept.append(kpi.name)
            case _?: outcome.restarted.append(kpi.name)
            }
        }
        outcome.removed = previous.kpis.map(\.name).filter { !newNames.contains($0) }
        outcome.rules = next.alerts.count

        let state = encodeCheckpoint()
        outcome.notifiersReplaced = next.notifiers != previous.notifiers
        install(next, replacingNotifiers: outcome.notifiersReplaced)
        do {
            try restore(checkpoint: state)
        } catch {
            // Cannot happen (this process just encoded it); go back to what ran before.
            logger.error(
                "reload could not carry the state over; keeping the old configuration",
                metadata: ["error": "\(error)"]
            )
            install(previous, replacingNotifiers: outcome.notifiersReplaced)
            try? restore(checkpoint: state)
            outcome.errors = ["the running state could not be carried over (\(error)); nothing changed"]
            return outcome
        }
        history?.reconfigure(kpis: next.kpis)
        statistics.reloads += 1
        for warning in next.warnings { logger.warning("\(warning)") }
        configurationLoadedAt = clock.now()
        logger.notice(
            "configuration reloaded",
            metadata: [
                "file": "\(path)", "kpis_kept": "\(outcome.kept.count)", "kpis_restarted": "\(outcome.restarted.count)",
                "kpis_added": "\(outcome.added.count)", "kpis_removed": "\(outcome.removed.count)",
                "rules": "\(outcome.rules)", "needs_restart": "\(outcome.needsRestart.joined(separator: " "))",
            ]
        )
        return outcome
    }

    /// Makes `next` the running configuration with fresh engine and alert state (the
    /// caller restores the carried-over state); acks and silences stay in their store.
    private func install(_ next: VigieConfiguration, replacingNotifiers: Bool) {
        let now = clock.now()
        configuration = next
        parser = LineProtocolParser(limits: next.ingest.lineProtocolLimits)
        let notifiers: NotifierDispatcher
        if replacingNotifiers {
            // Running notifications finish on their own; never wait for them here.
            alerts.notifiers.stop(timeout: 0)
            notifiers = NotifierDispatcher(
                configurations: next.notifiers,
                stateDirectory: next.daemon.stateDir,
                logger: logger
            )
            notifiers.start()
        } else {
            notifiers = alerts.notifiers
        }
        let coordinator = AlertCoordinator(
            rules: next.alerts,
            timeZone: next.daemon.timeZone,
            now: now,
            logger: logger,
            store: alerts.store,
            notifiers: notifiers
        )
        wireTransitions(coordinator)
        alerts = coordinator
        zap?.replace(next.security.authorized)
        keyPrefixes = Self.prefixTable(next.security.authorized)
        watchedKPIs = Set(next.kpis.indices.filter { coordinator.evaluator.watches(kpi: next.kpis[$0].name) })
        resetState()
    }

    /// Replays the write-ahead log into the engine, then opens the log for appending.
    /// Call once, on the engine thread, before `run`; a failure is fatal (the daemon must
    /// not acknowledge anything it cannot log).
    func recover() throws {
        try FileManager.default.createDirectory(
            atPath: configuration.daemon.stateDir,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o750]
        )
        let started = monotonicNanoseconds()
        let before = recoverySummary.problems.count
        let from = restoreNewestCheckpoint()
        if recoverySummary.checkpointLSN == nil {
            try checkStateCanBeRebuilt(checkpointProblems: Array(recoverySummary.problems[before...]))
        }
        let report = try WALRecovery.recover(directory: walDirectory, from: from) { record in
            replay(record)
        }
        for problem in report.problems {
            logger.error("write-ahead log damaged", metadata: ["problem": "\(problem)"])
        }
        let policy: WALSyncPolicy
        switch configuration.daemon.fsync {
        case .batch: policy = .batch(intervalNanoseconds: UInt64(configuration.daemon.fsyncInterval))
        case .always: policy = .always
        case .off: policy = .off
        }
        // A checkpoint can cover log bytes that never reached the disk (it is synced, the
        // log may not have been): continue after both.
        var observer: (@Sendable (UInt64) -> Void)?
        if let metrics { observer = { metrics.recordFsync(nanoseconds: $0) } }
        let writer = try WALWriter(
            directory: walDirectory,
            startLSN: max(report.endLSN, from),
            syncPolicy: policy,
            syncObserver: observer
        )
        wal = writer
        checkpointLSN = from
        nextCheckpointAt = clock.now() + configuration.daemon.checkpointInterval
        startHistory()
        let store = checkpointStore
        let recorder = history
        checkpointWriter = CheckpointWriter(
            store: store,
            walDirectory: walDirectory,
            logger: logger,
            retainFrom: {
                // Keep what the oldest checkpoint and the history thread still need.
                min(store.list().first ?? 0, recorder?.position.load(ordering: .acquiring) ?? .max)
            }
        )
        poller.register(fileDescriptor: writer.notificationFD)
        pollRoles.append((.walSync, nil))
        recoverySummary.walRecords = report.records
        recoverySummary.walBytes = report.bytes
        recoverySummary.problems = report.problems
        recoverySummary.seconds = Double(monotonicNanoseconds() - started) / 1e9
        logger.info(
            "recovered",
            metadata: [
                "checkpoint_lsn": "\(recoverySummary.checkpointLSN.map(String.init) ?? "none")",
                "wal_records": "\(report.records)", "wal_bytes": "\(report.bytes)",
                "samples": "\(statistics.samplesReplayed)",
                "seconds": "\(String(format: "%.3f", recoverySummary.seconds))",
            ]
        )
    }

    /// Opens the history database and starts its thread; without it the daemon still
    /// ingests, alerts and publishes (history queries then say why they cannot answer).
    private func startHistory() {
        guard configuration.history.enabled else {
            historyUnavailable = "history is disabled ([history] enabled = false)"
            return
        }
        do {
            let recorder = try HistoryRecorder(configuration: configuration, walDirectory: walDirectory, logger: logger)
            let socket = try context.makeSocket(.pair)
            try socket.setLinger(0)
            try socket.bind(recorder.endpoint)
            poller.register(socket)
            pollRoles.append((.history, socket))
            historySocket = socket
            history = recorder
            recorder.publish(durable: wal?.durableLSN ?? 0)
            recorder.start(context: context)
        } catch {
            historyUnavailable = "history unavailable: \(error)"
            logger.error("history unavailable: running without it", metadata: ["error": "\(error)"])
        }
    }

    /// Forwards a `history`/`events` request to the history thread; its reply comes back
    /// on the PAIR socket and goes out on control socket `socket`.
    func forwardToHistory(_ socket: Socket, envelope: Range<Int>, frames: [Message], request: [UInt8]) -> String? {
        guard let historySocket else { return historyUnavailable ?? "history is not available" }
        guard let index = controlSockets.firstIndex(where: { $0 === socket }) else { return "unknown control socket" }
        do {
            // The first frame decides: a PAIR with no room (or no peer) takes none of the
            // message; once it takes the first frame it takes the rest.
            guard try historySocket.send(String(index), more: true, dontWait: true) else {
                return "the history thread is busy; retry"
            }
            for f in envelope {
                try frames[f].withUnsafeBytes { _ = try historySocket.send($0, more: true, dontWait: true) }
            }
            try request.withUnsafeBytes { _ = try historySocket.send($0, more: false, dontWait: true) }
            return nil
        } catch {
            return "the history thread is busy (\(error)); retry"
        }
    }

    /// Replies from the history thread: control socket index, envelope…, body.
    private func drainHistoryReplies(_ socket: Socket) {
        while let reply = try? socket.receiveMultipart(dontWait: true) {
            guard reply.count >= 2, let index = Int(reply[0].string), index >= 0, index < controlSockets.count
            else { continue }
            let target = controlSockets[index]
            do {
                for (i, frame) in reply.enumerated().dropFirst() {
                    try frame.withUnsafeBytes { _ = try target.send($0, more: i < reply.count - 1, dontWait: true) }
                }
            } catch {
                statistics.repliesDropped += 1
            }
        }
    }

    /// Restores the newest checkpoint that reads back and decodes (falling back to older
    /// ones, saying why); returns the WAL position to replay from (0 without one).
    private func restoreNewestCheckpoint() -> UInt64 {
        var problems: [String] = []
        for lsn in checkpointStore.list().reversed() {
            let path = checkpointStore.directory + "/" + CheckpointStore.fileName(lsn: lsn)
            do {
                let loaded = try checkpointStore.load(path: path)
                try restore(checkpoint: loaded.payload)
                recoverySummary.checkpointLSN = loaded.lsn
                recoverySummary.problems += problems
                for problem in problems {
                    logger.error("checkpoint skipped: fell back to an older one", metadata: ["problem": "\(problem)"])
                }
                return loaded.lsn
            } catch {
                problems.append("\(path): \(error)")
                resetState()
            }
        }
        for problem in problems {
            logger.error("checkpoint unusable: replaying the whole log", metadata: ["problem": "\(problem)"])
        }
        recoverySummary.problems += problems
        return 0
    }

    /// Without a usable checkpoint, the log alone rebuilds the state only if it still
    /// starts at LSN 0. Otherwise KPI windows and producers' sequence numbers are lost,
    /// and a batch a producer resends would be counted twice: refuse to start, unless
    /// the operator accepted the loss (`vigied --accept-state-loss`).
    private func checkStateCanBeRebuilt(checkpointProblems: [String]) throws {
        let oldest = (try? WALSegments.list(directory: walDirectory))?.first?.startLSN
        let logIsWhole = oldest.map { $0 == 0 } ?? checkpointProblems.isEmpty
        guard !logIsWhole else { return }
        let what =
            checkpointProblems.isEmpty
            ? "no checkpoint in \(checkpointStore.directory)"
            : "every checkpoint is unusable (\(checkpointProblems.joined(separator: "; ")))"
        let log = oldest.map { "the log starts at LSN \($0), not 0" } ?? "the log is empty"
        let problem =
            "\(what) and \(log): the KPI windows and the producers' sequence numbers cannot be rebuilt, "
            + "and batches that producers resend would be counted twice"
        guard configuration.daemon.acceptStateLoss else {
            throw DaemonError(
                message: problem
                    + "; restore the checkpoints from a backup, or start once with vigied --accept-state-loss"
            )
        }
        logger.critical("starting without the saved state (--accept-state-loss)", metadata: ["problem": "\(problem)"])
        recoverySummary.problems.append("state lost: \(problem)")
    }

    /// Fresh, empty engine state (after a checkpoint that failed to decode half-way).
    private func resetState() {
        engine = KPIEngine(kpis: configuration.kpis, timeZone: configuration.daemon.timeZone, now: clock.now())
        engine.maxTotalSeries = configuration.ingest.maxSeriesTotal
        engine.trackChanges(forKPIs: watchedKPIs)
        producers = ByteKeyTable<AntiReplayWindow>(capacity: 256)
        producerLastSeen = []
        producerInFlight = []
        producersRestoredAt = clock.now()
    }

    /// Checkpoint payload format version.
    private static let checkpointFormat: UInt8 = 1

    /// The whole engine state: KPI windows, alert states, operator actions, producer
    /// sequence numbers and the feed sequence, as length-prefixed sections.
    private func encodeCheckpoint() -> [UInt8] {
        var out = BinaryWriter(capacity: 1 << 20)
        out.writeUInt8(Self.checkpointFormat)
        out.writeInt64(clock.now())
        out.writeUInt64(feed.sequence)
        var section = BinaryWriter(capacity: 1 << 20)
        engine.encodeState(into: &section)
        out.writeBytes(section.bytes)
        section.removeAll()
        alerts.evaluator.encodeState(into: &section)
        out.writeBytes(section.bytes)
        section.removeAll()
        (alerts.store as? InMemoryOperatorActionStore)?.encodeState(into: &section)
        out.writeBytes(section.bytes)
        section.removeAll()
        producers.encodeState(into: &section)
        out.writeBytes(section.bytes)
        return out.bytes
    }

    private func restore(checkpoint payload: [UInt8]) throws {
        try payload.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let format = try reader.readUInt8()
            guard format == Self.checkpointFormat else {
                throw BinaryDecodingError(offset: 0, reason: "unknown checkpoint payload format \(format)")
            }
            _ = try reader.readInt64()
            let feedSequence = try reader.readUInt64()
            var engineSection = BinaryReader(try reader.readBytes())
            let alertSection = try reader.readBytes()
            let actionSection = try reader.readBytes()
            var producerSection = BinaryReader(try reader.readBytes())
            let restoredProducers = try ByteKeyTable<AntiReplayWindow>(restoringStateFrom: &producerSection)
            let report = try engine.restoreState(from: &engineSection)
            producers = restoredProducers
            producerLastSeen = []
            producerInFlight = []
            producersRestoredAt = clock.now()
            if !alertSection.isEmpty {
                var r = BinaryReader(alertSection)
                let alertReport = try alerts.evaluator.restoreState(from: &r)
                if !alertReport.droppedRules.isEmpty {
                    logger.notice(
                        "alert states dropped (rule changed or removed)",
                        metadata: ["rules": "\(alertReport.droppedRules.joined(separator: ", "))"]
                    )
                }
            }
            if !actionSection.isEmpty, let store = alerts.store as? InMemoryOperatorActionStore {
                var r = BinaryReader(actionSection)
                try store.restoreState(from: &r)
            }
            feed.resume(after: feedSequence)
            if !report.droppedGroups.isEmpty || !report.emptyKPIs.isEmpty {
                logger.notice(
                    "KPI state dropped (definition changed)",
                    metadata: [
                        "kpis": "\(report.emptyKPIs.joined(separator: ", "))",
                        "groups": "\(report.droppedGroups.count)",
                    ]
                )
            }
        }
    }

    /// Starts a checkpoint when one is due (interval or log bytes) and none is being
    /// written: the state is encoded here, written by the checkpoint thread.
    private func checkpointIfDue(now: Int64) {
        guard let wal, let writer = checkpointWriter, !writer.isBusy else { return }
        let logged = wal.flushedLSN &- checkpointLSN
        guard logged > 0 else { return }
        guard now >= nextCheckpointAt || Int64(logged) >= configuration.daemon.checkpointWALBytes else { return }
        evictProducers(now: now, makeRoom: false)
        let payload = encodeCheckpoint()
        if writer.submit(lsn: wal.flushedLSN, payload: payload, currentSegment: wal.currentSegmentStartLSN) {
            checkpointLSN = wal.flushedLSN
            nextCheckpointAt = now + configuration.daemon.checkpointInterval
        }
    }

    /// Re-applies one logged record as it was applied the first time (same receive time).
    private func replay(_ record: WALRecord) {
        statistics.recordsReplayed += 1
        switch record.kind {
        case .ingest:
            // Every logged batch was applied once when it came (duplicates are never
            // logged): apply it again whatever the window says. After an eviction the
            // same producer id and sequence may come back as a new batch, logged too.
            if ByteKeyTable<AntiReplayWindow>.canKeep(record.producer) {
                let index =
                    producers.index(of: record.producer) ?? producers.insert(record.producer, value: AntiReplayWindow())
                producers[index].markApplied(record.sequence)
            }
            replayFrames(record)
        case .push:
            replayFrames(record)
        case .operatorAction:
            let problem =
                record.frameCount == 1
                ? control.replay(request: record.frame(0), at: record.receivedAt)
                : "\(record.frameCount) frames instead of 1"
            if let problem {
                // Never fatal: the daemon starts without it, and says so.
                statistics.recordsSkipped += 1
                logger.error(
                    "logged operator action skipped",
                    metadata: ["problem": "\(problem)", "received_at": "\(record.receivedAt)"]
                )
            }
        case .alertTransition, .none:
            break
        }
    }

    private func replayFrames(_ record: WALRecord) {
        var nextLine = 1
        for f in 0..<record.frameCount {
            let result = applyPayload(
                record.frame(f),
                firstLine: nextLine,
                now: record.receivedAt,
                collectErrors: false
            )
            nextLine = result.nextLine
            statistics.samplesReplayed += UInt64(result.accepted)
        }
    }

    /// Loops until `shouldStop` returns true (checked at least every 100 ms).
    func run(until shouldStop: () -> Bool, reloadRequested: () -> Bool = { false }) {
        while !shouldStop() {
            if reloadRequested() { _ = reloadConfiguration() }
            let now = clock.now()
            // Rounded up: a deadline 0.4 ms away waits 1 ms rather than spinning on
            // zero-timeout polls until it passes.
            let wait = (max(0, min(nextHeartbeat, nextPublishCheck, nextAlertTick) - now) + 999_999) / 1_000_000
            do {
                if yieldBeforePoll {
                    // The last turn ran long (a publishing backlog, a burst of batches):
                    // let whatever the scheduler queued behind this thread on its CPU run
                    // first — often libzmq's I/O thread carrying an alert or ACK out —
                    // rather than keep the CPU for the scheduler's whole slice (~3 ms).
                    sched_yield()
                }
                let ready = try poller.poll(timeoutMilliseconds: Int(min(wait, 100)))
                workingSince = monotonicNanoseconds()
                if ready > 0 {
                    let generation = pollGeneration
                    for (index, entry) in pollRoles.enumerated() where poller.isReadable(at: index) {
                        // A reload rebound the sockets: what was ready is polled again.
                        guard generation == pollGeneration else { break }
                        if let socket = entry.socket {
                            if entry.role == .history {
                                drainHistoryReplies(socket)
                            } else {
                                drain(socket, role: entry.role)
                            }
                        } else {
                            wal?.drainNotification()
                            // The syncer signals a failure too; read it only then (a lock).
                            if storageFailure == nil, let failure = wal?.syncFailure { storageFailure = failure }
                        }
                    }
                }
                releaseDurableReplies()
                if let history, let wal { history.publish(durable: wal.durableLSN) }
                if let failure = storageFailure {
                    logger.critical(
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
                logger.error("poll failed", metadata: ["error": "\(error)"])
            }
            tick(now: clock.now())
            yieldBeforePoll = workingSince > 0 && monotonicNanoseconds() &- workingSince >= Self.longTurn
            workingSince = 0
        }
    }

    /// Closes every socket (linger 0: replies not yet sent are dropped, nothing accepted is).
    func close() {
        checkpointWriter?.stop()
        if let wal {
            do {
                try wal.close()
                releaseDurableReplies()
            } catch {
                logger.error("closing the write-ahead log failed", metadata: ["error": "\(error)"])
            }
            // History takes what it has read, then stops (a backlog waits for the next start).
            if let history {
                history.publish(durable: wal.durableLSN)
                history.stop()
            }
            // A clean stop leaves a checkpoint of everything: the next start replays nothing.
            // After a sync failure, nothing more is written: recovery starts from the log.
            if storageFailure == nil, wal.flushedLSN > checkpointLSN {
                do {
                    try checkpointStore.write(lsn: wal.flushedLSN, payload: encodeCheckpoint())
                    let keepFrom = min(
                        checkpointStore.list().first ?? 0,
                        history?.position.load(ordering: .acquiring) ?? .max
                    )
                    try WALSegments.deleteSegments(
                        directory: walDirectory,
                        before: keepFrom,
                        keeping: wal.currentSegmentStartLSN
                    )
                } catch {
                    logger.error("final checkpoint failed", metadata: ["error": "\(error)"])
                }
            }
        }
        historySocket?.close(linger: 0)
        // The ACKs and replies released above go out before the context terminates
        // (bounded: a peer that vanished holds the stop at most this long).
        for socket in ingestSockets + controlSockets { socket.close(linger: 1_000) }
        for socket in pushSockets { socket.close(linger: 0) }
        feed.close()
        zap?.stop()
        alerts.notifiers.stop()
    }

    // MARK: - Periodic work

    private func tick(now: Int64) {
        if now >= nextPublishCheck {
            engine.advance(to: now)
            let interval = configuration.daemon.publishInterval
            // Small slices until the time budget is spent: a quantile value merges a
            // window's sketches (tens of µs), so a count budget alone could hold the
            // sockets for milliseconds.
            let started = monotonicNanoseconds()
            var full = false
            while true {
                let due = engine.takeDue(now: now, interval: interval, limit: Self.publishSlice)
                for value in due {
                    feed.publishKPI(alerts.withAlertStatus(value))
                }
                guard due.count >= Self.publishSlice else { break }
                if monotonicNanoseconds() - started >= Self.publishTimeBudget {
                    // More are due: come back at once, after the sockets.
                    full = true
                    break
                }
            }
            nextPublishCheck = full ? now : now + max(min(interval, 100_000_000), 10_000_000)
        }
        if now >= nextAlertTick, !alerts.isEmpty {
            engine.advance(to: now)
            alerts.evaluate(engine.takeChangedForAlerts(now: now), now: now, feed: feed)
            alerts.tick(now: now, feed: feed)
            nextAlertTick = now + 1_000_000_000
        }
        checkpointIfDue(now: now)
        if now >= nextHeartbeat {
            let elapsed = Double(now - lastRateAt) / 1e9
            if elapsed > 0 {
                ingestRate = Double(statistics.samplesAccepted - lastRateAccepted) / elapsed
            }
            lastRateAt = now
            lastRateAccepted = statistics.samplesAccepted
            feed.publishHeartbeat(now: now, uptimeSeconds: uptimeSeconds, ingestRate: ingestRate)
            nextHeartbeat = now + configuration.daemon.heartbeatInterval
            systemd?.notify("STATUS=\(statusLine)")
        }
        pingWatchdog()
        statistics.feedMessages = feed.published
    }

    /// `WATCHDOG=1` every half `WATCHDOG_USEC`, from this thread only: the loop wakes at
    /// least every 100 ms, so a missing ping means the engine is stuck (systemd then
    /// kills and restarts the service).
    private func pingWatchdog() {
        watchdog.pingIfDue(systemd)
    }

    /// systemd's one-line status: ingest rate and alerts.
    var statusLine: String {
        let counts = alerts.stateCounts(now: clock.now())
        return String(
            format: "%.0f samples/s, %d alerts firing, %d pending, %llu rejected since start",
            ingestRate,
            counts.firing,
            counts.pending,
            statistics.samplesRejected
        )
    }

    var uptimeSeconds: Double {
        Double(monotonicNanoseconds() - startedMonotonic) / 1e9
    }

    var feedSequence: UInt64 { feed.sequence }
    /// Records producer slot `index`'s last batch time (grows once per new producer).
    private func noteSeen(producer index: Int, at now: Int64) {
        while producerLastSeen.count <= index { producerLastSeen.append(0) }
        producerLastSeen[index] = now
    }

    /// Replies waiting for the log to become durable.
    var heldReplies: Int { pending.count }
    /// The producers table, for the metrics view.
    var producerTable: ByteKeyTable<AntiReplayWindow> { producers }
    /// What makes the daemon unhealthy (`/healthz`): a failed log sync, a log that
    /// cannot take writes. Empty when healthy.
    var healthProblems: [String] {
        var problems: [String] = []
        if let failure = wal?.syncFailure { problems.append("write-ahead log sync failed: \(failure)") }
        if wal == nil { problems.append("recovering") }
        return problems
    }
    var feedPublisher: FeedPublisher { feed }
    var configurationForControl: VigieConfiguration { configuration }

    /// The daemon clock's current time.
    func now() -> Int64 { clock.now() }
    var epoch: String { feed.epoch }

    /// Evaluates the rules on every watched KPI series the last message changed, right
    /// after its ACK: an alert reaches the feed within the same loop turn. `receivedAt`
    /// (monotonic) is when that message was received, for ``alertLatency``.
    private func evaluateAlerts(receivedAt: UInt64) {
        guard !alerts.isEmpty else { return }
        let now = clock.now()
        let changed = engine.takeChangedForAlerts(now: now)
        guard !changed.isEmpty else { return }
        alertReceipt = receivedAt
        defer { alertReceipt = 0 }
        let before = feed.published
        alerts.evaluate(changed, now: now, feed: feed)
        if feed.published != before {
            // A transition is on its way out: libzmq's I/O thread must run to send it. It
            // was just woken, often onto this CPU (the scheduler places a wakee beside its
            // waker), where it would wait until this thread blocks or its slice ends —
            // perf sched showed it queued up to 2 ms behind the next batches while the
            // other CPU sat idle. Rare (transitions only), so one syscall is nothing.
            sched_yield()
        }
    }

    private func recordAlertLatency(_ nanoseconds: UInt64) {
        alertLatency.record(nanoseconds: nanoseconds)
        metrics?.recordAlertLatency(nanoseconds: nanoseconds)
    }

    // MARK: - Receiving

    private func drain(_ socket: Socket, role: Role) {
        let curve = !curveSockets.isEmpty && curveSockets.contains(ObjectIdentifier(socket))
        for _ in 0..<Self.drainBudget {
            let count: Int
            do {
                guard let n = try receiveMessage(from: socket) else { return }
                count = n
            } catch let error as ZMQError where error.kind == .terminated {
                return
            } catch {
                logger.warning("receive failed", metadata: ["error": "\(error)"])
                return
            }
            // A long drain (a backlog of batches) gives the CPU away now and then, so an
            // I/O thread queued behind this one (bringing the next message in, or an
            // ACK or alert out) is not held for the scheduler's whole slice.
            let received = monotonicNanoseconds()
            if workingSince > 0, received &- workingSince >= Self.longTurn {
                sched_yield()
                workingSince = monotonicNanoseconds()
            }
            let receivedAt = alerts.isEmpty ? 0 : received
            switch role {
            case .ingest:
                handleIngest(socket: socket, frameCount: count, curve: curve)
                evaluateAlerts(receivedAt: receivedAt)
                // Waking the syncer only now keeps its thread off the CPU until the
                // batch's alerts are on the feed; the ACK waits for the sync either way.
                wal?.requestSync()
            case .push:
                handlePush(frameCount: count, curve: curve)
                evaluateAlerts(receivedAt: receivedAt)
                wal?.requestSync()
            case .control:
                // A request over a bound is dropped whole (its last kept frame is not it).
                guard count >= 0 else {
                    statistics.controlErrors += 1
                    continue
                }
                control.handle(
                    socket: socket,
                    frames: frames,
                    frameCount: count,
                    access: controlAccess(socket, curve: curve)
                )
            case .walSync, .history: return
            }
        }
    }

    /// Receives one multipart message into `frames`; `nil` when nothing is waiting.
    /// Frames beyond `maxFrames`, or once the frames kept add up to more than
    /// `[ingest] max_message_size` bytes (libzmq bounds each frame, not their sum), are
    /// received and discarded; the count is then negative, and `messageTooLarge` says
    /// which bound it was.
    private func receiveMessage(from socket: Socket) throws -> Int? {
        var n = 0
        var overflow = false
        var bytes: Int64 = 0
        messageTooLarge = false
        while true {
            if n == frames.count { frames.append(Message()) }
            let slot = overflow ? frames[n - 1] : frames[n]
            let got = try socket.receive(into: slot, dontWait: n == 0)
            if !got {
                if n == 0 { return nil }
                continue
            }
            if !overflow {
                n += 1
                bytes += Int64(slot.count)
            }
            if !slot.hasMore { break }
            if !overflow, bytes > configuration.ingest.maxMessageSize {
                overflow = true
                messageTooLarge = true
            }
            if n >= Self.maxFrames { overflow = true }
        }
        return overflow ? -n : n
    }

    // MARK: - Acknowledged ingest

    private func handleIngest(socket: Socket, frameCount: Int, curve: Bool) {
        let n = abs(frameCount)
        guard n >= 1 else { return }
        let bodyStart = VGI1Request.bodyStart(frameCount: n, secondFrameIsEmpty: n > 1 && frames[1].count == 0)
        if messageTooLarge {
            statistics.limitHits.messageBytes += 1
            return replyError(
                socket,
                bodyStart: bodyStart,
                "message larger than \(configuration.ingest.maxMessageSize) bytes in all ([ingest] max_message_size): "
                    + "send smaller batches"
            )
        }
        // The frames stay untouched until the decision is made: reading them in place is safe.
        let request = VGI1Request.decode(
            frameCount: n,
            truncated: frameCount < 0,
            bodyStart: bodyStart,
            limit: Self.maxFrames
        ) { frames[$0].unsafeBytes }
        if case .invalid(let refusal) = request {
            if case .tooManyFrames = refusal { statistics.limitHits.framesPerMessage += 1 }
            return replyError(socket, bodyStart: bodyStart, refusal.message)
        }
        // A CURVE peer's producer id lives under its authenticated name (DESIGN.md).
        var prefixes: [[UInt8]] = []
        if curve, let refusal = authenticatedProducerKey(bodyStart: bodyStart, prefixes: &prefixes) {
            return replyError(socket, bodyStart: bodyStart, refusal)
        }
        switch request {
        case .push(let sequence):
            handlePushRequest(
                socket: socket,
                bodyStart: bodyStart,
                frameCount: n,
                sequence: sequence,
                curve: curve,
                prefixes: prefixes
            )
        case .hello: handleHello(socket: socket, bodyStart: bodyStart, curve: curve)
        case .invalid: break
        }
    }

    /// Fills `scopedProducer` with "User-Id 0x1F producer id" for a CURVE peer, and
    /// `prefixes` with its key's allowed metric prefixes; returns why not (no User-Id, a
    /// key a reload removed) or nil.
    private func authenticatedProducerKey(bodyStart: Int, prefixes: inout [[UInt8]]) -> String? {
        scopedProducer.removeAll(keepingCapacity: true)
        let refusal = withAuthenticatedPeer(frames[bodyStart]) { name, allowed in
            scopedProducer.append(contentsOf: name)
            prefixes = allowed
        }
        if let refusal { return refusal }
        scopedProducer.append(0x1F)
        frames[bodyStart + 2].withUnsafeBytes { scopedProducer.append(contentsOf: $0) }
        return nil
    }

    /// Calls `body` with the authenticated name (ZAP User-Id) of `frame`'s connection and
    /// its key's allowed metric prefixes (empty: any). Returns why it did not: the frame
    /// has no User-Id, or the key is no longer authorized (a reload removed it: its
    /// connections made before stay open, and get nothing through).
    private func withAuthenticatedPeer(
        _ frame: Message,
        _ body: (_ name: UnsafeRawBufferPointer, _ prefixes: [[UInt8]]) -> Void
    ) -> String? {
        frame.withMetadata("User-Id") { name in
            guard let name, name.count > 0 else { return "no authenticated identity on this connection" }
            guard let index = keyPrefixes.index(of: name) else {
                statistics.revokedKeyMessages += 1
                return "key \(JSONText.quoted(String(decoding: name, as: UTF8.self))) is no longer authorized"
            }
            body(name, keyPrefixes[index])
            return nil
        }
    }

    /// Calls `body` with the producer table key: the id as sent, or the scoped one.
    private func withProducerKey<R>(
        bodyStart: Int,
        curve: Bool,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        curve ? try scopedProducer.withUnsafeBytes(body) : try frames[bodyStart + 2].withUnsafeBytes(body)
    }

    /// Forgets producers with nothing in flight that were idle `[ingest] producer_idle`;
    /// with `makeRoom` and none such, the least recently seen of those idle at least
    /// `producerEvictionFloor` (a 64th of the table at most, one at least). With `among`,
    /// only producers it picks are considered (one CURVE key's). The arrays kept by
    /// producer slot and the held replies' tags follow the renumbering.
    private func evictProducers(now: Int64, makeRoom: Bool, among: ((Int) -> Bool)? = nil) {
        let count = producers.count
        guard count > 0 else { return }
        func idle(_ index: Int) -> Int64 {
            let seen =
                index < producerLastSeen.count && producerLastSeen[index] > 0
                ? producerLastSeen[index] : producersRestoredAt
            return now &- seen
        }
        func busy(_ index: Int) -> Bool {
            (index < producerInFlight.count && producerInFlight[index] > 0) || !(among?(index) ?? true)
        }
        var evict = [Bool](repeating: false, count: count)
        var any = false
        for index in 0..<count where !busy(index) && idle(index) >= configuration.ingest.producerIdle {
            evict[index] = true
            any = true
        }
        if !any && makeRoom {
            let floor = configuration.ingest.producerEvictionFloor
            let oldest = (0..<count).filter { !busy($0) && idle($0) >= floor }
                .sorted { idle($0) > idle($1) }
                .prefix(max(1, count / 64))
            for index in oldest {
                evict[index] = true
                any = true
            }
        }
        guard any else { return }
        let mapping = producers.remove { evict[$0] }
        var seen: [Int64] = []
        var inFlight: [Int32] = []
        seen.reserveCapacity(producers.count)
        inFlight.reserveCapacity(producers.count)
        for (old, new) in mapping.enumerated() where new != nil {
            seen.append(old < producerLastSeen.count ? producerLastSeen[old] : 0)
            inFlight.append(old < producerInFlight.count ? producerInFlight[old] : 0)
        }
        producerLastSeen = seen
        producerInFlight = inFlight
        pending.renumberTags { mapping[$0] ?? -1 }
        let evicted = count - producers.count
        statistics.producersEvicted += UInt64(evicted)
        logger.info("idle producers forgotten", metadata: ["count": "\(evicted)", "left": "\(producers.count)"])
    }

    /// Why the CURVE key in `scopedProducer` may not start another producer, or nil. At
    /// its limit, the key's own idle producers make room first, as the table's do.
    private func keyProducerLimit() -> String? {
        guard let separator = scopedProducer.firstIndex(of: 0x1F) else { return nil }
        let prefix = Array(scopedProducer[...separator])
        func ofKey(_ index: Int) -> Bool { producers.key(at: index).starts(with: prefix) }
        func count() -> Int { (0..<producers.count).count(where: ofKey) }
        let limit = configuration.ingest.maxProducersPerKey
        if count() >= limit { evictProducers(now: clock.now(), makeRoom: true, among: ofKey) }
        guard count() >= limit else { return nil }
        let name = String(decoding: scopedProducer[..<separator], as: UTF8.self)
        return "too many producers for key \(JSONText.quoted(name)) (limit \(limit)); reuse a stable producer id"
    }

    private func handleHello(socket: Socket, bodyStart: Int, curve: Bool) {
        let producer = frames[bodyStart + 2]
        let highest =
            withProducerKey(bodyStart: bodyStart, curve: curve) { key in
                producers.index(of: key).map { producers[$0].highest }
            } ?? 0
        // The producer may forget what WELCOME reports applied: only once it is durable.
        holdReply(socket, bodyStart: bodyStart, position: wal?.flushedLSN ?? 0) { reply in
            reply.appendFrame(VGI1.magic)
            reply.appendFrame(VGI1.welcome)
            producer.withUnsafeBytes { reply.appendFrame($0) }
            reply.appendFrame(Array(String(highest).utf8))
        }
    }

    /// A decoded `PUSH` (``VGI1Request``): producer id and payload frames are checked.
    private func handlePushRequest(
        socket: Socket,
        bodyStart: Int,
        frameCount: Int,
        sequence: UInt64,
        curve: Bool,
        prefixes: [[UInt8]]
    ) {
        let producer = frames[bodyStart + 2]
        var slot = withProducerKey(bodyStart: bodyStart, curve: curve) { producers.index(of: $0) }
        if slot == nil {
            if curve, let problem = keyProducerLimit() {
                statistics.limitHits.producersPerKey += 1
                return replyError(socket, bodyStart: bodyStart, problem)
            }
            if producers.count >= configuration.ingest.maxProducers {
                evictProducers(now: clock.now(), makeRoom: true)
            }
            guard producers.count < configuration.ingest.maxProducers else {
                statistics.limitHits.producers += 1
                return replyError(
                    socket,
                    bodyStart: bodyStart,
                    "too many producers (limit \(configuration.ingest.maxProducers), each heard from in the last "
                        + "\(DurationFormat.format(nanoseconds: configuration.ingest.producerEvictionFloor))); "
                        + "retry later, or reuse a stable producer id"
                )
            }
            slot = withProducerKey(bodyStart: bodyStart, curve: curve) {
                producers.insert($0, value: AntiReplayWindow())
            }
        }
        guard let index = slot else { return }
        while producerInFlight.count <= index { producerInFlight.append(0) }
        guard producerInFlight[index] < configuration.ingest.maxInFlight else {
            statistics.limitHits.inFlight += 1
            return replyError(
                socket,
                bodyStart: bodyStart,
                "too many batches in flight (limit \(configuration.ingest.maxInFlight)): wait for ACKs, then resend"
            )
        }
        switch producers[index].verdict(for: sequence) {
        case .tooOld:
            return replyError(socket, bodyStart: bodyStart, "sequence too old")
        case .duplicate:
            statistics.batchesDuplicate += 1
            statistics.batchesAcked += 1
            VGI1.encodeAck(accepted: 0, rejected: 0, duplicate: true, errors: [], into: &ackWriter)
            return holdAck(
                socket,
                bodyStart: bodyStart,
                producer: producer,
                sequenceFrame: frames[bodyStart + 3],
                position: wal?.flushedLSN ?? 0,
                producerSlot: index
            )
        case .fresh:
            break
        }
        let now = clock.now()
        // Log first: a batch the log cannot take is refused whole, nothing applied.
        guard let wal else { return replyError(socket, bodyStart: bodyStart, "vigied is not ready (recovering)") }
        lineErrors.removeAll(keepingCapacity: true)
        clearFilteredFrames()
        let outside = prefixes.isEmpty ? 0 : filterPrefixes(prefixes, frames: (bodyStart + 4)..<frameCount)
        statistics.samplesRejected += UInt64(outside)
        do {
            try withProducerKey(bodyStart: bodyStart, curve: curve) {
                try wal.beginRecord(kind: .ingest, receivedAt: now, sequence: sequence, producer: $0)
            }
            for f in (bodyStart + 4)..<frameCount {
                try withPayload(f) { try wal.appendFrame($0) }
            }
            wal.endRecord()
            try wal.flush()
        } catch {
            return refuseForStorage(socket, bodyStart: bodyStart, error)
        }
        // The sync request waits until the batch's alerts are out (see drain).
        let position = wal.flushedLSN
        var accepted = 0
        var rejected = outside
        var nextLine = 1
        for f in (bodyStart + 4)..<frameCount {
            let result = withPayload(f) {
                applyPayload($0, firstLine: nextLine, now: now, collectErrors: true)
            }
            accepted += result.accepted
            rejected += result.rejected
            nextLine = result.nextLine
        }
        producers[index].markApplied(sequence)
        noteSeen(producer: index, at: now)
        statistics.batchesAcked += 1
        if outside > 0 { lineErrors.sort { $0.line < $1.line } }
        VGI1.encodeAck(accepted: accepted, rejected: rejected, duplicate: false, errors: lineErrors, into: &ackWriter)
        holdAck(
            socket,
            bodyStart: bodyStart,
            producer: producer,
            sequenceFrame: frames[bodyStart + 3],
            position: position,
            producerSlot: index
        )
    }

    /// Answers ERR to a batch the write-ahead log could not take (nothing applied).
    private func refuseForStorage(_ socket: Socket, bodyStart: Int, _ error: any Error) {
        statistics.walWriteErrors += 1
        statistics.batchesRefusedStorage += 1
        let full = (error as? StoreError)?.isOutOfSpace == true
        logger.error(
            full ? "disk full: refusing ingest" : "write-ahead log write failed: refusing ingest",
            metadata: ["error": "\(error)"]
        )
        replyError(
            socket,
            bodyStart: bodyStart,
            "write-ahead log unavailable (\(full ? "disk full" : "write failed")): batch not accepted, retry later"
        )
    }

    /// Parses `payload` in place and applies every accepted line.
    private func applyPayload(
        _ bytes: UnsafeRawBufferPointer,
        firstLine: Int,
        now: Int64,
        collectErrors: Bool
    ) -> (accepted: Int, rejected: Int, nextLine: Int) {
        let policy = configuration.ingest.policy
        var accepted = 0
        var rejected = 0
        let summary =
            parser.parse(bytes, firstLineNumber: firstLine) { line in
                if let rejection = policy.rejection(
                    lineNumber: line.lineNumber,
                    timestamp: line.timestamp,
                    receivedAt: now
                ) {
                    rejected += 1
                    if case .tooManyLines = rejection { statistics.limitHits.linesPerBatch += 1 }
                    if collectErrors { recordLineError(line.lineNumber, rejection.reason) }
                    return
                }
                engine.apply(line, receivedAt: now, now: now)
                accepted += 1
            } onError: { error in
                rejected += 1
                if let limit = error.limit { statistics.limitHits.count(limit) }
                if collectErrors, lineErrors.count < VGI1.maxListedErrors { lineErrors.append(error) }
            }
        statistics.samplesAccepted += UInt64(accepted)
        statistics.samplesRejected += UInt64(rejected)
        return (accepted, rejected, summary.nextLineNumber)
    }

    private func recordLineError(_ line: Int, _ reason: String) {
        if lineErrors.count < VGI1.maxListedErrors {
            lineErrors.append(LineProtocolError(line: line, column: 1, reason: reason))
        }
    }

    // MARK: - Fire-and-forget push

    private func handlePush(frameCount: Int, curve: Bool) {
        let n = abs(frameCount)
        statistics.pushMessages += 1
        guard frameCount >= 0 else {
            // Over a bound (frames, bytes): no reply to say so, and never a part of it.
            if messageTooLarge {
                statistics.limitHits.messageBytes += 1
            } else {
                statistics.limitHits.framesPerMessage += 1
            }
            statistics.framesInvalid += 1
            return
        }
        let now = clock.now()
        lineErrors.removeAll(keepingCapacity: true)
        clearFilteredFrames()
        if curve, n > 0 {
            var prefixes: [[UInt8]] = []
            guard withAuthenticatedPeer(frames[0], { _, allowed in prefixes = allowed }) == nil else { return }
            if !prefixes.isEmpty { statistics.samplesRejected += UInt64(filterPrefixes(prefixes, frames: 0..<n)) }
        }
        do {
            _ = try logRecord(kind: .push, at: now, requestingSync: false) { wal in
                for f in 0..<n { try withPayload(f) { try wal.appendFrame($0) } }
            }
        } catch {
            // Fire-and-forget has no reply: the message is dropped, counted and logged.
            statistics.walWriteErrors += 1
            logger.error("write-ahead log write failed: push message dropped", metadata: ["error": "\(error)"])
            return
        }
        var nextLine = 1
        for f in 0..<n {
            nextLine = withPayload(f) {
                applyPayload($0, firstLine: nextLine, now: now, collectErrors: false).nextLine
            }
        }
    }

    // MARK: - Metric prefixes of authenticated keys

    /// Calls `body` with payload frame `f` as received, or as filtered by ``filterPrefixes``.
    private func withPayload<R>(_ f: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if anyFrameFiltered, f < frameFiltered.count, frameFiltered[f] {
            return try filteredFrames[f].withUnsafeBytes(body)
        }
        return try frames[f].withUnsafeBytes(body)
    }

    private func clearFilteredFrames() {
        guard anyFrameFiltered else { return }
        for f in frameFiltered.indices { frameFiltered[f] = false }
        anyFrameFiltered = false
    }

    /// Takes every line of frames `range` whose metric starts with none of `prefixes`
    /// out of a copy of the frame (`PrefixFilter`): the log, the engine, replay and
    /// history then never see it, and line numbers stay those of the original. Each such
    /// line is rejected with a reason (listed in the ACK). Returns how many.
    private func filterPrefixes(_ prefixes: [[UInt8]], frames range: Range<Int>) -> Int {
        while frameFiltered.count < range.upperBound {
            frameFiltered.append(false)
            filteredFrames.append([])
        }
        var outside = 0
        var nextLine = 1
        for f in range {
            let (refused, next) = frames[f].withUnsafeBytes { payload in
                PrefixFilter.filter(
                    payload,
                    firstLineNumber: nextLine,
                    prefixes: prefixes,
                    parser: parser,
                    copy: &filteredFrames[f]
                ) { line in
                    statistics.samplesOutsidePrefixes += 1
                    recordLineError(
                        line.lineNumber,
                        "metric \"\(line.measurement.string)\" is outside this key's prefixes ("
                            + prefixes.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ", ") + ")"
                    )
                }
            }
            nextLine = next
            if refused > 0 {
                frameFiltered[f] = true
                anyFrameFiltered = true
                outside += refused
            }
        }
        return outside
    }

    // MARK: - Replies

    /// Holds the ACK in `ackWriter` until the log is durable up to `position`.
    private func holdAck(
        _ socket: Socket,
        bodyStart: Int,
        producer: Message,
        sequenceFrame: Message,
        position: UInt64,
        producerSlot: Int
    ) {
        producerInFlight[producerSlot] += 1
        holdReply(socket, bodyStart: bodyStart, position: position, tag: producerSlot) { reply in
            reply.appendFrame(VGI1.magic)
            reply.appendFrame(VGI1.ack)
            producer.withUnsafeBytes { reply.appendFrame($0) }
            sequenceFrame.withUnsafeBytes { reply.appendFrame($0) }
            ackWriter.bytes.withUnsafeBytes { reply.appendFrame($0) }
        }
    }

    /// Holds a reply (the routing envelope frames 0..<bodyStart, then what `body` adds)
    /// until the log is durable up to `position`; `.off` and already-durable positions
    /// go out at the end of the loop turn.
    private func holdReply(
        _ socket: Socket,
        bodyStart: Int,
        position: UInt64,
        tag: Int = -1,
        _ body: (inout PendingReplies) -> Void
    ) {
        guard let target = replySockets.firstIndex(where: { $0 === socket }) else {
            if tag >= 0 { producerInFlight[tag] -= 1 }
            return
        }
        pending.begin(position: position, socket: target, tag: tag)
        for f in 0..<bodyStart { frames[f].withUnsafeBytes { pending.appendFrame($0) } }
        body(&pending)
    }

    /// Holds a control reply (`envelope` frames, then `body`) until `position` is durable.
    func holdControlReply(_ socket: Socket, envelope: Range<Int>, frames: [Message], body: [UInt8], position: UInt64) {
        guard let target = replySockets.firstIndex(where: { $0 === socket }) else { return }
        pending.begin(position: position, socket: target)
        for f in envelope { frames[f].withUnsafeBytes { pending.appendFrame($0) } }
        pending.appendFrame(body)
    }

    /// Sends every held reply the log has made durable; checks the syncer's health.
    private func releaseDurableReplies() {
        guard let wal, !pending.isEmpty else { return }
        let durable = wal.durableLSN
        guard let oldest = pending.oldestPosition, oldest <= durable else { return }
        let sockets = replySockets
        var dropped: UInt64 = 0
        var releasedSlots: [Int] = []
        swap(&releasedSlots, &releasedScratch)  // reuse its storage: no copy, no allocation
        releasedSlots.removeAll(keepingCapacity: true)
        pending.release(
            upTo: durable,
            released: { releasedSlots.append($0) },
            { target, frame, more in
                do {
                    if try sockets[target].send(frame, more: more, dontWait: true) { return true }
                } catch {}
                dropped += 1
                return false
            }
        )
        statistics.repliesDropped += dropped
        for slot in releasedSlots where slot < producerInFlight.count && producerInFlight[slot] > 0 {
            producerInFlight[slot] -= 1
        }
        swap(&releasedSlots, &releasedScratch)
    }

    /// The `wal` member of `stats`: positions, held replies, what recovery found.
    func writeStorageStats(into writer: inout JSONWriter) {
        writer.key("wal")
        writer.beginObject()
        writer.key("directory")
        writer.string(walDirectory)
        writer.key("fsync")
        writer.string(configuration.daemon.fsync.rawValue)
        writer.key("flushed_lsn")
        writer.integer(wal?.flushedLSN ?? 0)
        writer.key("durable_lsn")
        writer.integer(wal?.durableLSN ?? 0)
        writer.key("replies_waiting")
        writer.integer(pending.count)
        writer.key("sync_failure")
        if let failure = wal?.syncFailure { writer.string("\(failure)") } else { writer.null() }
        writer.key("checkpoint_lsn")
        writer.integer(checkpointLSN)
        writer.key("checkpoints_written")
        writer.integer(checkpointWriter?.written.load(ordering: .relaxed) ?? 0)
        writer.key("checkpoint_errors")
        writer.integer(checkpointWriter?.failed.load(ordering: .relaxed) ?? 0)
        writer.key("last_checkpoint")
        if let last = checkpointWriter?.lastWritten {
            writer.beginObject()
            writer.key("lsn")
            writer.integer(last.lsn)
            writer.key("bytes")
            writer.integer(last.bytes)
            writer.key("at")
            writer.timestamp(nanoseconds: Int64(last.at.timeIntervalSince1970 * 1e9))
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("last_checkpoint_error")
        if let error = checkpointWriter?.lastError { writer.string(error) } else { writer.null() }
        writer.key("restored_checkpoint_lsn")
        if let lsn = recoverySummary.checkpointLSN { writer.integer(lsn) } else { writer.null() }
        writer.key("recovered_records")
        writer.integer(recoverySummary.walRecords)
        writer.key("recovery_seconds")
        writer.number((recoverySummary.seconds * 1000).rounded() / 1000)
        writer.key("recovery_problems")
        writer.beginArray()
        for problem in recoverySummary.problems { writer.string(problem) }
        writer.endArray()
        writer.endObject()
    }

    /// Appends an operator action (the control request as received) to the log and
    /// flushes it; returns the position its reply must wait for.
    func logOperatorAction(_ request: UnsafeRawBufferPointer, now: Int64) throws -> UInt64 {
        try logRecord(kind: .operatorAction, at: now) { try $0.appendFrame(request) }
    }

    /// Appends one record without a producer (push batches, operator actions, alert
    /// transitions: `frames` adds its frames), writes it and asks for a sync unless told
    /// not to (the caller then does); returns the log position its reply must wait for.
    private func logRecord(
        kind: WALRecordKind,
        at now: Int64,
        requestingSync: Bool = true,
        frames: (WALWriter) throws -> Void
    ) throws -> UInt64 {
        guard let wal else { throw DaemonError(message: "vigied is not ready (recovering)") }
        try wal.beginRecord(
            kind: kind,
            receivedAt: now,
            sequence: 0,
            producer: UnsafeRawBufferPointer(start: nil, count: 0)
        )
        try frames(wal)
        wal.endRecord()
        try wal.flush()
        if requestingSync { wal.requestSync() }
        return wal.flushedLSN
    }

    /// Appends an alert transition (its feed body) to the log, for the history's event
    /// log; a failure is logged, not fatal (the transition was already published).
    private func logAlertTransition(_ message: AlertFeedMessage, now: Int64) {
        guard wal != nil else { return }
        var body = JSONWriter(capacity: 512)
        message.encode(seq: feed.sequence, epoch: feed.epoch, into: &body)
        do {
            _ = try logRecord(kind: .alertTransition, at: now) { wal in
                try body.bytes.withUnsafeBytes { try wal.appendFrame($0) }
            }
        } catch {
            statistics.walWriteErrors += 1
            logger.warning("alert transition not logged to the WAL", metadata: ["error": "\(error)"])
        }
    }

    private func replyError(_ socket: Socket, bodyStart: Int, _ message: String) {
        statistics.framesInvalid += 1
        let body = VGI1.encodeError(message)
        sendReply(socket, bodyStart: bodyStart) { s in
            try s.send(VGI1.magic, more: true, dontWait: true)
            try s.send(VGI1.err, more: true, dontWait: true)
            try s.send(body, more: false, dontWait: true)
        }
    }

    /// Sends the routing envelope (frames 0..<bodyStart) then `body`; a peer that is gone
    /// or full only costs a counted drop.
    private func sendReply(_ socket: Socket, bodyStart: Int, _ body: (Socket) throws -> Void) {
        do {
            for f in 0..<bodyStart {
                let sent = try frames[f].withUnsafeBytes { try socket.send($0, more: true, dontWait: true) }
                if !sent {
                    statistics.repliesDropped += 1
                    return
                }
            }
            try body(socket)
        } catch {
            statistics.repliesDropped += 1
        }
    }
}

/// What startup recovery read and repaired.
struct RecoverySummary {
    var walRecords = 0
    var walBytes = 0
    var checkpointLSN: UInt64?
    var problems: [String] = []
    var seconds = 0.0
}
