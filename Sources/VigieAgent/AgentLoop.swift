import Foundation
import Logging
import VigieConfig
import VigieCore
import VigieProcess
import ZeroMQ

/// The agent's loop thread: owns the local sockets, the spool, the replies held until
/// the spool is durable, and the health timer. Created and run on that thread.
final class AgentLoop {
    let endpoints: AgentEndpoints
    private let runtime: AgentRuntime
    private let configuration: AgentConfiguration
    private let logger: Logger
    private let spool: AgentSpool
    private let forwarder: Forwarder
    private let parser = LineProtocolParser()
    private let ingestSockets: [Socket]
    private let pushSockets: [Socket]
    private let controlSockets: [Socket]
    private var pending = PendingReplies()
    private var ackWriter = JSONWriter(capacity: 256)
    private let defaults: LineTagDefaults
    private var nextHealth: UInt64
    private var startedAt = DispatchTime.now().uptimeNanoseconds
    private var syncFailureLogged = false
    /// `WATCHDOG=1` from this loop (every turn is at most 100 ms apart).
    private var watchdog = SystemdNotifier.WatchdogClock()

    /// Opens the spool, binds the sockets, starts the forwarder.
    init(runtime: AgentRuntime) throws {
        self.runtime = runtime
        configuration = runtime.configuration
        logger = runtime.loopLogger
        defaults = LineTagDefaults(configuration.tags.map { ($0.key, $0.value) })
        spool = try AgentSpool(
            configuration: configuration.spool,
            producerID: configuration.producerID,
            logger: logger
        )
        let context = runtime.loopContext
        var bound = AgentEndpoints(ingest: [], push: [], control: [])
        var opened: [Socket] = []
        func bind(_ type: SocketType, _ list: [String], _ record: (String) -> Void) throws -> [Socket] {
            var sockets: [Socket] = []
            for endpoint in list {
                try EndpointsConfiguration.prepareIPCDirectory(endpoint)
                let socket = try context.makeSocket(type)
                opened.append(socket)
                try socket.setLinger(0)
                if type == .router {
                    try socket.setRouterMandatory(true)
                    try socket.setRouterHandover(true)
                }
                try socket.bind(endpoint)
                record(try socket.lastEndpoint)
                sockets.append(socket)
            }
            return sockets
        }
        do {
            ingestSockets = try bind(.router, configuration.listen.ingest) { bound.ingest.append($0) }
            pushSockets = try bind(.pull, configuration.listen.push) { bound.push.append($0) }
            controlSockets = try bind(.router, configuration.listen.control) { bound.control.append($0) }
        } catch {
            for socket in opened { socket.close(linger: 0) }
            try? spool.close()
            throw error
        }
        endpoints = bound
        forwarder = Forwarder(configuration: configuration, spool: spool, context: context, logger: logger)
        nextHealth = DispatchTime.now().uptimeNanoseconds + UInt64(max(1_000_000, runtime.loopHealthInterval))
        forwarder.start()
        logger.info(
            "agent started",
            metadata: [
                "ingest": "\(bound.ingest)", "push": "\(bound.push)", "control": "\(bound.control)",
                "upstream": "\(configuration.upstream)", "spool": "\(spool.segmentDirectory)",
            ]
        )
    }

    // MARK: - Loop

