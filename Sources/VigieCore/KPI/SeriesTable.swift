/// A series space: maps the values of a list of `group_by` tags to a dense series
/// number (0, 1, 2… in order of creation), shared by every window group of the engine
/// that groups by that same tag list (a line is looked up once per space, not once
/// per KPI).
///
/// The key of a line is the hash of its group tag values (`ByteView.nameHash`: unescaped,
/// a word at a time, each value's length folded in; a missing tag is the empty value),
/// looked up in an open-addressing table with linear probing; a hit is
/// confirmed by comparing the tag values with the key bytes stored when the series was
/// created (length-prefixed, in one contiguous arena). The table has no cap of its own:
/// a series is created only when a window group admits it under that group's
/// `max_series`, so the space holds at most the sum of its groups' caps.
///
/// A lookup allocates nothing and touches no reference count; creating a series appends
/// its key bytes and, now and then, doubles the slot table (load factor ≤ ½). Storage is
/// `UnmanagedArray`s, freed by `deallocate()`. Owned by the engine thread.
struct SeriesTable {
    /// Number of `group_by` keys.
    let keyCount: Int
    /// Series created so far.
    private(set) var count = 0

    /// Series number per slot, −1 when empty. Power-of-two size.
    private var slots: UnmanagedArray<Int32>
    /// Key hash and key position of one series.
    private struct KeyRef {
        let hash: UInt64
        /// Start of the key in `arena`.
        let start: Int
    }

    /// Key hash and position per series.
    private var keys: UnmanagedArray<KeyRef>
    /// Length-prefixed (4 bytes, little-endian) unescaped key values of every series,
    /// one after the other.
    private var arena: UnmanagedArray<UInt8>

    /// Where a line's group values stand in the table: its series, or the slot where it
    /// would be created.
    struct Probe {
        /// Key hash.
        let hash: UInt64
        /// The series, or −1 when absent.
        let series: Int
        /// The empty slot that ends the probe (for `insert`) when absent.
        let slot: Int
    }

    /// An empty space for `keyCount` group keys.
    init(keyCount: Int) {
        self.keyCount = keyCount
        slots = UnmanagedArray(repeating: -1, count: 16)
        keys = UnmanagedArray(capacity: 16)
        arena = UnmanagedArray(capacity: 256)
    }

    /// Frees the storage (once, by the engine).
    func deallocate() {
        slots.deallocate()
        keys.deallocate()
        arena.deallocate()
    }

    @inline(__always)
    private static func mix(_ h: UInt64) -> UInt64 {
        var x = h
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        return x
    }

    /// The line tag that holds group key `i`: `tagAt[keySlots[i]]`, −1 when absent.
    @inline(__always)
    private static func tag(_ i: Int, keySlots: UnsafePointer<Int32>, tagAt: UnsafePointer<Int32>) -> Int {
        Int(tagAt[Int(keySlots[i])])
    }

