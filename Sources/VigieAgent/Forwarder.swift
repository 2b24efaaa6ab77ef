import Foundation
import Logging
import Synchronization
import VigieConfig
import VigieCore
import VigieStore
import ZeroMQ

/// Forwards the spool to the daemon, exactly once, on its own thread with its own
/// DEALER socket (created on that thread).
///
/// Follows the spool with a ``WALTailReader`` up to the durable LSN the spool publishes
/// in ``SpoolShared``; sends each record as `VGI1 PUSH` (the agent's producer id, the
/// record's sequence number, the record's frames) with up to `window` in flight. On
/// every (re)connect it sends HELLO and skips records more than the daemon's anti-replay
/// window (1,024) below WELCOME's highest (the daemon would refuse them as too old; the
/// rest is resent and deduplicated). ACKs may come in any order; the acknowledged position is the end of the
/// highest *contiguous* acknowledged record, published back through ``SpoolShared``.
/// After `ackTimeout` without progress the socket is closed and recreated (libzmq does
/// not always reconnect a DEALER by itself), with exponential backoff and jitter, and
/// everything unacknowledged is resent in order (the daemon's dedupe answers
/// duplicates). ERR replies: transient ones (`not ready`, `write-ahead log
/// unavailable`, `too many producers`) back off and retry; any other is a malformed
/// batch, written to the dead-letter file and counted as acknowledged. ERR carries no
/// sequence number: after one, the forwarder sends nothing new until every batch in
/// flight is answered; those left unacknowledged are the refused ones.
public final class Forwarder: Sendable {
    private let configuration: AgentConfiguration
    private let shared: SpoolShared
    private let segmentDirectory: String
    private let deadLetterPath: String
    private let logger: Logger
    private let context: ZMQContext
    private let state = Mutex(ForwarderStatus())
    private let stopRequested = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)

    /// A forwarder for `spool` (not started).
    ///
    /// - Parameter context: the ZeroMQ context its socket is made from.
    public init(configuration: AgentConfiguration, spool: AgentSpool, context: ZMQContext, logger: Logger) {
        self.configuration = configuration
        shared = spool.shared
        segmentDirectory = spool.segmentDirectory
        deadLetterPath = (configuration.spool.directory as NSString).appendingPathComponent("dead-letter.log")
        self.logger = logger
        self.context = context
        let acked = spool.shared.ackedSequence.load(ordering: .relaxed)
        state.withLock { $0.ackedSequence = acked }
    }

    /// The dead-letter file, `spool.directory/dead-letter.log`.
    public var deadLetterFile: String { deadLetterPath }

    /// The current status (a copy).
    public var status: ForwarderStatus { state.withLock { $0 } }

    /// Starts the forwarding thread.
    public func start() {
        running.store(true, ordering: .releasing)
        let thread = Thread { [self] in
            nameCurrentThread("agent-forward")
            let loop = ForwarderLoop(
                configuration: configuration,
                shared: shared,
                segmentDirectory: segmentDirectory,
                deadLetters: DeadLetterLog(path: deadLetterPath),
                logger: logger,
                context: context,
                publish: { update in self.state.withLock { update(&$0) } },
                shouldStop: { self.stopRequested.load(ordering: .acquiring) }
            )
            loop.run()
            self.running.store(false, ordering: .releasing)
        }
        thread.start()
    }

    /// Asks the thread to stop and waits (up to `timeout` seconds) until it has closed
    /// its socket. Unacknowledged batches stay in the spool for the next run.
    public func stop(timeout: Double = 10) {
        stopRequested.store(true, ordering: .releasing)
        let deadline = Date().addingTimeInterval(timeout)
        while running.load(ordering: .acquiring), Date() < deadline { usleep(2_000) }
    }
}

/// The forwarding thread's state. Lives and dies on that thread.
final class ForwarderLoop {
    private struct Batch {
        var sequence: UInt64
        var lsn: UInt64
        var endLSN: UInt64
        var receivedAt: Int64
        var frames: [[UInt8]]
        var acked = false
    }

