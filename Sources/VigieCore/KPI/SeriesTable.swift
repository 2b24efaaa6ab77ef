/// The series of one KPI: maps the values of its `group_by` tags to a dense series
/// number (0, 1, 2… in order of creation), up to a cardinality cap.
///
/// The key of a line is the FNV-1a hash of its group tag values (unescaped; a missing
/// tag is the empty value, each value followed by a 0xFF separator that UTF-8 never
/// contains), looked up in an open-addressing table with linear probing; a hit is
/// confirmed by comparing the tag values with the key bytes stored when the series was
/// created (length-prefixed, in one contiguous arena). A lookup allocates nothing;
/// creating a series allocates its key bytes, its `TagPair`s and, now and then, a
/// bigger table (load factor ≤ ½).
///
/// Owned by the engine thread.
struct SeriesTable: Sendable {
    /// Result of `lookup`.
    enum Lookup: Equatable {
        /// An existing series.
        case found(Int)
        /// A series created by this lookup (the caller creates its window).
        case created(Int)
        /// A new series would exceed the cap: the sample is dropped for this KPI.
        case overflow
    }

    /// `group_by` tag keys, one after the other, each after its length (two bytes,
    /// little-endian; keys beyond 65,535 bytes, far past the parser's limits, are cut).
    private let groupKeyBytes: [UInt8]
    /// `group_by` tag keys.
    let groupNames: [String]
    /// Most series this table creates.
    let limit: Int
    /// Series created so far.
    private(set) var count = 0
    /// The group of each series, for publishing.
    private(set) var groups: [[TagPair]] = []

    /// Series number per slot, −1 when empty. Power-of-two size.
    private var slots: [Int32]
    /// Key hash and key position of one series.
    private struct KeyRef: Sendable {
        let hash: UInt64
        /// Start of the key in `keyArena`.
        let start: Int
    }

    /// Key hash and position per series (one cache line holds both).
    private var keys: [KeyRef] = []
    /// Length-prefixed key bytes of every series, one after the other.
    private var keyArena: [UInt8] = []
    /// Scratch: index in the line's tags of each group key (−1 when absent).
    private var tagIndex: [Int]

    /// A table for the `group_by` tags `groupBy`, creating at most `limit` series.
    init(groupBy: [String], limit: Int) {
        groupNames = groupBy
        var keyBytes: [UInt8] = []
        for key in groupBy {
            let utf8 = Array(key.utf8.prefix(65_535))
            keyBytes.append(UInt8(truncatingIfNeeded: utf8.count))
            keyBytes.append(UInt8(truncatingIfNeeded: utf8.count >> 8))
            keyBytes += utf8
        }
        groupKeyBytes = keyBytes
        self.limit = Swift.max(0, Swift.min(limit, Int(Int32.max)))
        slots = [Int32](repeating: -1, count: 16)
        tagIndex = [Int](repeating: -1, count: groupBy.count)
    }

    @inline(__always)
    private static func mix(_ h: UInt64) -> UInt64 {
        var x = h
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        return x
    }

    /// The series of a line with tags `tags`, created if new and under the cap.
    ///
    /// O(group keys × tags) to find the values, O(1) expected for the table; no
    /// allocation unless a series is created.
    @inline(__always)
    mutating func lookup(tags: UnsafeBufferPointer<ParsedTag>) -> Lookup {
        // Borrow the scratch array without copying it (an empty array allocates nothing).
        var found: [Int] = []
        swap(&found, &tagIndex)
        defer { swap(&found, &tagIndex) }
        let h = groupKeyBytes.withUnsafeBufferPointer { keys in
            Self.hash(tags: tags, keys: keys, found: &found)
        }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: Self.mix(h)) & mask
        while true {
            let s = Int(slots[i])
            if s < 0 { break }
            if keys[s].hash == h, keyEquals(series: s, tags: tags, found: found) { return .found(s) }
            i = (i + 1) & mask
        }
        guard count < limit else { return .overflow }
        return .created(insert(hash: h, tags: tags, found: found, slot: i))
    }

    /// Hash of the group values of `tags`; sets `found[i]` to the index in `tags` of
    /// group key `i` (−1 when absent).
    @inline(__always)
    private static func hash(
        tags: UnsafeBufferPointer<ParsedTag>,
        keys: UnsafeBufferPointer<UInt8>,
        found: inout [Int]
    ) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var pos = 0
        for i in 0..<found.count {
            let length = Int(keys[pos]) | Int(keys[pos + 1]) << 8
            let key = UnsafeBufferPointer(rebasing: keys[(pos + 2)..<(pos + 2 + length)])
            pos += 2 + length
            var at = -1
            for j in 0..<tags.count where tags[j].key.matches(key) {
                at = j
                break
            }
            found[i] = at
            if at >= 0 { h = tags[at].value.fnv1a(seed: h) }
            h = (h ^ 0xFF) &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// True when series `s`'s stored key equals the line's group values.
    @inline(__always)
    private func keyEquals(series s: Int, tags: UnsafeBufferPointer<ParsedTag>, found: [Int]) -> Bool {
        keyArena.withUnsafeBufferPointer { arena in
            var pos = keys[s].start
            for i in 0..<found.count {
                let length =
                    Int(arena[pos]) | Int(arena[pos + 1]) << 8 | Int(arena[pos + 2]) << 16
                    | Int(arena[pos + 3]) << 24
                pos += 4
                let ti = found[i]
                if ti >= 0 {
                    let stored = UnsafeBufferPointer(rebasing: arena[pos..<(pos + length)])
                    if !tags[ti].value.matches(stored) { return false }
                } else if length != 0 {
                    return false
                }
                pos += length
            }
            return true
        }
    }

    /// Creates a series (allocates) and returns its number.
    private mutating func insert(hash h: UInt64, tags: UnsafeBufferPointer<ParsedTag>, found: [Int], slot: Int) -> Int {
        let s = count
        keys.append(KeyRef(hash: h, start: keyArena.count))
        var pairs: [TagPair] = []
        pairs.reserveCapacity(groupNames.count)
        for i in 0..<groupNames.count {
            let ti = found[i]
            let value: [UInt8] = ti >= 0 ? tags[ti].value.bytes : []
            let n = UInt32(truncatingIfNeeded: value.count)
            keyArena.append(UInt8(truncatingIfNeeded: n))
            keyArena.append(UInt8(truncatingIfNeeded: n >> 8))
            keyArena.append(UInt8(truncatingIfNeeded: n >> 16))
            keyArena.append(UInt8(truncatingIfNeeded: n >> 24))
            keyArena.append(contentsOf: value)
            pairs.append(TagPair(key: groupNames[i], value: String(decoding: value, as: UTF8.self)))
        }
        groups.append(pairs)
        slots[slot] = Int32(truncatingIfNeeded: s)
        count += 1
        if count * 2 > slots.count { grow() }
        return s
    }

    /// Doubles the slot table and re-inserts every series.
    private mutating func grow() {
        var newSlots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = newSlots.count - 1
        for s in 0..<count {
            var i = Int(truncatingIfNeeded: Self.mix(keys[s].hash)) & mask
            while newSlots[i] >= 0 { i = (i + 1) & mask }
            newSlots[i] = Int32(truncatingIfNeeded: s)
        }
        slots = newSlots
    }
}
