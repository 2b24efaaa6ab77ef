import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Waits on several sockets and/or plain file descriptors at once (`zmq_poll`).
///
/// Register once, then call ``poll(timeoutMilliseconds:)`` in a loop and read each entry's readiness by the
/// index ``register(_:events:)`` returned. Keeps its sockets alive while it exists; like them, it belongs to one
/// thread. A registered socket that gets closed makes ``poll(timeoutMilliseconds:)`` throw `ENOTSOCK`.
public struct Poller {
    private var items: [zmq_pollitem_t] = []
    /// Parallel to `items`: the socket of each entry (`nil` for a file descriptor), kept alive here.
    private var sockets: [Socket?] = []

    /// Makes an empty poller.
    public init() {}

    /// The number of registered entries.
    public var count: Int {
        items.count
    }

    /// Adds `socket`, watched for `events`; returns its index for ``returnedEvents(at:)``.
    @discardableResult
    public mutating func register(_ socket: Socket, events: PollEvents = .pollIn) -> Int {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: events.rawValue, revents: 0))
        sockets.append(socket)
        return items.count - 1
    }

    /// Adds a plain file descriptor (pipe, eventfd, signalfd, TCP socket…), watched for `events`; returns its
    /// index for ``returnedEvents(at:)``. The poller does not own or close it.
    @discardableResult
    public mutating func register(fileDescriptor: Int32, events: PollEvents = .pollIn) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: events.rawValue, revents: 0))
        sockets.append(nil)
        return items.count - 1
    }

    /// Waits until at least one entry is ready or `timeoutMilliseconds` pass (0: just check, -1: forever).
    ///
    /// A wait interrupted by a signal is resumed with the time that remains.
    ///
    /// - Returns: the number of ready entries (0 on timeout).
    /// - Throws: ``ZMQError``: kind ``ZMQError/Kind/terminated`` once a polled socket's context is shut down,
    ///   `ENOTSOCK` if a registered socket was closed.
    @discardableResult
    public mutating func poll(timeoutMilliseconds: Int) throws -> Int {
        for index in items.indices {
            items[index].revents = 0
            if let socket = sockets[index] {
                guard let handle = socket.handle else {
                    throw ZMQError(code: ENOTSOCK, operation: "zmq_poll(entry \(index): closed socket)")
                }
                items[index].socket = handle
            }
        }
        let clock = ContinuousClock()
        let deadline = timeoutMilliseconds > 0 ? clock.now.advanced(by: .milliseconds(timeoutMilliseconds)) : nil
        var timeout = timeoutMilliseconds
        return Int(
            try items.withUnsafeMutableBufferPointer { buffer in
                try zmqCall("zmq_poll(\(buffer.count) entries)") {
                    let ready = zmq_poll(buffer.baseAddress, Int32(buffer.count), timeout)
                    if let deadline {
                        // Only used if the gate retries after EINTR: wait for what remains.
                        timeout = Self.milliseconds(until: deadline, clock: clock)
                    }
                    return ready
                }
            }
        )
    }

    /// The whole milliseconds left until `deadline`, rounded up, never negative.
    private static func milliseconds(until deadline: ContinuousClock.Instant, clock: ContinuousClock) -> Int {
        let remaining = clock.now.duration(to: deadline)
        guard remaining > .zero else {
            return 0
        }
        let (seconds, attoseconds) = remaining.components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let (wholeMilliseconds, leftover) = attoseconds.quotientAndRemainder(dividingBy: attosecondsPerMillisecond)
        return Int(seconds * 1000 + wholeMilliseconds + (leftover > 0 ? 1 : 0))
    }

    /// What the last ``poll(timeoutMilliseconds:)`` found ready at `index` (empty for an unknown index).
    public func returnedEvents(at index: Int) -> PollEvents {
        guard items.indices.contains(index) else {
            return []
        }
        return PollEvents(rawValue: items[index].revents)
    }

    /// `true` when the last ``poll(timeoutMilliseconds:)`` found something to receive or read at `index`.
    public func isReadable(at index: Int) -> Bool {
        returnedEvents(at: index).contains(.pollIn)
    }

    /// `true` when the last ``poll(timeoutMilliseconds:)`` found that a send or write at `index` would not block.
    public func isWritable(at index: Int) -> Bool {
        returnedEvents(at: index).contains(.pollOut)
    }
}