    func run() {
        var poller = Poller()
        for socket in ingestSockets { poller.register(socket) }
        for socket in pushSockets { poller.register(socket) }
        for socket in controlSockets { poller.register(socket) }
        let syncIndex = poller.register(fileDescriptor: spool.notificationFD)
        let wakeIndex = poller.register(fileDescriptor: runtime.wakeupFD)
        while !runtime.shouldStop {
            do {
                _ = try poller.poll(timeoutMilliseconds: 100)
            } catch let error as ZMQError where error.kind == .terminated {
                break
            } catch {
                logger.warning("poll failed", metadata: ["error": "\(error)"])
            }
            if poller.isReadable(at: syncIndex) { spool.drainNotification() }
            releaseDurable()
            var index = 0
            for socket in ingestSockets {
                if poller.isReadable(at: index) { drainIngest(socket, index: index) }
                index += 1
            }
            for socket in pushSockets {
                if poller.isReadable(at: index) { drainPush(socket) }
                index += 1
            }
            for socket in controlSockets {
                if poller.isReadable(at: index) { drainControl(socket) }
                index += 1
            }
            // The wakeup pipe only ends the poll early; the queue is checked every turn.
            _ = poller.isReadable(at: wakeIndex)
            for submission in runtime.takeSubmissions() {
                // A collector that stopped waiting reads these lines again: skip them.
                if let done = submission.done, !done.take() { continue }
                let outcome = submission.bytes.withUnsafeBytes {
                    accept(frames: [$0], receivedAt: submission.receivedAt)
                }
                submission.done?.finish(spooled: outcome.storageError == nil)
            }
            tick()
            watchdog.pingIfDue(runtime.systemd)
        }
        shutDown()
    }

    private func tick() {
        if !syncFailureLogged, let failure = spool.syncFailure {
            syncFailureLogged = true
            logger.critical(
                "spool fsync failed: no batch can be acknowledged any more; restart the agent",
                metadata: ["error": "\(failure)"]
            )
        }
        let now = DispatchTime.now().uptimeNanoseconds
        if now >= nextHealth {
            nextHealth = now + UInt64(max(1_000_000, runtime.loopHealthInterval))
            reportHealth()
        }
        spool.checkpoint()
    }

    private func shutDown() {
        forwarder.stop()
        let persist = runtime.shouldPersistOnStop
        do {
            try spool.close(persistState: persist)
        } catch {
            logger.error("spool close failed", metadata: ["error": "\(error)"])
        }
        releaseDurable()
        pending.removeAll()
        for socket in ingestSockets + pushSockets + controlSockets { socket.close(linger: 0) }
        runtime.loopContext.shutdown()
        try? runtime.loopContext.terminate()
        logger.info("agent stopped")
    }

    /// Sends the replies whose batches are now durable in the spool.
    private func releaseDurable() {
        let durable = spool.publishDurable()
        guard !pending.isEmpty else { return }
        pending.release(upTo: durable) { index, frame, more in
            (try? ingestSockets[index].send(frame, more: more, dontWait: true)) ?? false
        }
    }

    // MARK: - Batches

    /// What a batch became once parsed: the rewritten accepted lines, and the rest.
    private struct Outcome {
        var accepted = 0
        var rejected = 0
        var errors: [LineProtocolError] = []
        var position: UInt64 = 0
        var storageError: String?
    }

    /// Parses the payload frames (rejecting bad lines with line:column, numbered across
    /// frames), adds the default tags and the receive time to the accepted lines, and
    /// spools them as one record.
    @discardableResult
    private func accept(frames: [UnsafeRawBufferPointer], receivedAt: Int64) -> Outcome {
        var outcome = Outcome()
        var payload: [UInt8] = []
        var lineNumber = 1
        for frame in frames {
            guard let raw = frame.baseAddress, !frame.isEmpty else { continue }
            let limit = UnsafePointer(raw.assumingMemoryBound(to: UInt8.self)) + frame.count
            lineNumber =
                parser.parse(frame, firstLineNumber: lineNumber) { line in
                    outcome.accepted += 1
                    if !payload.isEmpty { payload.append(0x0A) }
                    defaults.append(
                        line,
                        end: LineTagDefaults.lineEnd(of: line, limit: limit),
                        to: &payload,
                        stamp: receivedAt
                    )
                } onError: { error in
                    outcome.rejected += 1
                    if outcome.errors.count < VGI1.maxListedErrors { outcome.errors.append(error) }
                }.nextLineNumber
        }
        guard outcome.accepted > 0 else { return outcome }
        do {
            let result = try payload.withUnsafeBytes {
                try spool.append(lines: $0, lineCount: outcome.accepted, receivedAt: receivedAt)
            }
            outcome.position = result.position
        } catch {
            logger.error("spool write failed: batch refused", metadata: ["error": "\(error)"])
            outcome.storageError = "\(error)"
        }
        return outcome
    }

    // MARK: - Acknowledged ingest

