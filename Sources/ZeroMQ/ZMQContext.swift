import CZeroMQ

/// A libzmq context: the I/O threads and the `inproc://` namespace that its sockets share.
///
/// Thread-safe (libzmq contexts are), so one context is shared by every thread of a process. Its life ends only
/// by an explicit ``terminate()``: `deinit` does nothing, because `zmq_ctx_term` blocks until every socket is
/// closed and a hidden block in a deinit would hang a process for no visible reason. A context dropped without
/// `terminate()` leaks its I/O threads until the process exits. Sockets hold their context strongly.
///
/// Orderly stop: ``shutdown()`` (every blocked call on every socket returns ``ZMQError/Kind/terminated``), each
/// owning thread closes its sockets, then one thread calls ``terminate()``.
public final class ZMQContext: @unchecked Sendable {
    private enum State {
        case active
        case shutDown
        case terminating
        case terminated
    }

    /// The `void *` context handle; valid until `zmq_ctx_term` returns.
    let handle: UnsafeMutableRawPointer
    private let lock = Lock()
    /// Guarded by `lock`.
    private var state = State.active

    /// Creates a context with `ioThreads` I/O threads (libzmq's default is 1, plenty below ~1 GB/s).
    ///
    /// - Parameters:
    ///   - ioThreads: background threads that do the network I/O; at least 1 for `tcp://` and `ipc://`.
    ///   - defaultLinger: the `ZMQ_LINGER` (ms) every new socket of this context starts with; `nil` keeps
    ///     libzmq's default of -1 (wait forever). **A process that stops with ``shutdown()`` should pass a bound
    ///     here** (e.g. 0 or 1000): once a socket has seen ``ZMQError/Kind/terminated``, libzmq refuses option
    ///     changes, so ``Socket/close(linger:)`` can no longer bound its linger, and ``terminate()`` then waits
    ///     forever for any message still queued to a peer that does not read.
    /// - Throws: ``ZMQError`` if libzmq cannot create the context or rejects the settings.
    public init(ioThreads: Int32 = 1, defaultLinger: Int32? = nil) throws {
        handle = try zmqCallReturningPointer("zmq_ctx_new") { zmq_ctx_new() }
        self.defaultLinger = defaultLinger
        do {
            try zmqCall("zmq_ctx_set(ZMQ_IO_THREADS, \(ioThreads))") {
                zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
            }
        } catch {
            _ = try? zmqCall("zmq_ctx_term") { zmq_ctx_term(handle) }
            throw error
        }
    }

    /// The `ZMQ_LINGER` (ms) new sockets start with, or `nil` for libzmq's default (-1, forever).
    public let defaultLinger: Int32?

    deinit {
        // Deliberately empty: never terminate here (see the type's documentation).
    }

    /// Creates a socket of `type` in this context.
    ///
    /// The socket belongs to the calling thread: use it, and close it, only there.
    ///
    /// - Throws: ``ZMQError`` with kind ``ZMQError/Kind/terminated`` once ``shutdown()`` or ``terminate()`` was
    ///   called; `EMFILE` when the context's socket limit (1023 by default) is reached.
    public func makeSocket(_ type: SocketType) throws -> Socket {
        // The lock is held across zmq_socket so that terminate() cannot free the context under it.
        let socketHandle: UnsafeMutableRawPointer = try lock.withLock {
            guard state == .active else {
                throw ZMQError(code: ETERM, operation: "zmq_socket(\(type))")
            }
            return try zmqCallReturningPointer("zmq_socket(\(type))") { zmq_socket(handle, type.zmqValue) }
        }
        let socket = Socket(handle: socketHandle, context: self, type: type)
        if let defaultLinger {
            try socket.setLinger(defaultLinger)  // on failure the socket's deinit closes it
        }
        return socket
    }

    /// Starts shutting the context down: every blocking call on every socket of this context, now or later,
    /// fails with ``ZMQError/Kind/terminated``.
    ///
    /// Returns at once and is idempotent. Sockets still have to be closed by their threads before
    /// ``terminate()`` can return. Safe to call from any thread, e.g. a signal-handling task.
    public func shutdown() {
        lock.withLock {
            guard state == .active else {
                return
            }
            // Can only fail with EFAULT on an invalid handle, which `state` rules out.
            _ = try? zmqCall("zmq_ctx_shutdown") { zmq_ctx_shutdown(handle) }
            state = .shutDown
        }
    }

    /// Terminates the context: blocks until every socket of this context is closed and each socket's linger
    /// has expired, then frees the context.
    ///
    /// Implies ``shutdown()``. Call it once, from a thread that owns no open socket of this context (or it
    /// blocks forever). Later calls return at once. After it, ``makeSocket(_:)`` throws.
    ///
    /// - Throws: ``ZMQError`` if libzmq reports a failure other than an interrupted wait (which is retried).
    public func terminate() throws {
        let mustTerminate = lock.withLock {
            switch state {
            case .active, .shutDown:
                state = .terminating
                return true
            case .terminating, .terminated:
                return false
            }
        }
        guard mustTerminate else {
            return
        }
        try zmqCall("zmq_ctx_term") { zmq_ctx_term(handle) }
        lock.withLock { state = .terminated }
    }
}
