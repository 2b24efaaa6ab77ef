import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A ZeroMQ socket, made by ``ZMQContext/makeSocket(_:)``.
///
/// Not `Sendable`: libzmq sockets are not thread-safe, so a socket is used, and closed, only by the thread that
/// created it; other threads talk to that thread over an `inproc://` socket. The socket keeps its context alive.
/// Close it with ``close(linger:)``; `deinit` closes a socket still open with linger 0 (pending messages dropped).
///
/// Sends and receives go through `zmq_msg_*`. With `dontWait: true` they return `false` when they would block;
/// a blocking call whose send/receive timeout (``setSendTimeout(_:)``, ``setReceiveTimeout(_:)``) expires throws
/// ``ZMQError`` of kind ``ZMQError/Kind/wouldBlock``. After ``ZMQContext/shutdown()`` every call throws kind
/// ``ZMQError/Kind/terminated``: close the socket and stop. Every method on a closed socket throws `ENOTSOCK`.
public final class Socket {
    /// The `void *` socket handle, `nil` once closed.
    private(set) var handle: UnsafeMutableRawPointer?

    /// The context the socket belongs to (held strongly, so it outlives the socket).
    public let context: ZMQContext

    /// The socket's pattern.
    public let socketType: SocketType

    init(handle: UnsafeMutableRawPointer, context: ZMQContext, type: SocketType) {
        self.handle = handle
        self.context = context
        self.socketType = type
    }

    deinit {
        close(linger: 0)
    }

    /// `true` once ``close(linger:)`` was called.
    public var isClosed: Bool {
        handle == nil
    }

    /// The open handle, or `ENOTSOCK` for `operation`.
    func openHandle(_ operation: @autoclosure () -> String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else {
            throw ZMQError(code: ENOTSOCK, operation: operation())
        }
        return handle
    }

    // MARK: - Endpoints

    /// Binds to `endpoint`, e.g. `tcp://127.0.0.1:7600`, `tcp://127.0.0.1:*` (any free port: read it back with
    /// ``lastEndpoint``), `ipc:///run/vigie/control.sock` or `inproc://engine`.
    ///
    /// - Throws: ``ZMQError``, e.g. `EADDRINUSE`, `EPROTONOSUPPORT` (unknown transport), `EINVAL` (malformed).
    public func bind(_ endpoint: String) throws {
        let handle = try openHandle("zmq_bind(\(endpoint))")
        try enableIPv6IfNeeded(endpoint)
        try zmqCall("zmq_bind(\(endpoint))") { zmq_bind(handle, endpoint) }
    }

    /// libzmq refuses an IPv6 address (`tcp://[::1]:7600`) unless `ZMQ_IPV6` is set first;
    /// set it for such endpoints (IPv4 endpoints of the same socket keep working).
    private func enableIPv6IfNeeded(_ endpoint: String) throws {
        if endpoint.hasPrefix("tcp://["), (try? ipv6) != true { try setIPv6(true) }
    }

    /// Stops listening on `endpoint`, which must be the string given to ``bind(_:)`` or, after a wildcard bind,
    /// the resolved ``lastEndpoint``.
    ///
    /// - Throws: ``ZMQError`` with code `ENOENT` if nothing is bound there.
    public func unbind(_ endpoint: String) throws {
        let handle = try openHandle("zmq_unbind(\(endpoint))")
        try zmqCall("zmq_unbind(\(endpoint))") { zmq_unbind(handle, endpoint) }
    }

    /// Connects to `endpoint`; returns at once, libzmq connects (and reconnects) in the background.
    ///
    /// - Throws: ``ZMQError`` for a malformed endpoint or unknown transport; never for an absent peer.
    public func connect(_ endpoint: String) throws {
        let handle = try openHandle("zmq_connect(\(endpoint))")
        try enableIPv6IfNeeded(endpoint)
        try zmqCall("zmq_connect(\(endpoint))") { zmq_connect(handle, endpoint) }
    }

    /// Drops the connection to `endpoint`, given exactly as to ``connect(_:)``.
    ///
    /// - Throws: ``ZMQError`` with code `ENOENT` if the socket is not connected there.
    public func disconnect(_ endpoint: String) throws {
        let handle = try openHandle("zmq_disconnect(\(endpoint))")
        try zmqCall("zmq_disconnect(\(endpoint))") { zmq_disconnect(handle, endpoint) }
    }