    private func drainIngest(_ socket: Socket, index: Int) {
        for _ in 0..<256 {
            let frames: [Message]
            do {
                guard let received = try socket.receiveMultipart(dontWait: true) else { return }
                frames = received
            } catch {
                logger.warning("ingest receive failed", metadata: ["error": "\(error)"])
                return
            }
            handleIngest(socket, index: index, frames)
        }
    }

    private func handleIngest(_ socket: Socket, index: Int, _ messages: [Message]) {
        guard !messages.isEmpty else { return }
        let frames = messages.map(\.bytes)
        let bodyStart = VGI1Request.bodyStart(
            frameCount: frames.count,
            secondFrameIsEmpty: frames.count > 1 && frames[1].isEmpty
        )
        let envelope = Array(frames[0..<bodyStart])
        func replyError(_ message: String) {
            _ = try? socket.sendMultipart(envelope + [VGI1.magic, VGI1.err, VGI1.encodeError(message)], dontWait: true)
        }
        // The daemon's decoder, so a producer meets the same refusals here as there.
        let request = VGI1Request.decode(
            frameCount: messages.count,
            truncated: false,
            bodyStart: bodyStart,
            limit: messages.count
        ) { messages[$0].unsafeBytes }
        switch request {
        case .invalid(let refusal):
            return replyError(refusal.message)
        case .hello:
            // Local producers are one-shot: the agent keeps no per-producer state.
            _ = try? socket.sendMultipart(
                envelope + [VGI1.magic, VGI1.welcome, frames[bodyStart + 2], Array("0".utf8)],
                dontWait: true
            )
            return
        case .push:
            break
        }
        let producer = frames[bodyStart + 2]
        let sequenceFrame = frames[bodyStart + 3]
        let payloads = frames[(bodyStart + 4)...]
        let outcome = withUnsafePayloads(Array(payloads)) { accept(frames: $0, receivedAt: runtime.loopClock.now()) }
        if let storageError = outcome.storageError {
            return replyError(
                "write-ahead log unavailable (agent spool: \(storageError)): batch not accepted, retry later"
            )
        }
        VGI1.encodeAck(
            accepted: outcome.accepted,
            rejected: outcome.rejected,
            duplicate: false,
            errors: outcome.errors,
            into: &ackWriter
        )
        pending.begin(position: outcome.position, socket: index)
        for frame in envelope { pending.appendFrame(frame) }
        pending.appendFrame(VGI1.magic)
        pending.appendFrame(VGI1.ack)
        pending.appendFrame(producer)
        pending.appendFrame(sequenceFrame)
        pending.appendFrame(ackWriter.bytes)
        if outcome.accepted == 0 { releaseDurable() }
    }

