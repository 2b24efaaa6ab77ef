import CZeroMQ

/// Readiness flags of ``Poller`` and ``Socket/events`` (`ZMQ_POLLIN`, `ZMQ_POLLOUT`, `ZMQ_POLLERR`…).
public struct PollEvents: OptionSet, Sendable, Hashable {
    /// The `short` bit mask libzmq uses.
    public let rawValue: Int16

    /// Wraps a libzmq bit mask.
    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    /// A message can be received (socket) or data read (file descriptor) without blocking.
    public static let pollIn = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// A message can be sent (socket) or data written (file descriptor) without blocking.
    public static let pollOut = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
    /// An error condition on a file descriptor (never set for ZeroMQ sockets).
    public static let pollErr = PollEvents(rawValue: Int16(ZMQ_POLLERR))
    /// Urgent data on a file descriptor (never set for ZeroMQ sockets).
    public static let pollPri = PollEvents(rawValue: Int16(ZMQ_POLLPRI))
}
