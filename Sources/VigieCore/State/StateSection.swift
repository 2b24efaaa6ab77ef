/// The sections of a checkpoint: each state encoder starts its output with its tag and
/// a format version, so a section can be found, checked and evolved on its own.
///
/// A decoder throws on another tag or on a version it does not know (a checkpoint from
/// a newer daemon): the caller then starts without that state rather than misreading it.
enum StateSection {
    /// `KPIEngine` window state ("K").
    static let engine: UInt8 = 0x4B
    /// `AlertEvaluator` state ("A").
    static let alerts: UInt8 = 0x41
    /// `InMemoryOperatorActionStore` acknowledgments and silences ("O").
    static let operatorActions: UInt8 = 0x4F
    /// Producers' anti-replay windows ("P").
    static let producers: UInt8 = 0x50
}

extension BinaryWriter {
    /// Starts a section: its tag, then its format version.
    mutating func writeSectionHeader(_ tag: UInt8, version: UInt8) {
        writeUInt8(tag)
        writeUInt8(version)
    }
}

extension BinaryReader {
    /// Reads a section's tag and version; throws unless they are `tag` and `version`.
    mutating func readSectionHeader(_ tag: UInt8, version: UInt8, _ what: String) throws {
        try expect(tag, what)
        let at = offset
        let found = try readUInt8()
        guard found == version else {
            throw BinaryDecodingError(
                offset: at,
                reason: "unknown \(what) format version \(found) (expected \(version))"
            )
        }
    }

    /// A count of items that each take at least `minimumBytes` bytes of what is left,
    /// and at most `limit`: a corrupt count throws instead of making the caller
    /// allocate for items that cannot be there.
    mutating func readCount(itemsOfAtLeast minimumBytes: Int, limit: Int = .max) throws -> Int {
        try readCount(limit: Swift.min(limit, remaining / Swift.max(1, minimumBytes)))
    }

    /// A zig-zag varint that must lie within ±`magnitude` (times kept in a checkpoint:
    /// arithmetic on them must not overflow).
    mutating func readVarInt(within magnitude: Int64, _ what: String) throws -> Int64 {
        let at = offset
        let v = try readVarInt()
        guard v >= -magnitude, v <= magnitude else {
            throw BinaryDecodingError(offset: at, reason: "\(what) \(v) out of range")
        }
        return v
    }
}
