import Logging
import VigieCore
import VigieStore
import ZeroMQ

/// Serves acknowledged ingest (VGI1 on the ingest ROUTER sockets): decodes the request
/// in place (``VGI1Request``), asks the producer table what to do (``ProducerTable``),
/// logs the batch, applies it and holds its ACK until the log is durable. A batch the
/// log cannot take is refused whole: nothing applied. Engine thread only.
final class IngestServer {
    private let state: EngineState
    private let receiver: MessageReceiver
    private let applier: BatchApplier
    private let peers: CurvePeers
    private let replies: DurableReplies
    private var ackWriter = JSONWriter(capacity: 2_048)

    init(
        state: EngineState,
        receiver: MessageReceiver,
        applier: BatchApplier,
        peers: CurvePeers,
        replies: DurableReplies
    ) {
        self.state = state
        self.receiver = receiver
        self.applier = applier
        self.peers = peers
        self.replies = replies
    }

    /// Serves the message in ``MessageReceiver`` received on `socket` (`curve`: a CURVE
    /// server socket) and logged to `wal` (nil while recovering).
    func handle(socket: Socket, curve: Bool, wal: WALWriter?) {
        let frames = receiver.frames
        let n = receiver.count
        guard n >= 1 else { return }
        let bodyStart = VGI1Request.bodyStart(frameCount: n, secondFrameIsEmpty: n > 1 && frames[1].count == 0)
        let reply = Reply(frames: frames, envelope: 0..<bodyStart, socket: socket)
        if receiver.tooLarge {
            state.statistics.limitHits.messageBytes += 1
            return refuse(
                reply,
                "message larger than \(state.configuration.ingest.maxMessageSize) bytes in all "
                    + "([ingest] max_message_size): send smaller batches"
            )
        }
        // The frames stay untouched until the decision is made: reading them in place is safe.
        let request = VGI1Request.decode(
            frameCount: n,
            truncated: receiver.truncated,
            bodyStart: bodyStart,
            limit: MessageReceiver.maxFrames
        ) { frames[$0].unsafeBytes }
        if case .invalid(let refusal) = request {
            if case .tooManyFrames = refusal { state.statistics.limitHits.framesPerMessage += 1 }
            return refuse(reply, refusal.message)
        }
        // A CURVE peer's producer id lives under its authenticated name (DESIGN.md).
        var prefixes: [[UInt8]] = []
        if curve,
            let refusal = peers.scopeProducer(
                frames: frames,
                bodyStart: bodyStart,
                prefixes: &prefixes,
                revoked: { state.statistics.revokedKeyMessages += 1 }
            )
        {
            return refuse(reply, refusal)
        }
        switch request {
        case .push(let sequence):
            push(reply, bodyStart: bodyStart, sequence: sequence, curve: curve, prefixes: prefixes, wal: wal)
        case .hello:
            hello(reply, bodyStart: bodyStart, curve: curve, wal: wal)
        case .invalid:
            break
        }
    }

    /// Where a reply goes: `socket`, after `frames[envelope]` (the routing envelope).
    private struct Reply {
        let frames: [Message]
        let envelope: Range<Int>
        let socket: Socket
    }

    /// Calls `body` with the producer table key: the id as sent, or the scoped one.
    @inline(__always)
    private func withProducerKey<R>(
        _ frames: [Message],
        bodyStart: Int,
        curve: Bool,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        curve ? try peers.scopedProducer.withUnsafeBytes(body) : try frames[bodyStart + 2].withUnsafeBytes(body)
    }

    private func hello(_ reply: Reply, bodyStart: Int, curve: Bool, wal: WALWriter?) {
        let producer = reply.frames[bodyStart + 2]
        let highest = withProducerKey(reply.frames, bodyStart: bodyStart, curve: curve) {
            state.producers.highest(of: $0)
        }
        // The producer may forget what WELCOME reports applied: only once it is durable.
        replies.hold(reply.socket, envelope: reply.envelope, of: reply.frames, position: wal?.flushedLSN ?? 0) {
            pending in
            pending.appendFrame(VGI1.magic)
            pending.appendFrame(VGI1.welcome)
            producer.withUnsafeBytes { pending.appendFrame($0) }
            pending.appendFrame(Array(String(highest).utf8))
        }
    }

