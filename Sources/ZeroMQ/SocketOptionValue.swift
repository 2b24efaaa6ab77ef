import CZeroMQ

/// A Swift type that can travel through `zmq_setsockopt` / `zmq_getsockopt`.
///
/// The generic ``Socket/setOption(_:_:_:)`` and ``Socket/getOption(_:_:as:capacity:)`` use it, so that each typed
/// option of `Socket+Options.swift` is one line.
protocol SocketOptionValue {
    /// The size of the buffer `zmq_getsockopt` writes into.
    static var optionCapacity: Int { get }
    /// Decodes the bytes `zmq_getsockopt` wrote.
    init(optionBytes: UnsafeRawBufferPointer)
    /// Calls `body` with the bytes to hand to `zmq_setsockopt`.
    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Int32: SocketOptionValue {
    static var optionCapacity: Int { MemoryLayout<Int32>.size }

    init(optionBytes: UnsafeRawBufferPointer) {
        self = optionBytes.count >= MemoryLayout<Int32>.size ? optionBytes.loadUnaligned(as: Int32.self) : 0
    }

    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self) { try body($0) }
    }
}

extension Int64: SocketOptionValue {
    static var optionCapacity: Int { MemoryLayout<Int64>.size }

    init(optionBytes: UnsafeRawBufferPointer) {
        self = optionBytes.count >= MemoryLayout<Int64>.size ? optionBytes.loadUnaligned(as: Int64.self) : 0
    }

    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self) { try body($0) }
    }
}

/// libzmq's boolean options are `int` 0/1.
extension Bool: SocketOptionValue {
    static var optionCapacity: Int { MemoryLayout<Int32>.size }

    init(optionBytes: UnsafeRawBufferPointer) {
        self = Int32(optionBytes: optionBytes) != 0
    }

    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Int32(self ? 1 : 0).withOptionBytes(body)
    }
}

/// Binary options (routing id, subscription prefix, raw CURVE key).
extension [UInt8]: SocketOptionValue {
    static var optionCapacity: Int { 256 }

    init(optionBytes: UnsafeRawBufferPointer) {
        self.init(optionBytes)
    }

    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes { try body($0) }
    }
}

/// Text options: set without a terminating NUL (libzmq takes the length), read back up to the first NUL.
extension String: SocketOptionValue {
    static var optionCapacity: Int { 256 }

    init(optionBytes: UnsafeRawBufferPointer) {
        let end = optionBytes.firstIndex(of: 0) ?? optionBytes.count
        self.init(decoding: UnsafeRawBufferPointer(rebasing: optionBytes[..<end]), as: UTF8.self)
    }

    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}

extension Socket {
    /// Sets option `code` (named `name` in errors) to `value`: the one path to `zmq_setsockopt`.
    func setOption<Value: SocketOptionValue>(_ code: Int32, _ name: String, _ value: Value) throws {
        let handle = try openHandle("zmq_setsockopt(\(name))")
        _ = try value.withOptionBytes { bytes in
            try zmqCall("zmq_setsockopt(\(name))") { zmq_setsockopt(handle, code, bytes.baseAddress, bytes.count) }
        }
    }

    /// Reads option `code` (named `name` in errors) as a `Value`: the one path to `zmq_getsockopt`.
    ///
    /// - Parameter capacity: the buffer size handed to libzmq; some options (CURVE keys) decide the format by it.
    func getOption<Value: SocketOptionValue>(
        _ code: Int32,
        _ name: String,
        as type: Value.Type = Value.self,
        capacity: Int = Value.optionCapacity
    ) throws -> Value {
        let handle = try openHandle("zmq_getsockopt(\(name))")
        return try withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 8) { buffer in
            var size = capacity
            try zmqCall("zmq_getsockopt(\(name))") { zmq_getsockopt(handle, code, buffer.baseAddress, &size) }
            return Value(optionBytes: UnsafeRawBufferPointer(rebasing: buffer[..<min(size, capacity)]))
        }
    }
}