    /// The endpoint of the last ``bind(_:)`` or ``connect(_:)``, resolved: after binding `tcp://127.0.0.1:*` it
    /// is e.g. `tcp://127.0.0.1:41234`.
    public var lastEndpoint: String {
        get throws {
            try getOption(ZMQ_LAST_ENDPOINT, "ZMQ_LAST_ENDPOINT", as: String.self, capacity: 1024)
        }
    }

    /// Closes the socket; idempotent.
    ///
    /// - Parameter linger: if given, first sets `ZMQ_LINGER` to this many milliseconds: how long
    ///   ``ZMQContext/terminate()`` may still spend delivering this socket's queued messages (0: drop them,
    ///   -1: forever). Without it the socket's current linger applies. Once the socket has seen
    ///   ``ZMQError/Kind/terminated``, libzmq refuses option changes and the value is ignored: bound linger
    ///   beforehand (``ZMQContext/init(ioThreads:defaultLinger:)`` or ``setLinger(_:)``).
    public func close(linger: Int32? = nil) {
        guard let handle else {
            return
        }
        if let linger {
            // Fails only once the socket has seen ETERM; closing must go on regardless.
            try? setLinger(linger)
        }
        // zmq_close fails only on an invalid handle (ENOTSOCK), which `handle` rules out.
        _ = try? zmqCall("zmq_close") { zmq_close(handle) }
        self.handle = nil
    }

    // MARK: - Sending

