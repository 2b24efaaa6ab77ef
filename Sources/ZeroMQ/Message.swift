import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One frame: an owned `zmq_msg_t`.
///
/// Reusable: ``Socket/receive(into:dontWait:)`` releases the previous content and fills it again, so a receive
/// loop allocates no `Message` per frame. Reading in place (``withUnsafeBytes(_:)``) does not copy; ``bytes`` and
/// ``string`` do. Not `Sendable`: a message belongs to one thread at a time.
public final class Message {
    /// The `zmq_msg_t`, on the heap so that it never moves while libzmq refers to it.
    let pointer: UnsafeMutablePointer<zmq_msg_t>

    /// Makes an empty message (zero bytes), ready to receive into.
    public init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: zmq_msg_t())
        Self.initEmpty(pointer)
    }

    /// `zmq_msg_init`, which always succeeds (it only zeroes the structure).
    private static func initEmpty(_ pointer: UnsafeMutablePointer<zmq_msg_t>) {
        _ = try? zmqCall("zmq_msg_init") { zmq_msg_init(pointer) }
    }

    /// Makes a message holding a copy of `bytes`.
    public convenience init(bytes: [UInt8]) {
        self.init()
        bytes.withUnsafeBytes { fill(copying: $0) }
    }

    /// Makes a message holding a copy of the memory `bytes` points to.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init()
        fill(copying: bytes)
    }

    /// Makes a message holding the UTF-8 bytes of `string` (no terminating NUL).
    public convenience init(string: String) {
        self.init()
        var string = string
        string.withUTF8 { fill(copying: UnsafeRawBufferPointer($0)) }
    }

    deinit {
        // zmq_msg_close fails only on an invalid message (EFAULT), which this class never holds.
        _ = try? zmqCall("zmq_msg_close") { zmq_msg_close(pointer) }
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }

    /// Replaces the (empty) content with a copy of `source`.
    private func fill(copying source: UnsafeRawBufferPointer) {
        guard source.count > 0, let base = source.baseAddress else {
            return
        }
        _ = try? zmqCall("zmq_msg_close") { zmq_msg_close(pointer) }
        do {
            try zmqCall("zmq_msg_init_size(\(source.count))") { zmq_msg_init_size(pointer, source.count) }
        } catch {
            // Only ENOMEM: the same out-of-memory condition on which Swift's own allocations trap.
            Self.initEmpty(pointer)
            preconditionFailure("\(error)")
        }
        zmq_msg_data(pointer).copyMemory(from: base, byteCount: source.count)
    }

    /// The number of bytes in the frame.
    public var count: Int {
        zmq_msg_size(pointer)
    }

    /// `true` when the frame holds no byte.
    public var isEmpty: Bool {
        count == 0
    }

    /// Calls `body` with a view of the frame's bytes, without copying them.
    ///
    /// The view is valid only inside `body`, and only until the message is next sent or received into.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let size = zmq_msg_size(pointer)
        guard size > 0, let data = zmq_msg_data(pointer) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: data, count: size))
    }

    /// The frame's bytes, without copying, outside a closure: for decoders that look at
    /// several frames of one message at once.
    ///
    /// Valid until the message is next sent, received into, or deinitialized; the caller
    /// keeps the message alive and untouched meanwhile.
    public var unsafeBytes: UnsafeRawBufferPointer {
        let size = zmq_msg_size(pointer)
        guard size > 0, let data = zmq_msg_data(pointer) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: data, count: size)
    }

    /// A copy of the frame's bytes.
    public var bytes: [UInt8] {
        withUnsafeBytes { [UInt8]($0) }
    }

    /// A copy of the frame as text; invalid UTF-8 is repaired with U+FFFD.
    public var string: String {
        withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// `true` when more frames of the same multipart message follow this one (`zmq_msg_more`).
    ///
    /// Meaningful after a receive.
    public var hasMore: Bool {
        zmq_msg_more(pointer) != 0
    }

    /// Calls `body` with a metadata property of a received frame as bytes (`zmq_msg_gets`, no copy), or `nil`
    /// if the connection did not set it: for per-message lookups such as `User-Id` on a hot path.
    public func withMetadata<R>(_ property: String, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard let value = zmq_msg_gets(pointer, property) else { return try body(nil) }
        return try body(UnsafeRawBufferPointer(start: value, count: strlen(value)))
    }

    /// A metadata property of a received frame (`zmq_msg_gets`), or `nil` if the connection did not set it.
    ///
    /// Properties: `Socket-Type`, `Routing-Id`, `Peer-Address`, and, after ZAP authentication, `User-Id` (the
    /// name the ZAP handler returned for the peer's key) plus any metadata the handler added.
    public func metadata(_ property: String) -> String? {
        let value = try? zmqCallReturningPointer("zmq_msg_gets(\(property))") {
            zmq_msg_gets(pointer, property)
        }
        return value.map { String(cString: $0) }
    }
}

extension Message: CustomStringConvertible {
    /// The frame's size and, for short frames, its text (for logs and test failures).
    public var description: String {
        let size = count
        if size <= 64 {
            return "Message(\(size) bytes: \(string.debugDescription))"
        }
        return "Message(\(size) bytes)"
    }
}
