import Logging
import VigieCore
import VigieStore
import ZeroMQ

/// Serves fire-and-forget push (line protocol on the PULL sockets): no reply, so a
/// message over a bound, from a revoked key or that the log cannot take is dropped
/// whole, counted and logged; otherwise it is logged, then applied. Engine thread only.
final class PushServer {
    private let state: EngineState
    private let receiver: MessageReceiver
    private let applier: BatchApplier
    private let peers: CurvePeers

    init(state: EngineState, receiver: MessageReceiver, applier: BatchApplier, peers: CurvePeers) {
        self.state = state
        self.receiver = receiver
        self.applier = applier
        self.peers = peers
    }

    /// Serves the message in ``MessageReceiver`` (`curve`: from a CURVE server socket),
    /// logging it to `wal` (nil while recovering: dropped).
    func handle(curve: Bool, wal: WALWriter?) {
        let frames = receiver.frames
        let n = receiver.count
        state.statistics.pushMessages += 1
        guard !receiver.truncated else {
            // Over a bound (frames, bytes): no reply to say so, and never a part of it.
            if receiver.tooLarge {
                state.statistics.limitHits.messageBytes += 1
            } else {
                state.statistics.limitHits.framesPerMessage += 1
            }
            state.statistics.framesInvalid += 1
            return
        }
        let now = state.now()
        applier.beginBatch()
        peers.beginMessage()
        if curve, n > 0 {
            var prefixes: [[UInt8]] = []
            let refusal = peers.withAuthenticatedPeer(
                frames[0],
                revoked: { state.statistics.revokedKeyMessages += 1 },
                { _, allowed in prefixes = allowed }
            )
            guard refusal == nil else { return }
            if !prefixes.isEmpty {
                let outside = peers.filter(prefixes, frames: frames, range: 0..<n, parser: applier.lineParser) { _, _ in
                    state.statistics.samplesOutsidePrefixes += 1
                }
                state.statistics.samplesRejected += UInt64(outside)
            }
        }
        do {
            guard let wal else { throw DaemonError(message: "vigied is not ready (recovering)") }
            _ = try wal.appendRecord(kind: .push, at: now, requestingSync: false) { wal in
                for f in 0..<n { try peers.withPayload(frames, f) { try wal.appendFrame($0) } }
            }
        } catch {
            state.statistics.walWriteErrors += 1
            state.logger.error("write-ahead log write failed: push message dropped", metadata: ["error": "\(error)"])
            return
        }
        var nextLine = 1
        for f in 0..<n {
            nextLine = peers.withPayload(frames, f) {
                applier.apply($0, firstLine: nextLine, now: now, collectErrors: false).nextLine
            }
        }
    }
}
