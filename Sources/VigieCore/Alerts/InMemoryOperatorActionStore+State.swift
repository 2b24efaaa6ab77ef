/// Checkpoints of operator actions: `encodeState(into:)` and `restoreState(from:)`.
///
/// **Format** (section `O`, version 1; integers are LEB128 varints, signed ones zig-zag):
/// ```
/// "O" 1  next_id
/// ack_count  per ack: rule  group (count, key/value strings)  by  comment  at
/// silence_count  per silence: id  matchers (count, key/value strings)  starts_at  ends_at
///                created_by  comment
/// ```
extension InMemoryOperatorActionStore {
    /// Format version of `encodeState(into:)`.
    static let stateVersion: UInt8 = 1
    /// Largest restored silence number, so that numbering on never overflows.
    private static let idLimit = 1 << 53

    /// Appends every acknowledgment (who, when, why; sorted by rule and group, so the
    /// bytes do not depend on hashing), every silence kept (matchers, id, times, who,
    /// why; in order of creation) and the next silence number. O(actions).
    public func encodeState(into writer: inout BinaryWriter) {
        writer.writeSectionHeader(StateSection.operatorActions, version: Self.stateVersion)
        writer.writeCount(nextID)
        let sorted = acks.sorted { $0.key < $1.key }
        writer.writeCount(sorted.count)
        for (_, ack) in sorted {
            writer.writeString(ack.rule)
            Self.encode(ack.group.map { ($0.key, $0.value) }, into: &writer)
            writer.writeString(ack.by)
            writer.writeString(ack.comment)
            writer.writeVarInt(ack.at)
        }
        writer.writeCount(all.count)
        for silence in all {
            writer.writeString(silence.id)
            Self.encode(silence.matchers.map { ($0.key, $0.value) }, into: &writer)
            writer.writeVarInt(silence.startsAt)
            writer.writeVarInt(silence.endsAt)
            writer.writeString(silence.createdBy)
            writer.writeString(silence.comment)
        }
    }

    /// Replaces the store's acknowledgments, silences and next silence number with those
    /// written by `encodeState(into:)`.
    ///
    /// Input is untrusted: truncated or corrupt bytes throw `BinaryDecodingError` and
    /// leave the store unchanged; counts are checked against the bytes left before
    /// anything is allocated. The next silence number is kept above every restored
    /// `s-<n>` id, so a new silence never reuses one. O(bytes read).
    public func restoreState(from reader: inout BinaryReader) throws {
        try reader.readSectionHeader(StateSection.operatorActions, version: Self.stateVersion, "operator actions")
        var next = Swift.max(1, try reader.readCount(limit: Self.idLimit))
        // An acknowledgment takes at least 5 bytes, a silence at least 6.
        let ackCount = try reader.readCount(itemsOfAtLeast: 5)
        var restoredAcks: [AlertAcknowledgment] = []
        restoredAcks.reserveCapacity(ackCount)
        for _ in 0..<ackCount {
            let rule = try reader.readString()
            let group = try Self.decodePairs(from: &reader).map { TagPair(key: $0.0, value: $0.1) }
            let by = try reader.readString()
            let comment = try reader.readString()
            let at = try reader.readVarInt()
            restoredAcks.append(AlertAcknowledgment(rule: rule, group: group, by: by, comment: comment, at: at))
        }
        let silenceCount = try reader.readCount(itemsOfAtLeast: 6)
        var silences: [AlertSilence] = []
        silences.reserveCapacity(silenceCount)
        for _ in 0..<silenceCount {
            let id = try reader.readString()
            let matchers = try Self.decodePairs(from: &reader).map { AlertMatcher(key: $0.0, value: $0.1) }
            let startsAt = try reader.readVarInt()
            let endsAt = try reader.readVarInt()
            let createdBy = try reader.readString()
            let comment = try reader.readString()
            silences.append(
                AlertSilence(
                    id: id,
                    matchers: matchers,
                    startsAt: startsAt,
                    endsAt: endsAt,
                    createdBy: createdBy,
                    comment: comment
                )
            )
            if id.hasPrefix("s-"), let n = Int(id.dropFirst(2)), n >= next, n < Self.idLimit { next = n + 1 }
        }
        acks = [:]
        for ack in restoredAcks { acknowledge(ack) }
        all = silences
        nextID = next
    }

    private static func encode(_ pairs: [(String, String)], into writer: inout BinaryWriter) {
        writer.writeCount(pairs.count)
        for (key, value) in pairs {
            writer.writeString(key)
            writer.writeString(value)
        }
    }

    private static func decodePairs(from reader: inout BinaryReader) throws -> [(String, String)] {
        // A pair takes at least 2 bytes (two empty strings).
        let count = try reader.readCount(itemsOfAtLeast: 2)
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(count)
        for _ in 0..<count {
            let key = try reader.readString()
            let value = try reader.readString()
            pairs.append((key, value))
        }
        return pairs
    }
}