    /// A decoded `PUSH`: admitted by the producer table, logged, applied, acknowledged.
    private func push(
        _ reply: Reply,
        bodyStart: Int,
        sequence: UInt64,
        curve: Bool,
        prefixes: [[UInt8]],
        wal: WALWriter?
    ) {
        let frames = reply.frames
        let now = state.now()
        let admission = withProducerKey(frames, bodyStart: bodyStart, curve: curve) {
            state.producers.admit(producer: $0, sequence: sequence, now: now)
        }
        if let eviction = state.producers.takeEviction() { replies.follow(eviction, state: state) }
        let slot: Int
        switch admission {
        case .refuse(let refusal):
            switch refusal {
            case .tooManyForKey: state.statistics.limitHits.producersPerKey += 1
            case .tooManyProducers: state.statistics.limitHits.producers += 1
            case .tooManyInFlight: state.statistics.limitHits.inFlight += 1
            case .sequenceTooOld: break
            }
            return refuse(reply, refusal.message)
        case .duplicate(let duplicate):
            state.statistics.batchesDuplicate += 1
            state.statistics.batchesAcked += 1
            VGI1.encodeAck(accepted: 0, rejected: 0, duplicate: true, errors: [], into: &ackWriter)
            return holdAck(reply, bodyStart: bodyStart, position: wal?.flushedLSN ?? 0, slot: duplicate)
        case .apply(let fresh):
            slot = fresh
        }
        // Log first: a batch the log cannot take is refused whole, nothing applied.
        guard let wal else { return refuse(reply, "vigied is not ready (recovering)") }
        let payloads = (bodyStart + 4)..<receiver.count
        applier.beginBatch()
        peers.beginMessage()
        let outside =
            prefixes.isEmpty
            ? 0
            : peers.filter(prefixes, frames: frames, range: payloads, parser: applier.lineParser) { line, reason in
                state.statistics.samplesOutsidePrefixes += 1
                applier.recordLineError(line, reason)
            }
        state.statistics.samplesRejected += UInt64(outside)
        do {
            try withProducerKey(frames, bodyStart: bodyStart, curve: curve) {
                try wal.beginRecord(kind: .ingest, receivedAt: now, sequence: sequence, producer: $0)
            }
            for f in payloads {
                try peers.withPayload(frames, f) { try wal.appendFrame($0) }
            }
            wal.endRecord()
            try wal.flush()
        } catch {
            return refuseForStorage(reply, error)
        }
        // The sync request waits until the batch's alerts are out (the loop makes it).
        let position = wal.flushedLSN
        var accepted = 0
        var rejected = outside
        var nextLine = 1
        for f in payloads {
            let result = peers.withPayload(frames, f) {
                applier.apply($0, firstLine: nextLine, now: now, collectErrors: true)
            }
            accepted += result.accepted
            rejected += result.rejected
            nextLine = result.nextLine
        }
        state.producers.markApplied(slot: slot, sequence: sequence, now: now)
        state.statistics.batchesAcked += 1
        if outside > 0 { applier.sortLineErrors() }
        VGI1.encodeAck(
            accepted: accepted,
            rejected: rejected,
            duplicate: false,
            errors: applier.lineErrors,
            into: &ackWriter
        )
        holdAck(reply, bodyStart: bodyStart, position: position, slot: slot)
    }

    /// Holds the ACK in `ackWriter` until the log is durable up to `position`.
    private func holdAck(_ reply: Reply, bodyStart: Int, position: UInt64, slot: Int) {
        let producer = reply.frames[bodyStart + 2]
        let sequence = reply.frames[bodyStart + 3]
        let held = replies.hold(
            reply.socket,
            envelope: reply.envelope,
            of: reply.frames,
            position: position,
            producerSlot: slot
        ) { pending in
            pending.appendFrame(VGI1.magic)
            pending.appendFrame(VGI1.ack)
            producer.withUnsafeBytes { pending.appendFrame($0) }
            sequence.withUnsafeBytes { pending.appendFrame($0) }
            ackWriter.bytes.withUnsafeBytes { pending.appendFrame($0) }
        }
        if held { state.producers.hold(slot: slot) }
    }

    /// Answers ERR to a batch the write-ahead log could not take (nothing applied).
    private func refuseForStorage(_ reply: Reply, _ error: any Error) {
        state.statistics.walWriteErrors += 1
        state.statistics.batchesRefusedStorage += 1
        let full = (error as? StoreError)?.isOutOfSpace == true
        state.logger.error(
            full ? "disk full: refusing ingest" : "write-ahead log write failed: refusing ingest",
            metadata: ["error": "\(error)"]
        )
        refuse(
            reply,
            "write-ahead log unavailable (\(full ? "disk full" : "write failed")): batch not accepted, retry later"
        )
    }

    /// Answers `ERR` with `message` at once (nothing was logged, nothing waits).
    private func refuse(_ reply: Reply, _ message: String) {
        state.statistics.framesInvalid += 1
        let body = VGI1.encodeError(message)
        if !reply.socket.sendReply(envelope: reply.envelope, of: reply.frames, VGI1.magic, VGI1.err, body) {
            state.statistics.repliesDropped += 1
        }
    }
}
