/// Replies held back until the write-ahead log is durable up to a position: ACKs of
/// accepted batches, duplicate ACKs and WELCOMEs (which report sequence numbers the
/// producer may then forget).
///
/// FIFO: positions only grow, so `release(upTo:)` sends from the head. Frames are
/// copied into one byte arena and a frame-length list, both reused: once they have
/// grown to the largest backlog, holding a reply allocates nothing. Owned by the
/// thread that sends them (the daemon's engine thread, the agent's loop).
public struct PendingReplies {
    public init() {}

    private struct Entry {
        /// WAL position that must be durable first.
        var position: UInt64
        /// Index of the ingest socket to send on.
        var socket: Int
        /// First frame in `lengths`, and how many.
        var firstFrame: Int
        var frameCount: Int
        /// Offset of the first frame's bytes in `arena`.
        var offset: Int
        /// The caller's tag (e.g. a producer slot), handed back on release; -1: none.
        var tag: Int
    }

    private var entries: [Entry] = []
    private var head = 0
    private var lengths: [Int] = []
    private var arena: [UInt8] = []

    /// Replies waiting.
    public var count: Int { entries.count - head }

    public var isEmpty: Bool { head == entries.count }

    /// Position of the oldest reply waiting, if any.
    public var oldestPosition: UInt64? { isEmpty ? nil : entries[head].position }

    /// Starts a reply on socket number `socket`, released once `position` is durable.
    /// Follow with `appendFrame` calls, then `finish()`.
    public mutating func begin(position: UInt64, socket: Int, tag: Int = -1) {
        entries.append(
            Entry(
                position: position,
                socket: socket,
                firstFrame: lengths.count,
                frameCount: 0,
                offset: arena.count,
                tag: tag
            )
        )
    }

    /// Replaces the tag of every waiting reply with `map(tag)` (after the caller renumbered
    /// what its tags index); untagged replies stay so.
    public mutating func renumberTags(_ map: (Int) -> Int) {
        for i in head..<entries.count where entries[i].tag >= 0 {
            entries[i].tag = map(entries[i].tag)
        }
    }

    /// Adds a frame (copied) to the reply being built.
    public mutating func appendFrame(_ bytes: UnsafeRawBufferPointer) {
        arena.append(contentsOf: bytes)
        lengths.append(bytes.count)
        entries[entries.count - 1].frameCount += 1
    }

    /// Adds a frame (copied) to the reply being built.
    public mutating func appendFrame(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { appendFrame($0) }
    }

    /// Sends, in order, every reply whose position is at most `durable`, through
    /// `send(socket, frame, more)`; a send that fails is counted by the caller and the
    /// reply dropped (the peer is gone or full: it will resend and get a duplicate ACK).
    /// `released(tag)` is told each tagged reply that left the queue. Returns how many
    /// replies were released.
    @discardableResult
    public mutating func release(
        upTo durable: UInt64,
        released: ((_ tag: Int) -> Void)? = nil,
        _ send: (_ socket: Int, _ frame: UnsafeRawBufferPointer, _ more: Bool) -> Bool
    ) -> Int {
        var releasedCount = 0
        arena.withUnsafeBytes { raw in
            while head < entries.count, entries[head].position <= durable {
                let entry = entries[head]
                var offset = entry.offset
                for f in 0..<entry.frameCount {
                    let length = lengths[entry.firstFrame + f]
                    let frame = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])
                    offset += length
                    if !send(entry.socket, frame, f < entry.frameCount - 1) { break }
                }
                head += 1
                releasedCount += 1
                if entry.tag >= 0 { released?(entry.tag) }
            }
        }
        if head == entries.count {
            removeAll()
        } else if head >= 256, head * 2 >= entries.count {
            compact()
        }
        return releasedCount
    }

    /// Drops the released prefix (under steady load the queue is never empty when a
    /// sync completes): moves what remains to the front. Amortised O(1) per reply.
    private mutating func compact() {
        let first = entries[head]
        entries.removeFirst(head)
        lengths.removeFirst(first.firstFrame)
        arena.removeFirst(first.offset)
        for i in entries.indices {
            entries[i].firstFrame -= first.firstFrame
            entries[i].offset -= first.offset
        }
        head = 0
    }

    /// Forgets every reply (shutdown without a final sync).
    public mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
        head = 0
    }
}
