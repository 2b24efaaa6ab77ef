extension VGI1 {
    /// The JSON body of an `ACK`, as ``encodeAck(accepted:rejected:duplicate:errors:into:)``
    /// writes it, for clients.
    public struct AckBody: Codable, Equatable, Sendable {
        public var accepted: Int
        public var rejected: Int
        public var duplicate: Bool
        /// The first rejected lines (at most ``VGI1/maxListedErrors``), in line order.
        public var errors: [LineError]

        /// Decodes an `ACK` body; nil when `bytes` are not one.
        public static func decode(_ bytes: [UInt8]) -> AckBody? {
            try? ControlReply.decodeMembers(AckBody.self, from: bytes).get()
        }

        /// A rejected line: 1-based line and byte column, and the reason.
        public struct LineError: Codable, Equatable, Sendable {
            public var line: Int
            public var column: Int
            public var error: String
        }
    }

    /// The JSON body of an `ERR`: `{"error":"…"}`.
    public struct ErrorBody: Codable, Equatable, Sendable {
        public var error: String

        /// Decodes an `ERR` body; nil when `bytes` are not one.
        public static func decode(_ bytes: [UInt8]) -> ErrorBody? {
            try? ControlReply.decodeMembers(ErrorBody.self, from: bytes).get()
        }
    }
}
