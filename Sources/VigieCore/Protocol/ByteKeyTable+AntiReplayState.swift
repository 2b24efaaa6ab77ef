/// Checkpoints of the producers' anti-replay windows (DESIGN.md: "Producer state
/// survives restarts").
///
/// **Format** (section `P`, version 1; integers are LEB128 varints):
/// ```
/// "P" 1  producer_count
/// per producer: id (bytes, 1…1,024)  highest  word_count (0…16)  bitmap words (8 bytes
///               each, little-endian; trailing zero words left out)
/// ```
extension ByteKeyTable where Value == AntiReplayWindow {
    /// Format version of `encodeState(into:)`.
    static var stateVersion: UInt8 { 1 }
    /// Longest producer id accepted back: the protocol's 128 bytes, with room for a
    /// scope (an authenticated key's name) in front.
    static var maximumIDLength: Int { 1_024 }

    /// Whether `id` can be kept (and checkpointed, and restored): 1 to
    /// `maximumIDLength` bytes. Only a forged log holds others: replay applies such a
    /// record's samples but keeps no window for it, so the next checkpoint restores.
    public static func canKeep(_ id: UnsafeRawBufferPointer) -> Bool {
        id.count >= 1 && id.count <= maximumIDLength
    }

    /// Appends every producer's id, highest applied sequence number and bitmap, in
    /// insertion order. O(producers); about 140 bytes per busy producer.
    public func encodeState(into writer: inout BinaryWriter) {
        writer.writeSectionHeader(StateSection.producers, version: Self.stateVersion)
        writer.writeCount(count)
        let keys = allKeys
        for (key, window) in zip(keys, values) {
            writer.writeBytes(key)
            writer.writeVarUInt(window.highest)
            let bitmap = window.bitmap
            let used = (bitmap.lastIndex { $0 != 0 } ?? -1) + 1
            writer.writeCount(used)
            for word in bitmap.prefix(used) { writer.writeUInt64(word) }
        }
    }

    /// A table holding the producers written by `encodeState(into:)`, in the same
    /// order, so that every sequence number gets the verdict it had before.
    ///
    /// Input is untrusted: truncated or corrupt bytes (an id empty, too long or listed
    /// twice, more than 16 bitmap words) throw `BinaryDecodingError`; counts are
    /// checked against the bytes left before anything is allocated. O(bytes read).
    public init(restoringStateFrom reader: inout BinaryReader) throws {
        try reader.readSectionHeader(StateSection.producers, version: Self.stateVersion, "producer state")
        // A producer takes at least 4 bytes (a one-byte id, highest, word count).
        let producers = try reader.readCount(itemsOfAtLeast: 4)
        self.init(capacity: producers)
        for _ in 0..<producers {
            let at = reader.offset
            let id = try reader.readBytes()
            guard id.count >= 1, id.count <= Self.maximumIDLength, index(of: id) == nil else {
                throw BinaryDecodingError(offset: at, reason: "producer id empty, too long or listed twice")
            }
            let highest = try reader.readVarUInt()
            let words = try reader.readCount(limit: Int(AntiReplayWindow.size / 64))
            var bitmap = [UInt64](repeating: 0, count: Int(AntiReplayWindow.size / 64))
            for w in 0..<words { bitmap[w] = try reader.readUInt64() }
            insert(id, value: AntiReplayWindow(highest: highest, bitmap: bitmap))
        }
    }
}