    private let configuration: AgentConfiguration
    private let shared: SpoolShared
    private let reader: WALTailReader
    private let deadLetters: DeadLetterLog
    private let logger: Logger
    private let context: ZMQContext
    private let publish: (_ update: (inout ForwarderStatus) -> Void) -> Void
    private let shouldStop: () -> Bool
    private let producer: [UInt8]

    private var socket: Socket?
    /// With CURVE: the PAIR socket receiving the upstream socket's handshake failures.
    private var monitor: Socket?
    private var monitors = 0
    private var helloSent = false
    /// The daemon's anti-replay window (DESIGN.md: 1,024 sequence numbers).
    private static let replayWindow: UInt64 = 1_024
    private var welcomed = false
    private var welcomeHighest: UInt64 = 0
    private var inFlight: [Batch] = []
    private var pending: Batch?
    private var ackedAhead: Set<UInt64> = []
    private var ackedLSN: UInt64
    private var ackedSequence: UInt64
    private var lastProgress: UInt64 = 0
    private var nextConnectAt: UInt64 = 0
    private var backoff: Int64
    /// Non-transient ERR messages not yet matched to the batches they refused.
    private var unattributedErrors: [String] = []
    private var reconnects = 0
    private var deadLetterCount = 0
    private var skippedTooOld = 0
    private var lastAckAt: Int64?
    private var lastError: String?

    init(
        configuration: AgentConfiguration,
        shared: SpoolShared,
        segmentDirectory: String,
        deadLetters: DeadLetterLog,
        logger: Logger,
        context: ZMQContext,
        publish: @escaping (_ update: (inout ForwarderStatus) -> Void) -> Void,
        shouldStop: @escaping () -> Bool
    ) {
        self.configuration = configuration
        self.shared = shared
        self.deadLetters = deadLetters
        self.logger = logger
        self.context = context
        self.publish = publish
        self.shouldStop = shouldStop
        producer = Array(shared.upstreamProducer.utf8)
        ackedLSN = shared.ackedLSN.load(ordering: .acquiring)
        ackedSequence = shared.ackedSequence.load(ordering: .acquiring)
        reader = WALTailReader(directory: segmentDirectory, from: ackedLSN)
        backoff = max(1_000_000, configuration.backoffInitial)
        deadLetterCount = deadLetters.count()
    }

    func run() {
        while !shouldStop() {
            let now = DispatchTime.now().uptimeNanoseconds
            if socket == nil {
                if now < nextConnectAt {
                    fill(sending: false)
                    publishStatus()
                    usleep(useconds_t(min(20_000, (nextConnectAt - now) / 1_000 + 1)))
                    continue
                }
                connect(now: now)
            }
            guard let socket else { continue }
            if handshakeRefused() { continue }
            if !helloSent {
                helloSent = send(socket, [VGI1.magic, VGI1.hello, producer])
            }
            fill(sending: welcomed)
            var poller = Poller()
            poller.register(socket, events: .pollIn)
            do {
                if try poller.poll(timeoutMilliseconds: 10) > 0 { receiveReplies(socket) }
            } catch {
                lastError = "poll: \(error)"
            }
            let waiting = !welcomed || pending != nil || !inFlight.isEmpty
            let after = DispatchTime.now().uptimeNanoseconds
            if waiting, after &- lastProgress > UInt64(max(1_000_000, configuration.ackTimeout)) {
                logger.warning(
                    "no answer from the daemon: reconnecting",
                    metadata: ["upstream": "\(configuration.upstream)", "in_flight": "\(inFlight.count)"]
                )
                reconnect(backingOff: true)
            }
            publishStatus()
        }
        socket?.close(linger: 0)
        socket = nil
        monitor?.close(linger: 0)
        monitor = nil
        publish { $0.connected = false }
    }

    // MARK: - Connection

