import CZeroMQ

/// Z85, ZeroMQ's printable encoding of binary data (RFC 32/Z85): 5 characters for every 4 bytes.
///
/// Used for CURVE keys (32 bytes ↔ 40 characters), which can then live in text files and configuration.
public enum Z85 {
    /// Encodes `bytes`, whose count must be a multiple of 4; `nil` otherwise.
    public static func encode(_ bytes: [UInt8]) -> String? {
        guard bytes.count % 4 == 0 else {
            return nil
        }
        if bytes.isEmpty {
            return ""
        }
        let capacity = bytes.count / 4 * 5 + 1
        let characters = [CChar](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            let result = bytes.withUnsafeBufferPointer { source in
                try? zmqCallReturningPointer("zmq_z85_encode") {
                    zmq_z85_encode(buffer.baseAddress, source.baseAddress, source.count)
                }
            }
            initialized = result == nil ? 0 : capacity
        }
        guard characters.count == capacity else {
            return nil
        }
        return String(decoding: characters.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes Z85 `text`, whose length must be a multiple of 5 and whose characters must all be in the Z85
    /// alphabet; `nil` otherwise.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 5 == 0, !utf8.contains(0) else {
            return nil
        }
        if utf8.isEmpty {
            return []
        }
        let capacity = utf8.count / 5 * 4
        let cString = utf8.map { CChar(bitPattern: $0) } + [0]
        let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            let result = cString.withUnsafeBufferPointer { source in
                try? zmqCallReturningPointer("zmq_z85_decode") {
                    zmq_z85_decode(buffer.baseAddress, source.baseAddress)
                }
            }
            initialized = result == nil ? 0 : capacity
        }
        guard bytes.count == capacity else {
            return nil
        }
        return bytes
    }
}
