import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Kinds of socket events a monitor reports (`ZMQ_EVENT_*`), as a set for choosing which to watch.
public struct MonitorEvents: OptionSet, Sendable, Hashable {
    /// The `ZMQ_EVENT_*` bit mask.
    public let rawValue: UInt16

    /// Wraps a `ZMQ_EVENT_*` bit mask.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// An outgoing connection was established; the value is the new file descriptor.
    public static let connected = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_CONNECTED))
    /// A connect is in progress (non-blocking connect); the value is the error code.
    public static let connectDelayed = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_CONNECT_DELAYED))
    /// A reconnection will be tried; the value is the reconnect interval in ms.
    public static let connectRetried = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_CONNECT_RETRIED))
    /// The socket listens on an endpoint; the value is the listening file descriptor.
    public static let listening = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_LISTENING))
    /// A bind failed; the value is the `errno`.
    public static let bindFailed = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_BIND_FAILED))
    /// An incoming connection was accepted; the value is its file descriptor.
    public static let accepted = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_ACCEPTED))
    /// Accepting a connection failed; the value is the `errno`.
    public static let acceptFailed = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_ACCEPT_FAILED))
    /// A connection's file descriptor was closed; the value is the descriptor.
    public static let closed = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_CLOSED))
    /// Closing a file descriptor failed; the value is the `errno`.
    public static let closeFailed = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_CLOSE_FAILED))
    /// A session ended: the peer went away, or was dropped (e.g. a frame over ``Socket/maxMessageSize``).
    public static let disconnected = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_DISCONNECTED))
    /// The monitor was stopped; the last event it sends.
    public static let monitorStopped = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_MONITOR_STOPPED))
    /// A security handshake failed for an unspecified reason; the value is the `errno`.
    public static let handshakeFailedNoDetail = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
    /// The ZMTP (and CURVE) handshake succeeded.
    public static let handshakeSucceeded = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_SUCCEEDED))
    /// The handshake failed on a protocol error; the value is a `ZMQ_PROTOCOL_ERROR_*` code.
    public static let handshakeFailedProtocol = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL))
    /// Authentication was refused (ZAP); the value is the ZAP status code, e.g. 400.
    public static let handshakeFailedAuth = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH))
    /// Every event.
    public static let all = MonitorEvents(rawValue: UInt16(ZMQ_EVENT_ALL))
}

/// One event of a socket monitor, decoded from the two frames libzmq sends on the monitor's PAIR socket.
public struct MonitorEvent: Sendable, Equatable, CustomStringConvertible {
    /// The event (exactly one bit of ``MonitorEvents``).
    public let event: MonitorEvents
    /// The event's value: a file descriptor, an `errno`, an interval or a status code (see ``MonitorEvents``).
    public let value: UInt32
    /// The endpoint concerned, e.g. `tcp://127.0.0.1:41234`.
    public let endpoint: String

    /// Makes an event from its parts.
    public init(event: MonitorEvents, value: UInt32, endpoint: String) {
        self.event = event
        self.value = value
        self.endpoint = endpoint
    }

    /// Decodes the frames of one monitor message: 6 bytes (16-bit event, 32-bit value, native byte order),
    /// then the endpoint. `nil` if they do not have that shape.
    public init?(frames: [Message]) {
        guard frames.count == 2, frames[0].count == 6 else {
            return nil
        }
        let (event, value) = frames[0].withUnsafeBytes { bytes in
            (bytes.loadUnaligned(as: UInt16.self), bytes.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        }
        self.init(event: MonitorEvents(rawValue: event), value: value, endpoint: frames[1].string)
    }

    /// The event's name and details, for logs.
    public var description: String {
        "MonitorEvent(0x\(String(event.rawValue, radix: 16)), value: \(value), endpoint: \(endpoint))"
    }
}

extension Socket {
    /// Starts reporting this socket's connection events on a PAIR socket bound at `endpoint`
    /// (`zmq_socket_monitor`), which must be `inproc://…` and unique in the context.
    ///
    /// Make a ``SocketType/pair`` socket, connect it to `endpoint` right after this call (events sent before
    /// it connects are lost), then read events with ``Socket/receiveMonitorEvent(dontWait:)`` on it. Like any
    /// socket, that PAIR socket belongs to one thread.
    public func startMonitor(endpoint: String, events: MonitorEvents = .all) throws {
        let handle = try openHandle("zmq_socket_monitor(\(endpoint))")
        try zmqCall("zmq_socket_monitor(\(endpoint))") {
            zmq_socket_monitor(handle, endpoint, Int32(events.rawValue))
        }
    }

    /// Stops the monitor started by ``startMonitor(endpoint:events:)``; it sends ``MonitorEvents/monitorStopped``.
    public func stopMonitor() throws {
        let handle = try openHandle("zmq_socket_monitor(stop)")
        try zmqCall("zmq_socket_monitor(stop)") { zmq_socket_monitor(handle, nil, 0) }
    }

    /// On the PAIR socket connected to a monitor endpoint: receives and decodes the next event.
    ///
    /// - Returns: the event; `nil` only with `dontWait` when none was waiting.
    /// - Throws: ``ZMQError`` as ``Socket/receive(into:dontWait:)``; `EPROTO` if the message is not a monitor
    ///   event.
    public func receiveMonitorEvent(dontWait: Bool = false) throws -> MonitorEvent? {
        guard let frames = try receiveMultipart(dontWait: dontWait) else {
            return nil
        }
        guard let event = MonitorEvent(frames: frames) else {
            throw ZMQError(code: EPROTO, operation: "receiveMonitorEvent(\(frames.count) frames)")
        }
        return event
    }
}