    /// Sends a copy of `bytes` as one frame.
    ///
    /// - Parameters:
    ///   - more: `true` if more frames of the same message follow (`ZMQ_SNDMORE`).
    ///   - dontWait: return `false` instead of blocking when the message cannot be queued now (high-water mark
    ///     reached, or no peer for PUSH/DEALER/REQ).
    /// - Returns: `true` when queued; `false` only with `dontWait` when it would have blocked.
    /// - Throws: ``ZMQError`` (kind ``ZMQError/Kind/wouldBlock`` if a send timeout expired; `EHOSTUNREACH` for
    ///   an unknown routing id on a ROUTER with ``setRouterMandatory(_:)``).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, dontWait: Bool = false) throws -> Bool {
        let handle = try openHandle("zmq_msg_send")
        return try withUnsafeTemporaryAllocation(of: zmq_msg_t.self, capacity: 1) { buffer in
            guard let message = buffer.baseAddress else {
                throw ZMQError(code: ENOMEM, operation: "zmq_msg_init_size(\(bytes.count))")
            }
            try zmqCall("zmq_msg_init_size(\(bytes.count))") { zmq_msg_init_size(message, bytes.count) }
            // After a successful send libzmq leaves an empty message: closing it is always right.
            defer { _ = try? zmqCall("zmq_msg_close") { zmq_msg_close(message) } }
            if let base = bytes.baseAddress, bytes.count > 0 {
                zmq_msg_data(message).copyMemory(from: base, byteCount: bytes.count)
            }
            return try send(message: message, handle: handle, more: more, dontWait: dontWait)
        }
    }

    /// Sends a copy of `bytes` as one frame; see the `UnsafeRawBufferPointer` overload.
    @discardableResult
    public func send(_ bytes: [UInt8], more: Bool = false, dontWait: Bool = false) throws -> Bool {
        try bytes.withUnsafeBytes { try send($0, more: more, dontWait: dontWait) }
    }

    /// Sends the UTF-8 bytes of `string` (no terminating NUL) as one frame; see the
    /// `UnsafeRawBufferPointer` overload.
    @discardableResult
    public func send(_ string: String, more: Bool = false, dontWait: Bool = false) throws -> Bool {
        var string = string
        return try string.withUTF8 { try send(UnsafeRawBufferPointer($0), more: more, dontWait: dontWait) }
    }

    /// Sends `message` without copying its bytes (e.g. to forward a received frame); on success `message` is
    /// left empty and may be reused. When it returns `false` or throws, `message` is unchanged.
    ///
    /// The `more` flag comes from the argument, not from the message's ``Message/hasMore``.
    @discardableResult
    public func send(_ message: Message, more: Bool = false, dontWait: Bool = false) throws -> Bool {
        let handle = try openHandle("zmq_msg_send")
        return try send(message: message.pointer, handle: handle, more: more, dontWait: dontWait)
    }

    /// Sends `frames` as one multipart message (all frames arrive, or none).
    ///
    /// With `dontWait`, returns `false` when the first frame cannot be queued (nothing was sent). An empty
    /// array sends nothing and returns `true`.
    @discardableResult
    public func sendMultipart(_ frames: [[UInt8]], dontWait: Bool = false) throws -> Bool {
        for (index, frame) in frames.enumerated() {
            let more = index < frames.count - 1
            guard try send(frame, more: more, dontWait: dontWait) else {
                return false
            }
        }
        return true
    }

    /// Sends the UTF-8 bytes of each string as the frames of one multipart message; see the `[[UInt8]]`
    /// overload.
    @discardableResult
    public func sendMultipart(_ frames: [String], dontWait: Bool = false) throws -> Bool {
        for (index, frame) in frames.enumerated() {
            let more = index < frames.count - 1
            guard try send(frame, more: more, dontWait: dontWait) else {
                return false
            }
        }
        return true
    }

    /// Sends `frames` as one multipart message without copying (each message is left empty once sent); see the
    /// `[[UInt8]]` overload.
    @discardableResult
    public func sendMultipart(_ frames: [Message], dontWait: Bool = false) throws -> Bool {
        for (index, frame) in frames.enumerated() {
            let more = index < frames.count - 1
            guard try send(frame, more: more, dontWait: dontWait) else {
                return false
            }
        }
        return true
    }

    private func send(
        message: UnsafeMutablePointer<zmq_msg_t>,
        handle: UnsafeMutableRawPointer,
        more: Bool,
        dontWait: Bool
    ) throws(ZMQError) -> Bool {
        var flags: Int32 = 0
        if more {
            flags |= ZMQ_SNDMORE
        }
        if dontWait {
            flags |= ZMQ_DONTWAIT
        }
        do {
            try zmqCall("zmq_msg_send(\(socketType))") { zmq_msg_send(message, handle, flags) }
            return true
        } catch {
            if dontWait && error.kind == .wouldBlock {
                return false
            }
            throw error
        }
    }

    // MARK: - Receiving

    /// Receives the next frame into `message`, replacing its content (no allocation per frame).
    ///
    /// Check ``Message/hasMore`` (or ``hasMore``) to know whether another frame of the same message follows.
    /// When it returns `false` or throws, `message` is left empty (libzmq releases the old content first).
    ///
    /// - Returns: `true` when a frame was received; `false` only with `dontWait` when none was waiting.
    /// - Throws: ``ZMQError``: kind ``ZMQError/Kind/wouldBlock`` if the receive timeout expired,
    ///   ``ZMQError/Kind/terminated`` after ``ZMQContext/shutdown()``.
    public func receive(into message: Message, dontWait: Bool = false) throws -> Bool {
        let handle = try openHandle("zmq_msg_recv(\(socketType))")
        let flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        do {
            try zmqCall("zmq_msg_recv(\(socketType))") { zmq_msg_recv(message.pointer, handle, flags) }
            return true
        } catch {
            if dontWait && error.kind == .wouldBlock {
                return false
            }
            throw error
        }
    }

    /// Receives every frame of the next message (allocates one ``Message`` per frame).
    ///
    /// - Returns: the frames, in order (the last has `hasMore == false`); `nil` only with `dontWait` when no
    ///   message was waiting.
    /// - Throws: as ``receive(into:dontWait:)``.
    public func receiveMultipart(dontWait: Bool = false) throws -> [Message]? {
        let first = Message()
        guard try receive(into: first, dontWait: dontWait) else {
            return nil
        }
        var frames = [first]
        var more = first.hasMore
        while more {
            // libzmq delivers multipart messages atomically: the rest is already here, never blocks.
            let frame = Message()
            _ = try receive(into: frame)
            more = frame.hasMore
            frames.append(frame)
        }
        return frames
    }
}