    private func withUnsafePayloads<R>(_ frames: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) -> R) -> R {
        // Concatenate into one arena so every view stays valid during `body`.
        var arena: [UInt8] = []
        var ranges: [Range<Int>] = []
        for frame in frames {
            ranges.append(arena.count..<(arena.count + frame.count))
            arena.append(contentsOf: frame)
        }
        return arena.withUnsafeBytes { raw in
            body(ranges.map { UnsafeRawBufferPointer(rebasing: raw[$0]) })
        }
    }

    // MARK: - Fire-and-forget push

    private func drainPush(_ socket: Socket) {
        for _ in 0..<256 {
            let frames: [Message]
            do {
                guard let received = try socket.receiveMultipart(dontWait: true) else { return }
                frames = received
            } catch {
                logger.warning("push receive failed", metadata: ["error": "\(error)"])
                return
            }
            let outcome = withUnsafePayloads(frames.map(\.bytes)) {
                accept(frames: $0, receivedAt: runtime.loopClock.now())
            }
            if outcome.rejected > 0 {
                logger.warning(
                    "push: lines rejected",
                    metadata: [
                        "rejected": "\(outcome.rejected)", "first": "\(outcome.errors.first.map { "\($0)" } ?? "")",
                    ]
                )
            }
        }
    }

    // MARK: - Control

    private func drainControl(_ socket: Socket) {
        for _ in 0..<64 {
            let frames: [[UInt8]]
            do {
                guard let received = try socket.receiveMultipart(dontWait: true) else { return }
                frames = received.map(\.bytes)
            } catch {
                return
            }
            guard let body = frames.last, frames.count >= 2 else { continue }
            let envelope = Array(frames.dropLast())
            let reply: [String: JSONValue]
            switch JSONValue.decode(body)?["op"]?.string {
            case "status": reply = statusObject()
            case let op?: reply = ["ok": .bool(false), "error": .string("unknown op \"\(op)\" (expected status)")]
            case nil: reply = ["ok": .bool(false), "error": .string("expected a JSON object with \"op\"")]
            }
            _ = try? socket.sendMultipart(envelope + [Self.encode(reply)], dontWait: true)
        }
    }

    /// `reply` as JSON text, keys sorted.
    static func encode(_ reply: [String: JSONValue]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(reply)).map { Array($0) }
            ?? Array(#"{"ok":false,"error":"reply not encodable"}"#.utf8)
    }

    /// The `status` reply.
    func statusObject() -> [String: JSONValue] {
        let status = forwarder.status
        let state = spool.state
        let now = runtime.loopClock.now()
        let durable = spool.shared.durableLSN.load(ordering: .acquiring)
        let acked = spool.shared.ackedLSN.load(ordering: .acquiring)
        let lastSequence = spool.shared.lastSequence.load(ordering: .acquiring)
        func count(_ n: some BinaryInteger) -> JSONValue { .integer(Int64(clamping: n)) }
        var object: [String: JSONValue] = [
            "ok": .bool(true),
            "agent": .string(configuration.name),
            "producer": .string(spool.shared.upstreamProducer),
            "upstream": .string(configuration.upstream),
            "connected": .bool(status.connected),
            "spool_bytes": count(spool.bytesOnDisk),
            "spool_unsent_bytes": count(durable > acked ? durable - acked : 0),
            "spool_unsent_records": count(
                lastSequence > status.ackedSequence ? lastSequence - status.ackedSequence : 0
            ),
            "oldest_unsent_s": .number(status.oldestUnsentReceivedAt.map { max(0, Double(now - $0) / 1e9) } ?? 0),
            "acked_sequence": count(status.ackedSequence),
            "last_sequence": count(lastSequence),
            "in_flight": count(status.inFlight),
            "reconnects": count(status.reconnects),
            "dropped_samples": count(state.droppedSamples),
            "dropped_batches": count(state.droppedBatches),
            "dead_letters": count(status.deadLetters),
            "skipped_too_old": count(status.skippedTooOld),
            "dead_letter_file": .string(forwarder.deadLetterFile),
            "uptime_s": .number(Double(DispatchTime.now().uptimeNanoseconds - startedAt) / 1e9),
        ]
        if let last = status.lastAckAt {
            object["last_ack"] = .string(
                ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(last) / 1e9))
            )
            object["last_ack_age_s"] = .number(max(0, Double(now - last) / 1e9))
        } else {
            object["last_ack"] = .null
        }
        if let error = status.lastError { object["last_error"] = .string(error) }
        object["collectors"] = .object(runtime.loopCollectors?.collectorStatus() ?? [:])
        return object
    }

    // MARK: - Health

    /// Appends the agent's health samples to its own spool.
    func reportHealth() {
        let status = forwarder.status
        let state = spool.state
        let now = runtime.loopClock.now()
        let lastSequence = spool.shared.lastSequence.load(ordering: .acquiring)
        let snapshot = AgentHealth.Snapshot(
            spoolBytes: spool.bytesOnDisk,
            spoolUnsent: lastSequence > status.ackedSequence ? lastSequence - status.ackedSequence : 0,
            oldestUnsentSeconds: status.oldestUnsentReceivedAt.map { Double(now - $0) / 1e9 } ?? 0,
            droppedSamples: state.droppedSamples,
            droppedBatches: state.droppedBatches,
            deadLetters: status.deadLetters,
            connected: status.connected
        )
        let text = AgentHealth.lines(agent: configuration.name, snapshot)
        _ = Array(text.utf8).withUnsafeBytes { accept(frames: [$0], receivedAt: now) }
    }
}
