import Testing
import VigieCore

@Suite struct PendingRepliesTests {
    private func reply(_ replies: inout PendingReplies, position: UInt64, socket: Int, _ frames: [String]) {
        replies.begin(position: position, socket: socket)
        for frame in frames { replies.appendFrame(Array(frame.utf8)) }
    }

    @Test func releasesInOrderOnlyWhatIsDurable() {
        var replies = PendingReplies()
        reply(&replies, position: 10, socket: 0, ["id-a", "ACK", "1"])
        reply(&replies, position: 20, socket: 1, ["id-b", "ACK", "2"])
        reply(&replies, position: 30, socket: 0, ["id-c", "WELCOME"])
        var sent: [(Int, String, Bool)] = []
        let first = replies.release(upTo: 25) { socket, frame, more in
            sent.append((socket, String(decoding: frame, as: UTF8.self), more))
            return true
        }
        #expect(first == 2)
        #expect(sent.map(\.1) == ["id-a", "ACK", "1", "id-b", "ACK", "2"])
        #expect(sent.map(\.0) == [0, 0, 0, 1, 1, 1])
        #expect(sent.map(\.2) == [true, true, false, true, true, false])
        #expect(replies.count == 1)
        #expect(replies.oldestPosition == 30)
        sent.removeAll()
        #expect(replies.release(upTo: 29) { _, _, _ in true } == 0)
        #expect(
            replies.release(upTo: 30) { _, frame, _ in
                sent.append((0, String(decoding: frame, as: UTF8.self), false))
                return true
            } == 1
        )
        #expect(sent.map(\.1) == ["id-c", "WELCOME"])
        #expect(replies.isEmpty)
    }

    @Test func steadyBacklogIsCompactedWithoutLosingReplies() {
        var replies = PendingReplies()
        var next: UInt64 = 1
        var released: [String] = []
        // Always two batches of 300 waiting when a sync completes: the queue never empties.
        for round in 0..<50 {
            for _ in 0..<300 {
                reply(&replies, position: next, socket: 0, ["r\(next)"])
                next += 1
            }
            if round > 0 {
                replies.release(upTo: next - 301) { _, frame, _ in
                    released.append(String(decoding: frame, as: UTF8.self))
                    return true
                }
            }
        }
        replies.release(upTo: .max) { _, frame, _ in
            released.append(String(decoding: frame, as: UTF8.self))
            return true
        }
        #expect(released == (1..<next).map { "r\($0)" })
    }
}
