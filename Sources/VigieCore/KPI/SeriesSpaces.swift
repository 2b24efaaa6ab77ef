/// The series spaces of a `KPIEngine` or a `RollupAccumulator`: one `SeriesTable` per
/// distinct `group_by` list, that list's keys, and every series' group tags (for
/// output: the feed, snapshots, history rows).
///
/// `group_by` lists are told apart by their UTF-8 bytes, as lines' tag keys are
/// matched; `String` equality would merge "é" and "e\u{301}" into one space.
///
/// A lookup (`tables[space].probe`) allocates nothing and touches no reference count;
/// creating a series allocates (its key bytes, its names). Owned by one thread.
final class SeriesSpaces {
    /// Per space, its table (they mutate through their own storage).
    let tables: UnmanagedArray<SeriesTable>
    /// Per space, its `group_by` keys.
    let keys: [[String]]
    /// Per space and space series, its group tags, in `keys` order (a tag the lines
    /// lacked has the empty value).
    private(set) var names: [[[TagPair]]]

    /// The spaces an owner's KPIs need, assigned while it reads them.
    struct Layout {
        private var spaceOf: [[[UInt8]]: Int] = [:]
        /// Per space, its `group_by` keys.
        private(set) var keys: [[String]] = []

        init() {}

        /// The space of `groupBy`, added when no earlier list had the same bytes.
        mutating func space(for groupBy: [String]) -> Int {
            let bytes = groupBy.map { Array($0.utf8) }
            if let space = spaceOf[bytes] { return space }
            let space = keys.count
            spaceOf[bytes] = space
            keys.append(groupBy)
            return space
        }
    }

    /// Empty spaces for `layout`.
    init(_ layout: Layout) {
        var tables = UnmanagedArray<SeriesTable>(capacity: layout.keys.count)
        for keys in layout.keys { tables.append(SeriesTable(keyCount: keys.count)) }
        self.tables = tables
        self.keys = layout.keys
        self.names = Array(repeating: [], count: layout.keys.count)
    }

    deinit {
        for s in 0..<tables.count { tables[s].deallocate() }
        tables.deallocate()
    }

    /// Creates the series `probe` (absent) stands for in `space` and records its
    /// names. Returns its number, or −1 when the space is full. Allocates.
    @inline(never)
    func create(
        space: Int,
        probe: SeriesTable.Probe,
        tags: UnsafeBufferPointer<ParsedTag>,
        keySlots: UnsafePointer<Int32>,
        tagAt: UnsafePointer<Int32>
    ) -> Int {
        let g = tables[space].insert(probe, tags: tags, keySlots: keySlots, tagAt: tagAt)
        guard g >= 0 else { return -1 }
        names[space].append(SeriesTable.groupTags(keys: keys[space], tags: tags, keySlots: keySlots, tagAt: tagAt))
        return g
    }

    /// The series of the stored `key` (a checkpoint's) in `space`, created with its
    /// names when absent; −1 for a malformed key. Allocates when it creates.
    func findOrInsert(space: Int, key: UnsafeRawBufferPointer) -> Int {
        let before = tables[space].count
        let series = tables[space].findOrInsert(key: key)
        if series >= 0, tables[space].count > before { names[space].append(tagPairs(space: space, key: key)) }
        return series
    }

    /// The group tags of a series from its stored key (already checked by
    /// `SeriesTable.findOrInsert`). Allocates.
    private func tagPairs(space: Int, key: UnsafeRawBufferPointer) -> [TagPair] {
        var pairs: [TagPair] = []
        var at = 0
        for name in keys[space] {
            guard key.count - at >= 4 else { break }
            let length = Int(UInt32(littleEndian: key.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
            at += 4
            let end = Swift.min(key.count, at + length)
            pairs.append(TagPair(key: name, value: String(decoding: key[at..<end], as: UTF8.self)))
            at = end
        }
        return pairs
    }
}