    private func connect(now: UInt64) {
        do {
            let socket = try context.makeSocket(.dealer)
            try socket.setLinger(0)
            try socket.setImmediate(true)
            try socket.setSendHighWaterMark(Int32(clamping: max(16, configuration.window * 2)))
            try socket.setReconnectInterval(100)
            if let curve = configuration.upstreamCurve {
                try socket.setCurveClient(
                    serverKey: curve.serverPublicKey,
                    publicKey: curve.publicKey,
                    secretKey: curve.secretKey
                )
                // A refused key is final for this socket: watch for it, then back off.
                monitors += 1
                let endpoint = "inproc://vigie-agent-upstream-monitor-\(monitors)"
                try socket.startMonitor(
                    endpoint: endpoint,
                    events: [.handshakeFailedAuth, .handshakeFailedProtocol, .handshakeFailedNoDetail]
                )
                let pair = try context.makeSocket(.pair)
                try pair.setLinger(0)
                try pair.connect(endpoint)
                monitor = pair
            }
            try socket.connect(configuration.upstream)
            self.socket = socket
        } catch {
            lastError = "connect \(configuration.upstream): \(error)"
            logger.error("cannot create the upstream socket", metadata: ["error": "\(error)"])
            nextConnectAt = now + UInt64(backoff)
            return
        }
        helloSent = false
        welcomed = false
        lastProgress = now
    }

    /// True (and the socket recreated after a backoff) when the daemon refused this
    /// agent's CURVE key or handshake: libzmq would retry it every 100 ms forever.
    private func handshakeRefused() -> Bool {
        guard let monitor, let event = try? monitor.receiveMonitorEvent(dontWait: true) else { return false }
        let why =
            event.event == .handshakeFailedAuth
            ? "the daemon refused this agent's key (ZAP \(event.value)): is NAME.key in its authorized-keys directory?"
            : "CURVE handshake with the daemon failed (\(event)): check server_key"
        lastError = why
        logger.error(
            "upstream handshake refused: backing off",
            metadata: ["upstream": "\(configuration.upstream)", "why": "\(why)"]
        )
        reconnect(backingOff: true)
        return true
    }

    /// Drops the socket; the next connect (after a backoff delay with jitter, if
    /// `backingOff`) says HELLO again and resends from the acknowledged position.
    private func reconnect(backingOff: Bool) {
        socket?.close(linger: 0)
        socket = nil
        monitor?.close(linger: 0)
        monitor = nil
        welcomed = false
        helloSent = false
        unattributedErrors.removeAll()
        reconnects += 1
        for batch in inFlight where batch.acked { ackedAhead.insert(batch.sequence) }
        inFlight.removeAll()
        pending = nil
        reader.seek(to: ackedLSN)
        let now = DispatchTime.now().uptimeNanoseconds
        if backingOff {
            let jitter = Int64.random(in: 0...(backoff / 4 + 1))
            nextConnectAt = now + UInt64(backoff + jitter)
            backoff = min(max(backoff, 1) * 2, max(configuration.backoffMax, configuration.backoffInitial))
        } else {
            nextConnectAt = now
        }
    }

    private func send(_ socket: Socket, _ frames: [[UInt8]]) -> Bool {
        do {
            return try socket.sendMultipart(frames, dontWait: true)
        } catch {
            lastError = "send: \(error)"
            return false
        }
    }

    // MARK: - Reading and sending

