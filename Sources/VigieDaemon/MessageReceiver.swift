import ZeroMQ

/// Receives one multipart message at a time into reused frames: the engine's receive
/// buffers, read in place by the servers until the next message. Engine thread only.
final class MessageReceiver {
    /// Most frames accepted in one message (envelope included).
    static let maxFrames = 4_096

    /// The frames of the last message (the first ``count`` of them); grows to the
    /// largest message's frame count.
    private(set) var frames: [Message] = (0..<8).map { _ in Message() }
    /// Frames kept of the last message.
    private(set) var count = 0
    /// Frames were dropped: more than ``maxFrames``, or more than the byte bound in all.
    private(set) var truncated = false
    /// The last message's frames added up to more than the byte bound.
    private(set) var tooLarge = false

    /// Receives the next message waiting on `socket`; false when none is. Frames beyond
    /// ``maxFrames``, or once the frames kept add up to more than `maxBytes` (libzmq
    /// bounds each frame, not their sum), are received and discarded (``truncated``,
    /// and ``tooLarge`` says which bound it was).
    func receive(from socket: Socket, maxBytes: Int64) throws -> Bool {
        var n = 0
        var overflow = false
        var bytes: Int64 = 0
        tooLarge = false
        while true {
            if n == frames.count { frames.append(Message()) }
            let slot = overflow ? frames[n - 1] : frames[n]
            let got = try socket.receive(into: slot, dontWait: n == 0)
            if !got {
                if n == 0 { return false }
                continue
            }
            if !overflow {
                n += 1
                bytes += Int64(slot.count)
            }
            if !slot.hasMore { break }
            if !overflow, bytes > maxBytes {
                overflow = true
                tooLarge = true
            }
            if n >= Self.maxFrames { overflow = true }
        }
        count = n
        truncated = overflow
        return true
    }
}