    /// Finds the series of a line's group values. Group key `i` is the line tag
    /// `tags[tagAt[keySlots[i]]]` (absent when that is −1).
    ///
    /// O(length of the values) to hash, O(1) expected for the table; no allocation.
    @inline(__always)
    func probe(
        tags: UnsafeBufferPointer<ParsedTag>,
        keySlots: UnsafePointer<Int32>,
        tagAt: UnsafePointer<Int32>
    ) -> Probe {
        var h: UInt64 = 0x243f_6a88_85a3_08d3
        for i in 0..<keyCount {
            let t = Self.tag(i, keySlots: keySlots, tagAt: tagAt)
            h = t >= 0 ? tags[t].value.nameHash(seed: h) : NameBytes.mix(h, 0)
        }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: Self.mix(h)) & mask
        while true {
            let s = Int(slots[i])
            if s < 0 { break }
            if keys[s].hash == h, keyEquals(series: s, tags: tags, keySlots: keySlots, tagAt: tagAt) {
                return Probe(hash: h, series: s, slot: i)
            }
            i = (i + 1) & mask
        }
        return Probe(hash: h, series: -1, slot: i)
    }

    /// True when series `s`'s stored key equals the line's group values.
    @inline(__always)
    private func keyEquals(
        series s: Int,
        tags: UnsafeBufferPointer<ParsedTag>,
        keySlots: UnsafePointer<Int32>,
        tagAt: UnsafePointer<Int32>
    ) -> Bool {
        var p = arena.base + keys[s].start
        for i in 0..<keyCount {
            let length = Int(UnsafeRawPointer(p).loadUnaligned(as: UInt32.self).littleEndian)
            p += 4
            let t = Self.tag(i, keySlots: keySlots, tagAt: tagAt)
            if t >= 0 {
                if !tags[t].value.matches(UnsafeBufferPointer(start: p, count: length)) { return false }
            } else if length != 0 {
                return false
            }
            p += length
        }
        return true
    }

    /// The group tags of a line's series: each of `keys` with its value in the line
    /// (`tags[tagAt[keySlots[i]]]`, the empty value when absent), for publishing and
    /// history. Allocates; called once per series created.
    static func groupTags(
        keys: [String],
        tags: UnsafeBufferPointer<ParsedTag>,
        keySlots: UnsafePointer<Int32>,
        tagAt: UnsafePointer<Int32>
    ) -> [TagPair] {
        keys.enumerated().map { i, key in
            let t = Int(tagAt[Int(keySlots[i])])
            return TagPair(key: key, value: t >= 0 ? tags[t].value.string : "")
        }
    }

    /// Creates the series `probe` (absent) stands for and returns its number, or −1 when
    /// the table holds `Int32.max` series. Appends the key bytes (allocates now and
    /// then); the caller records the series' names.
    mutating func insert(
        _ probe: Probe,
        tags: UnsafeBufferPointer<ParsedTag>,
        keySlots: UnsafePointer<Int32>,
        tagAt: UnsafePointer<Int32>
    ) -> Int {
        guard count < Int(Int32.max) else { return -1 }
        let s = count
        keys.append(KeyRef(hash: probe.hash, start: arena.count))
        for i in 0..<keyCount {
            let t = Self.tag(i, keySlots: keySlots, tagAt: tagAt)
            let value: [UInt8] = t >= 0 ? tags[t].value.bytes : []
            let n = UInt32(truncatingIfNeeded: value.count)
            arena.append(UInt8(truncatingIfNeeded: n))
            arena.append(UInt8(truncatingIfNeeded: n >> 8))
            arena.append(UInt8(truncatingIfNeeded: n >> 16))
            arena.append(UInt8(truncatingIfNeeded: n >> 24))
            for b in value { arena.append(b) }
        }
        slots[probe.slot] = Int32(truncatingIfNeeded: s)
        count += 1
        if count * 2 > slots.count { grow() }
        return s
    }

    // MARK: Checkpoints

    /// The stored key of series `s` (`0 ≤ s < count`): for each group key, the value's
    /// length (4 bytes, little-endian) then its unescaped bytes. Borrowed from the table:
    /// valid until the next `insert` or `findOrInsert`. No allocation.
    func key(series s: Int) -> UnsafeRawBufferPointer {
        let start = keys[s].start
        let end = s + 1 < count ? keys[s + 1].start : arena.count
        return UnsafeRawBufferPointer(start: arena.base + start, count: end - start)
    }

    /// The series whose stored key (as `key(series:)` returns it) is `key`, created if
    /// absent: the insert path of a restore, which has tag values instead of a line.
    ///
    /// Hashes the values exactly as `probe` hashes a line's (a missing tag and an empty
    /// value hash alike), so later lines find the series. Returns −1 when `key` is not
    /// `keyCount` well-formed values that fill it exactly (corrupt input), or when the
    /// table holds `Int32.max` series. O(key length); allocates when it creates. The
    /// caller records the names of a created series (`count` grew).
    mutating func findOrInsert(key: UnsafeRawBufferPointer) -> Int {
        // An empty buffer may have no address; nothing is read from it then.
        let base = key.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(arena.base)
        var h: UInt64 = 0x243f_6a88_85a3_08d3
        var at = 0
        for _ in 0..<keyCount {
            guard key.count - at >= 4 else { return -1 }
            let length = Int(UnsafeRawPointer(base + at).loadUnaligned(as: UInt32.self).littleEndian)
            at += 4
            guard length <= key.count - at else { return -1 }
            h = NameBytes.hash(base + at, count: length, seed: h)
            at += length
        }
        guard at == key.count else { return -1 }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: Self.mix(h)) & mask
        while true {
            let s = Int(slots[i])
            if s < 0 { break }
            if keys[s].hash == h, self.key(series: s).count == key.count,
                NameBytes.equal(arena.base + keys[s].start, base, count: key.count)
            {
                return s
            }
            i = (i + 1) & mask
        }
        guard count < Int(Int32.max) else { return -1 }
        let s = count
        keys.append(KeyRef(hash: h, start: arena.count))
        arena.reserve(arena.count + key.count)
        for b in 0..<key.count { arena.append(base[b]) }
        slots[i] = Int32(truncatingIfNeeded: s)
        count += 1
        if count * 2 > slots.count { grow() }
        return s
    }

    /// The unescaped value of group key `i` of series `s` (allocates; for names).
    func value(series s: Int, key i: Int) -> [UInt8] {
        var p = arena.base + keys[s].start
        for k in 0...i {
            let length = Int(UnsafeRawPointer(p).loadUnaligned(as: UInt32.self).littleEndian)
            p += 4
            if k == i { return Array(UnsafeBufferPointer(start: p, count: length)) }
            p += length
        }
        return []
    }

    /// Doubles the slot table and re-inserts every series.
    private mutating func grow() {
        let newSlots = UnmanagedArray<Int32>(repeating: -1, count: slots.count * 2)
        let mask = newSlots.count - 1
        for s in 0..<count {
            var i = Int(truncatingIfNeeded: Self.mix(keys[s].hash)) & mask
            while newSlots[i] >= 0 { i = (i + 1) & mask }
            newSlots[i] = Int32(truncatingIfNeeded: s)
        }
        slots.deallocate()
        slots = newSlots
    }
}
