import Foundation

/// A bounded FIFO between the engine thread (producer) and notifier workers (consumers).
///
/// `tryPush` never waits for room: a full queue refuses the element at once, so the
/// engine thread only ever holds the lock for an append. Workers block in `pop` until
/// an element arrives or the queue is closed.
final class NotifierQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var elements: [Element] = []
    private var head = 0
    private var closed = false
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Appends `element` unless the queue is full or closed; never waits.
    func tryPush(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, elements.count - head < capacity else { return false }
        elements.append(element)
        condition.signal()
        return true
    }

    /// The next element, waiting for one; `nil` once the queue is closed.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while !closed && head == elements.count { condition.wait() }
        guard !closed else { return nil }
        let element = elements[head]
        head += 1
        if head == elements.count {
            elements.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1_024 {
            elements.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Waits up to `nanoseconds` or until the queue closes; returns false if closed.
    func sleep(nanoseconds: Int64) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(nanoseconds) / 1e9)
        condition.lock()
        defer { condition.unlock() }
        while !closed, condition.wait(until: deadline) {}
        return !closed
    }

    /// Elements waiting (for `/metrics`).
    var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return elements.count - head
    }

    /// True once `close()` was called.
    var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }

    /// Closes the queue: pending elements are dropped and every waiter wakes up.
    func close() {
        condition.lock()
        closed = true
        elements.removeAll()
        head = 0
        condition.broadcast()
        condition.unlock()
    }
}