    /// Reads records and (if `sending`) sends them while the window has room.
    private func fill(sending: Bool) {
        let oldest = shared.oldestLSN.load(ordering: .acquiring)
        if reader.position < oldest || ackedLSN < oldest { skip(to: oldest) }
        let window = max(1, configuration.window)
        while inFlight.count < window {
            if pending == nil { readOne() }
            guard var batch = pending else { return }
            // WELCOME's highest is not proof that everything below it was applied (after a
            // reconnect, libzmq may deliver later batches of the old pipe before earlier
            // ones are resent), so only records the daemon would refuse as too old (more
            // than its anti-replay window below) are skipped; the rest is resent and the
            // daemon's dedupe answers duplicates.
            let tooOld =
                welcomed && welcomeHighest >= Self.replayWindow && batch.sequence <= welcomeHighest - Self.replayWindow
            if tooOld {
                // Never silent: with an incarnation per spool this should not happen.
                skippedTooOld += 1
                if skippedTooOld & (skippedTooOld - 1) == 0 {
                    logger.warning(
                        "records skipped: the daemon reports a higher sequence for this producer",
                        metadata: [
                            "sequence": "\(batch.sequence)", "daemon_highest": "\(welcomeHighest)",
                            "skipped": "\(skippedTooOld)",
                        ]
                    )
                }
            }
            if tooOld || ackedAhead.contains(batch.sequence) {
                batch.acked = true
                inFlight.append(batch)
                pending = nil
                advance()
                continue
            }
            guard sending, unattributedErrors.isEmpty, let socket else { return }
            var frames: [[UInt8]] = [VGI1.magic, VGI1.push, producer, Array(String(batch.sequence).utf8)]
            frames.append(contentsOf: batch.frames)
            guard send(socket, frames) else { return }
            inFlight.append(batch)
            pending = nil
        }
    }

    private func readOne() {
        let limit = shared.durableLSN.load(ordering: .acquiring)
        guard reader.position < limit else { return }
        do {
            try reader.read(upTo: limit, maxRecords: 1) { record in
                var frames: [[UInt8]] = []
                for f in 0..<record.frameCount { frames.append(Array(record.frame(f))) }
                pending = Batch(
                    sequence: record.sequence,
                    lsn: record.lsn,
                    endLSN: record.endLSN,
                    receivedAt: record.receivedAt,
                    frames: frames
                )
            }
        } catch {
            lastError = "\(error)"
            let next = (try? reader.nextSegmentStart()) ?? nil
            logger.error(
                "spool read failed",
                metadata: ["error": "\(error)", "skipping_to": "\(next.map { "\($0)" } ?? "-")"]
            )
            if let next { skip(to: next) }
        }
    }

    /// Skips records below `lsn` (deleted by the size bound, already counted as
    /// dropped): they count as acknowledged.
    private func skip(to lsn: UInt64) {
        inFlight.removeAll { $0.endLSN <= lsn }
        if let batch = pending, batch.lsn < lsn { pending = nil }
        if reader.position < lsn { reader.seek(to: lsn) }
        if ackedLSN < lsn {
            ackedLSN = lsn
            shared.ackedLSN.store(ackedLSN, ordering: .releasing)
        }
    }

    /// Moves the acknowledged position over the acknowledged prefix of the window.
    private func advance() {
        var moved = false
        while let first = inFlight.first, first.acked {
            ackedLSN = first.endLSN
            ackedSequence = max(ackedSequence, first.sequence)
            inFlight.removeFirst()
            moved = true
        }
        guard moved else { return }
        ackedAhead = ackedAhead.filter { $0 > ackedSequence }
        shared.ackedSequence.store(ackedSequence, ordering: .releasing)
        shared.ackedLSN.store(ackedLSN, ordering: .releasing)
    }

    // MARK: - Replies

    private func receiveReplies(_ socket: Socket) {
        while self.socket === socket {
            let frames: [Message]
            do {
                guard let received = try socket.receiveMultipart(dontWait: true) else { return }
                frames = received
            } catch {
                lastError = "receive: \(error)"
                return
            }
            handle(frames.map(\.bytes))
        }
    }

