import VigieCore
import ZeroMQ

/// Replies held until the write-ahead log is durable past what they answer: ACKs and
/// WELCOMEs on ingest sockets, replies to logged operator actions on control sockets.
/// A held ACK counts as in flight for its producer until it leaves. Engine thread only.
final class DurableReplies {
    private var pending = PendingReplies()
    /// The sockets replies go out on; a reply names its socket by index here, so
    /// sockets are only ever added (a closed one stays, its replies are dropped).
    private var sockets: [Socket] = []
    /// Reused list of the producer slots whose ACKs one release sent.
    private var releasedScratch: [Int] = []

    /// Replies waiting.
    var count: Int { pending.count }

    /// Adds the sockets of `list` not known yet (start, and each rebind).
    func adopt(_ list: [Socket]) {
        for socket in list where !sockets.contains(where: { $0 === socket }) { sockets.append(socket) }
    }

    /// Holds a reply on `socket` until `position` is durable: the routing envelope
    /// (`frames[envelope]`), then what `body` adds. `producerSlot` (an ACK's producer)
    /// is released from its in-flight count when the reply leaves. Returns false when
    /// `socket` is not a reply socket (nothing held).
    @discardableResult
    func hold(
        _ socket: Socket,
        envelope: Range<Int>,
        of frames: [Message],
        position: UInt64,
        producerSlot: Int = -1,
        _ body: (inout PendingReplies) -> Void
    ) -> Bool {
        guard let target = sockets.firstIndex(where: { $0 === socket }) else { return false }
        pending.begin(position: position, socket: target, tag: producerSlot)
        for f in envelope { frames[f].withUnsafeBytes { pending.appendFrame($0) } }
        body(&pending)
        return true
    }

    /// Sends every held reply the log has made durable up to `durable`, releasing their
    /// producers' in-flight counts; returns how many frames could not be sent (the peer
    /// is gone or full: it resends and gets a duplicate ACK).
    func release(upTo durable: UInt64, producers: inout ProducerTable) -> UInt64 {
        guard let oldest = pending.oldestPosition, oldest <= durable else { return 0 }
        let sockets = self.sockets
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
        for slot in releasedSlots { producers.release(slot: slot) }
        swap(&releasedSlots, &releasedScratch)
        return dropped
    }

    /// Idle producers were forgotten (to make room, or at a checkpoint) and the others
    /// renumbered: held ACKs follow; the eviction is counted and logged.
    func follow(_ eviction: ProducerTable.Eviction, state: EngineState) {
        pending.renumberTags { eviction.mapping[$0] ?? -1 }
        state.statistics.producersEvicted += UInt64(eviction.count)
        state.logger.info(
            "idle producers forgotten",
            metadata: ["count": "\(eviction.count)", "left": "\(state.producers.count)"]
        )
    }
}
