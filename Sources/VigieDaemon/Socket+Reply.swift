import ZeroMQ

extension Socket {
    /// Sends a reply on a ROUTER: `frames[envelope]` (the routing id and any frames
    /// before the request), then `parts`, never waiting. Returns false when the peer is
    /// gone or its queue is full: the caller counts the reply as dropped.
    func sendReply(envelope: Range<Int>, of frames: [Message], _ parts: [UInt8]...) -> Bool {
        do {
            for f in envelope {
                guard try frames[f].withUnsafeBytes({ try send($0, more: true, dontWait: true) }) else { return false }
            }
            for (i, part) in parts.enumerated() {
                guard try send(part, more: i < parts.count - 1, dontWait: true) else { return false }
            }
            return true
        } catch {
            return false
        }
    }
}
