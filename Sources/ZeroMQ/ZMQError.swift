import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed libzmq call: which call, the `errno` it left, and libzmq's text for it.
///
/// Every fallible `zmq_*` call in this module goes through one gate (`zmqCall`), so every error a caller sees
/// has this shape. Branch on ``kind`` for the two cases a loop must handle (``Kind/wouldBlock`` and
/// ``Kind/terminated``); compare ``code`` with an `errno` constant (`EHOSTUNREACH`, `EADDRINUSE`…) for the rest.
public struct ZMQError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The coarse class of a failure, for control flow.
    public enum Kind: Sendable, Equatable {
        /// `EAGAIN`: a non-blocking call could not proceed, or a send/receive timeout expired.
        case wouldBlock
        /// `ETERM`: the context was shut down or terminated; close the socket and let the thread end.
        case terminated
        /// Any other `errno`; see ``ZMQError/code``.
        case other
    }

    /// The coarse class of the failure, derived from ``code``.
    public let kind: Kind
    /// The `errno` value libzmq reported (`zmq_errno()`), e.g. `EHOSTUNREACH`.
    public let code: Int32
    /// The call that failed, with its main argument, e.g. `zmq_bind(tcp://127.0.0.1:7600)`.
    public let operation: String
    /// libzmq's text for ``code`` (`zmq_strerror`), e.g. "Address already in use".
    public let message: String

    /// libzmq's own `errno` values, which the system's headers do not define.
    public enum Code {
        /// `ETERM`: the context was shut down or terminated (kind ``ZMQError/Kind/terminated``).
        public static let terminated: Int32 = ETERM
        /// `EFSM`: the call is not allowed in the socket's current state (REQ/REP order).
        public static let wrongState: Int32 = EFSM
        /// `EMTHREAD`: no I/O thread is available.
        public static let noIOThread: Int32 = EMTHREAD
        /// `ENOCOMPATPROTO`: the transport is not compatible with the socket type.
        public static let incompatibleProtocol: Int32 = ENOCOMPATPROTO
    }

    /// Makes the error for `code` as left by `operation`; ``kind`` and ``message`` are derived from `code`.
    ///
    /// Public so that fakes and tests can build the errors a real socket would throw.
    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
        self.kind = Self.kind(of: code)
        if let text = zmq_strerror(code) {
            self.message = String(cString: text)
        } else {
            self.message = "errno \(code)"
        }
    }

    /// What the caller can do about the most common failures, or `nil` when there is nothing specific to say.
    public var hint: String? {
        switch code {
        case EADDRINUSE:
            return "another process (or socket) already listens on this address; pick another port or stop it"
        case EADDRNOTAVAIL:
            return "the address is not one of this machine's interfaces"
        case EHOSTUNREACH:
            return "no connected peer has this routing id (ROUTER_MANDATORY); it has disconnected or never connected"
        case EPROTONOSUPPORT:
            return "unknown transport; use tcp://, ipc:// or inproc://"
        case ENOTSOCK:
            return "the socket was already closed"
        case ENOENT:
            return "nothing is bound or connected at this endpoint"
        case ETERM:
            return "the context is shutting down; close the socket"
        case EAGAIN:
            return "no peer is ready or the timeout expired; retry later"
        case EFSM:
            return "operation not allowed in this socket's current state (REQ/REP must alternate send and receive)"
        case EMTHREAD:
            return "no I/O thread available; create the context with ioThreads >= 1"
        default:
            return nil
        }
    }

    /// One line: the call, libzmq's text, the `errno` value and, when there is one, a hint.
    public var description: String {
        var text = "\(operation) failed: \(message) (errno \(code))"
        if let hint {
            text += "; \(hint)"
        }
        return text
    }

    static func kind(of code: Int32) -> Kind {
        switch code {
        case EAGAIN: return .wouldBlock
        case ETERM: return .terminated
        default: return .other
        }
    }
}

/// The one gate for every fallible libzmq call.
///
/// Runs `call`; on `-1` reads `zmq_errno()` at once (before anything else can overwrite it), retries on `EINTR`
/// (so `call` is evaluated again: a closure that computes a remaining timeout gets to recompute it), and otherwise
/// throws a ``ZMQError`` for `operation`, whose `kind` maps `EAGAIN` to `.wouldBlock` and `ETERM` to `.terminated`.
/// `operation` is only evaluated when throwing, so the success path builds no string.
///
/// Only the pure accessors, which have no error return (`zmq_msg_data`, `zmq_msg_size`, `zmq_msg_more`,
/// `zmq_version`, `zmq_has`, `zmq_strerror`, `zmq_errno`), are called directly.
@inline(__always)
@discardableResult
func zmqCall(_ operation: @autoclosure () -> String, _ call: () -> Int32) throws(ZMQError) -> Int32 {
    while true {
        let result = call()
        if result != -1 {
            return result
        }
        let code = zmq_errno()
        if code == EINTR {
            continue
        }
        throw ZMQError(code: code, operation: operation())
    }
}

/// For the few calls that return a pointer and signal failure with `NULL` (`zmq_ctx_new`, `zmq_socket`,
/// `zmq_msg_gets`, `zmq_z85_*`): passes them through ``zmqCall(_:_:)``, so the same errno, EINTR and mapping rules
/// apply. (A distinct name, so that an `Int32` call can never be taken for an optional "pointer".)
@inline(__always)
func zmqCallReturningPointer<Pointer>(
    _ operation: @autoclosure () -> String,
    _ call: () -> Pointer?
) throws(ZMQError) -> Pointer {
    var pointer: Pointer?
    try zmqCall(operation()) {
        pointer = call()
        return pointer == nil ? -1 : 0
    }
    guard let pointer else {
        // Unreachable: the gate throws whenever the call returned NULL.
        throw ZMQError(code: EFAULT, operation: operation())
    }
    return pointer
}
