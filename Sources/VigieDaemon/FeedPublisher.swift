import Foundation
import VigieCore
import ZeroMQ

/// Publishes `kpi.*` and `hb` messages on the feed PUB socket, numbering them.
///
/// Engine thread only. PUB never blocks: a slow subscriber loses messages at its
/// high-water mark (and can detect the gap from `seq`).
final class FeedPublisher {
    /// The PUB socket of the plain endpoints.
    let socket: Socket
    /// The PUB socket of the CURVE endpoints (`[security] curve = true`): CURVE is a
    /// socket option, so they need a socket of their own. Every message goes to both.
    let curveSocket: Socket?
    /// Id of this daemon run, on every message.
    let epoch: String
    /// Sequence number of the last message published (0: none yet).
    private(set) var sequence: UInt64 = 0
    /// Messages handed to the socket.
    private(set) var published: UInt64 = 0
    private var writer = JSONWriter(capacity: 1_024)

    init(socket: Socket, curveSocket: Socket? = nil, epoch: String) {
        self.socket = socket
        self.curveSocket = curveSocket
        self.epoch = epoch
    }

    /// The socket an endpoint binds on.
    func socket(curve: Bool) -> Socket {
        curve ? (curveSocket ?? socket) : socket
    }

    /// A run id: start time in hex plus 32 random bits, e.g. `18a4f0c2b1d3e000-5f3a9c21`.
    static func makeEpoch(now: Int64) -> String {
        let random = UInt32.random(in: 0...UInt32.max)
        return String(UInt64(bitPattern: now), radix: 16) + "-" + String(random, radix: 16)
    }

    /// Continues numbering after `sequence` (restored from a checkpoint): subscribers of
    /// the new run still see `seq` grow (the new `epoch` tells them it restarted).
    func resume(after sequence: UInt64) {
        self.sequence = Swift.max(self.sequence, sequence)
    }

    func publishKPI(_ value: KPIValue) {
        sequence += 1
        FeedEncoding.encodeKPI(value, seq: sequence, epoch: epoch, into: &writer)
        send(topic: FeedEncoding.kpiTopic(value.kpi))
    }

    func publishAlert(_ message: AlertFeedMessage) {
        sequence += 1
        message.encode(seq: sequence, epoch: epoch, into: &writer)
        send(topic: "alert." + message.rule)
    }

    func publishHeartbeat(now: Int64, uptimeSeconds: Double, ingestRate: Double) {
        sequence += 1
        FeedEncoding.encodeHeartbeat(
            now: now,
            uptimeSeconds: uptimeSeconds,
            ingestRate: ingestRate,
            seq: sequence,
            epoch: epoch,
            into: &writer
        )
        send(topic: FeedEncoding.heartbeatTopic)
    }

    private func send(topic: String) {
        send(topic: topic, on: socket)
        if let curveSocket { send(topic: topic, on: curveSocket) }
        published += 1
    }

    private func send(topic: String, on socket: Socket) {
        do {
            try socket.send(topic, more: true, dontWait: true)
            try writer.bytes.withUnsafeBytes { _ = try socket.send($0, more: false, dontWait: true) }
        } catch {
            // A PUB socket drops at its HWM instead of failing; other errors mean shutdown.
        }
    }

    func close() {
        socket.close(linger: 0)
        curveSocket?.close(linger: 0)
    }
}
