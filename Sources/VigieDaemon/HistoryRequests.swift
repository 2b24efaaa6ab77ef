import Synchronization
import VigieCore

/// Decoded `history`/`events` requests on their way from the engine thread to the
/// history query thread: the engine posts one and sends its number over the PAIR
/// socket with the reply's envelope; the query thread takes it by that number. So the
/// request is decoded once, on the engine thread, and the history thread reads no JSON.
final class HistoryRequests: Sendable {
    private struct Mailbox {
        var next: UInt64 = 0
        var waiting: [UInt64: ControlRequest] = [:]
    }

    private let mailbox = Mutex(Mailbox())

    /// Leaves `request` for the query thread; returns its number.
    func post(_ request: ControlRequest) -> UInt64 {
        mailbox.withLock { box in
            box.next &+= 1
            box.waiting[box.next] = request
            return box.next
        }
    }

    /// Takes request `number` (nil when it was never posted or already taken).
    @discardableResult
    func take(_ number: UInt64) -> ControlRequest? {
        mailbox.withLock { $0.waiting.removeValue(forKey: number) }
    }

    /// Requests posted and not taken.
    var count: Int { mailbox.withLock { $0.waiting.count } }
}