    private func handle(_ frames: [[UInt8]]) {
        guard frames.count >= 2, frames[0] == VGI1.magic else {
            lastError = "reply without VGI1 header"
            return
        }
        let now = DispatchTime.now().uptimeNanoseconds
        switch frames[1] {
        case VGI1.welcome where frames.count == 4:
            welcomeHighest = UInt64(String(decoding: frames[3], as: UTF8.self)) ?? 0
            welcomed = true
            lastProgress = now
            // Resend everything unacknowledged, in order, from the acknowledged position.
            for batch in inFlight where batch.acked { ackedAhead.insert(batch.sequence) }
            inFlight.removeAll()
            pending = nil
            reader.seek(to: ackedLSN)
            logger.info(
                "connected to the daemon",
                metadata: ["upstream": "\(configuration.upstream)", "highest": "\(welcomeHighest)"]
            )
        case VGI1.ack where frames.count == 5:
            guard let sequence = UInt64(String(decoding: frames[3], as: UTF8.self)) else { return }
            if let index = inFlight.firstIndex(where: { $0.sequence == sequence }) {
                inFlight[index].acked = true
            } else if sequence > ackedSequence {
                ackedAhead.insert(sequence)
            }
            let body = String(decoding: frames[4], as: UTF8.self)
            if !body.contains("\"rejected\":0") {
                logger.warning(
                    "the daemon rejected lines of a batch",
                    metadata: ["sequence": "\(sequence)", "ack": "\(body)"]
                )
            }
            advance()
            lastProgress = now
            lastAckAt = Int64(Date().timeIntervalSince1970 * 1e9)
            backoff = max(1_000_000, configuration.backoffInitial)
            attributeErrors()
        case VGI1.err where frames.count == 3:
            handleError(Self.errorMessage(frames[2]))
        default:
            lastError = "unexpected reply \(String(decoding: frames[1], as: UTF8.self))"
        }
    }

    private func handleError(_ message: String) {
        lastError = message
        let transient = [
            "not ready", "write-ahead log unavailable", "too many producers", "too many batches in flight",
        ]
        if transient.contains(where: { message.contains($0) }) {
            logger.warning("daemon busy: backing off", metadata: ["error": "\(message)"])
            reconnect(backingOff: true)
            return
        }
        // ERR names no sequence number, and the daemon sends it at once while it holds
        // ACKs until they are durable. Every request gets exactly one reply: stop
        // sending and wait until every batch in flight is answered; the unacknowledged
        // ones are then the refused ones.
        unattributedErrors.append(message)
        attributeErrors()
    }

    /// Once as many batches remain unacknowledged as ERRs came in, moves them to the
    /// dead-letter file and counts them as acknowledged.
    private func attributeErrors() {
        guard !unattributedErrors.isEmpty else { return }
        let refused = inFlight.indices.filter { !inFlight[$0].acked }
        guard refused.count <= unattributedErrors.count else { return }
        let reasons = Array(Set(unattributedErrors)).sorted()
        let reason = reasons.count == 1 ? reasons[0] : "one of: " + reasons.joined(separator: "; ")
        unattributedErrors.removeAll()
        for index in refused {
            let batch = inFlight[index]
            do {
                try deadLetters.append(
                    sequence: batch.sequence,
                    receivedAt: batch.receivedAt,
                    reason: reason,
                    payload: batch.frames
                )
            } catch {
                logger.error("cannot write the dead-letter file; retrying later", metadata: ["error": "\(error)"])
                reconnect(backingOff: true)
                return
            }
            logger.error(
                "the daemon refused a batch as malformed: moved to the dead-letter file",
                metadata: ["sequence": "\(batch.sequence)", "error": "\(reason)", "file": "\(deadLetters.path)"]
            )
            deadLetterCount += 1
            inFlight[index].acked = true
        }
        advance()
        lastProgress = DispatchTime.now().uptimeNanoseconds
    }

    private static func errorMessage(_ body: [UInt8]) -> String {
        if let message = JSONValue.decode(body)?["error"]?.string { return message }
        return String(decoding: body, as: UTF8.self)
    }

    private func publishStatus() {
        let oldest = inFlight.first(where: { !$0.acked })?.receivedAt ?? pending?.receivedAt
        let snapshot = (
            welcomed, lastAckAt, ackedSequence, inFlight.count, reconnects, deadLetterCount, oldest, lastError,
            skippedTooOld
        )
        publish { status in
            status.connected = snapshot.0
            status.lastAckAt = snapshot.1
            status.ackedSequence = snapshot.2
            status.inFlight = snapshot.3
            status.reconnects = snapshot.4
            status.deadLetters = snapshot.5
            status.oldestUnsentReceivedAt = snapshot.6
            status.lastError = snapshot.7
            status.skippedTooOld = snapshot.8
        }
    }
}
