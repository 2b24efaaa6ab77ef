/// Which side of a KPI a selector feeds.
enum SelectorRole: UInt8, Sendable {
    /// The KPI's values (every aggregate but `ratio`).
    case value
    /// A ratio's numerator.
    case numerator
    /// A ratio's denominator.
    case denominator
}

/// Where the engine feeds one window group from: a selector, the side it feeds, and the
/// group's series space. Input of `SelectorIndex`.
struct FeedSource {
    /// Index of the window group in the engine.
    let group: Int
    let selector: SampleSelector
    let role: SelectorRole
    /// The group's `group_by` keys.
    let groupBy: [String]
    /// Index of the group's `SeriesTable` in the engine.
    let space: Int
}

/// What the engine does with a line of each measurement, planned once so that a line
/// costs one lookup per distinct name, not one per KPI.
///
/// Every measurement some selector names has an entry (an open-addressing table keyed
/// by the measurement's hash, over unescaped bytes as `ByteView.nameHash`, leads to it,
/// confirmed by byte equality). The entry lists, each once:
/// - the **tag keys** its selectors filter on or its groups group by, and the **field
///   keys** its selectors read: the engine finds each in the line once (`resolve`);
/// - its distinct **selectors** (field and `where` filters), checked once per line
///   against the resolved tags and fields;
/// - its **series spaces** (one per distinct `group_by`), with the resolved tag slot of
///   each group key: the engine looks the line's series up once per space;
/// - its **feeds** (selector, role, window group, space), grouped by space.
///
/// All names live once in a byte arena; everything else is plain values in
/// `UnmanagedArray`s (no reference counting per element on the hot path), freed in
/// `deinit`. A class so that the engine's calls borrow it rather than copy its fields.
/// Built once per engine; read-only afterwards.
final class SelectorIndex {
    /// A run of bytes in `bytes`.
    struct Span {
        var start: Int32
        var count: Int32
    }

    /// One `where` condition: the tag in slot `tagSlot` must equal `value`.
    struct Filter {
        let tagSlot: Int32
        let value: Span
    }

    /// One distinct selector of a measurement.
    struct Selector {
        /// Field slot (entry-local) of its field key.
        let fieldSlot: Int32
        /// Its filters: `filters[filterStart ..< filterStart + filterCount]`.
        let filterStart: Int32
        let filterCount: Int32
    }

    /// One series space used by a measurement's feeds.
    struct SpaceUse {
        /// Index of the `SeriesTable` in the engine.
        let space: Int32
        /// Tag slots (entry-local) of its group keys, in order:
        /// `keySlots[keySlotStart ..< keySlotStart + keys]`.
        let keySlotStart: Int32
    }

    /// One window group fed by one selector of a measurement.
    struct Feed {
        /// Entry-local selector number.
        let selector: Int32
        /// Window group index.
        let group: Int32
        /// Global `spaceUses` index.
        let spaceUse: Int32
        let role: SelectorRole
    }

    /// A measurement and what its lines feed.
    struct Entry {
        let measurement: Span
        let hash: UInt64
        /// `tagKeys[tagKeyStart ..< tagKeyStart + tagKeyCount]`: tag slots.
        let tagKeyStart: Int32
        let tagKeyCount: Int32
        /// `fieldKeys[fieldKeyStart ..< fieldKeyStart + fieldKeyCount]`: field slots.
        let fieldKeyStart: Int32
        let fieldKeyCount: Int32
        /// `selectors[selectorStart ..< selectorStart + selectorCount]`.
        let selectorStart: Int32
        let selectorCount: Int32
        /// `feeds[feedStart ..< feedStart + feedCount]`, grouped by space use.
        let feedStart: Int32
        let feedCount: Int32
    }

    /// Every name, once per entry.
    let bytes: UnmanagedArray<UInt8>
    /// Entry number per slot, −1 when empty. Power-of-two size, load ≤ ¼.
    private let slots: UnmanagedArray<Int32>
    let entries: UnmanagedArray<Entry>
    let tagKeys: UnmanagedArray<Span>
    let fieldKeys: UnmanagedArray<Span>
    let selectors: UnmanagedArray<Selector>
    let filters: UnmanagedArray<Filter>
    let spaceUses: UnmanagedArray<SpaceUse>
    let keySlots: UnmanagedArray<Int32>
    let feeds: UnmanagedArray<Feed>
    /// Most tag slots, field slots and selectors of any entry (scratch sizes).
    let maxTagKeys: Int
    let maxFieldKeys: Int
    let maxSelectors: Int

    /// Plans `sources` (each feed of each window group), by measurement in order of
    /// first appearance.
    init(sources: [FeedSource]) {
        // Names are told apart by their UTF-8 bytes, as lines are matched: `String`
        // equality would merge canonically equivalent spellings ("é" and "e\u{301}").
        var byMeasurement: [[UInt8]: Int] = [:]
        var grouped: [[FeedSource]] = []
        for source in sources {
            let metric = Array(source.selector.metric.utf8)
            if let e = byMeasurement[metric] {
                grouped[e].append(source)
            } else {
                byMeasurement[metric] = grouped.count
                grouped.append([source])
            }
        }
        var bytes = UnmanagedArray<UInt8>(capacity: 256)
        func span(_ name: String) -> Span {
            let start = Int32(truncatingIfNeeded: bytes.count)
            for b in name.utf8 { bytes.append(b) }
            return Span(start: start, count: Int32(truncatingIfNeeded: bytes.count) - start)
        }
        var entries = UnmanagedArray<Entry>()
        var tagKeys = UnmanagedArray<Span>()
        var fieldKeys = UnmanagedArray<Span>()
        var selectors = UnmanagedArray<Selector>()
        var filters = UnmanagedArray<Filter>()
        var spaceUses = UnmanagedArray<SpaceUse>()
        var keySlots = UnmanagedArray<Int32>()
        var feeds = UnmanagedArray<Feed>()
        var maxTagKeys = 0
        var maxFieldKeys = 0
        var maxSelectors = 0
        for group in grouped {
            let measurement = group[0].selector.metric
            // Names this measurement's lines are searched for, each once.
            var tagSlot: [[UInt8]: Int32] = [:]
            var tagNames: [String] = []
            func slot(ofTag key: String) -> Int32 {
                if let s = tagSlot[Array(key.utf8)] { return s }
                let s = Int32(truncatingIfNeeded: tagNames.count)
                tagSlot[Array(key.utf8)] = s
                tagNames.append(key)
                return s
            }
            var fieldSlot: [[UInt8]: Int32] = [:]
            var fieldNames: [String] = []
            var selectorNumber: [[[UInt8]]: Int32] = [:]
            let firstSelector = Int32(truncatingIfNeeded: selectors.count)
            var spaceUseNumber: [Int: Int32] = [:]
            var entryFeeds: [Feed] = []
            for source in group {
                let selector: Int32
                // Field, then each filter's key and value.
                let selectorKey =
                    [Array(source.selector.field.utf8)]
                    + source.selector.filters.flatMap { [Array($0.key.utf8), Array($0.value.utf8)] }
                if let s = selectorNumber[selectorKey] {
                    selector = s
                } else {
                    selector = Int32(truncatingIfNeeded: selectorNumber.count)
                    selectorNumber[selectorKey] = selector
                    let field: Int32
                    if let f = fieldSlot[selectorKey[0]] {
                        field = f
                    } else {
                        field = Int32(truncatingIfNeeded: fieldNames.count)
                        fieldSlot[selectorKey[0]] = field
                        fieldNames.append(source.selector.field)
                    }
                    let firstFilter = Int32(truncatingIfNeeded: filters.count)
                    for f in source.selector.filters {
                        filters.append(Filter(tagSlot: slot(ofTag: f.key), value: span(f.value)))
                    }
                    selectors.append(
                        Selector(
                            fieldSlot: field,
                            filterStart: firstFilter,
                            filterCount: Int32(truncatingIfNeeded: source.selector.filters.count)
                        )
                    )
                }
                let use: Int32
                if let u = spaceUseNumber[source.space] {
                    use = u
                } else {
                    use = Int32(truncatingIfNeeded: spaceUses.count)
                    spaceUseNumber[source.space] = use
                    spaceUses.append(
                        SpaceUse(
                            space: Int32(truncatingIfNeeded: source.space),
                            keySlotStart: Int32(truncatingIfNeeded: keySlots.count)
                        )
                    )
                    for key in source.groupBy { keySlots.append(slot(ofTag: key)) }
                }
                entryFeeds.append(
                    Feed(
                        selector: selector,
                        group: Int32(truncatingIfNeeded: source.group),
                        spaceUse: use,
                        role: source.role
                    )
                )
            }
            // Feeds of one space together (stable), so a line looks each space up once.
            let firstFeed = Int32(truncatingIfNeeded: feeds.count)
            for (_, feed) in entryFeeds.enumerated().sorted(by: { ($0.1.spaceUse, $0.0) < ($1.1.spaceUse, $1.0) }) {
                feeds.append(feed)
            }
            let firstTag = Int32(truncatingIfNeeded: tagKeys.count)
            for key in tagNames { tagKeys.append(span(key)) }
            let firstField = Int32(truncatingIfNeeded: fieldKeys.count)
            for key in fieldNames { fieldKeys.append(span(key)) }
            entries.append(
                Entry(
                    measurement: span(measurement),
                    hash: Array(measurement.utf8).withUnsafeBufferPointer { name in
                        name.baseAddress.map { NameBytes.hash($0, count: name.count, seed: 0) } ?? NameBytes.mix(0, 0)
                    },
                    tagKeyStart: firstTag,
                    tagKeyCount: Int32(truncatingIfNeeded: tagNames.count),
                    fieldKeyStart: firstField,
                    fieldKeyCount: Int32(truncatingIfNeeded: fieldNames.count),
                    selectorStart: firstSelector,
                    selectorCount: Int32(truncatingIfNeeded: selectorNumber.count),
                    feedStart: firstFeed,
                    feedCount: Int32(truncatingIfNeeded: entryFeeds.count)
                )
            )
            maxTagKeys = Swift.max(maxTagKeys, tagNames.count)
            maxFieldKeys = Swift.max(maxFieldKeys, fieldNames.count)
            maxSelectors = Swift.max(maxSelectors, selectorNumber.count)
        }
        var size = 8
        while size < entries.count * 4 { size *= 2 }
        let slots = UnmanagedArray<Int32>(repeating: -1, count: size)
        for e in 0..<entries.count {
            var i = Int(truncatingIfNeeded: entries[e].hash) & (size - 1)
            while slots[i] >= 0 { i = (i + 1) & (size - 1) }
            slots[i] = Int32(truncatingIfNeeded: e)
        }
        self.bytes = bytes
        self.slots = slots
        self.entries = entries
        self.tagKeys = tagKeys
        self.fieldKeys = fieldKeys
        self.selectors = selectors
        self.filters = filters
        self.spaceUses = spaceUses
        self.keySlots = keySlots
        self.feeds = feeds
        self.maxTagKeys = maxTagKeys
        self.maxFieldKeys = maxFieldKeys
        self.maxSelectors = maxSelectors
    }

    deinit {
        bytes.deallocate()
        slots.deallocate()
        entries.deallocate()
        tagKeys.deallocate()
        fieldKeys.deallocate()
        selectors.deallocate()
        filters.deallocate()
        spaceUses.deallocate()
        keySlots.deallocate()
        feeds.deallocate()
    }

    /// The bytes of `span`.
    @inline(__always)
    func name(_ span: Span) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes.base + Int(span.start), count: Int(span.count))
    }

    /// The entry of `measurement`, or `nil` when no selector names it. O(1) expected.
    @inline(__always)
    func lookup(_ measurement: ByteView) -> Int? {
        let h = measurement.nameHash(seed: 0)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { return nil }
            if entries[e].hash == h, measurement.matches(name(entries[e].measurement)) { return e }
            i = (i + 1) & mask
        }
    }

    /// Finds, in one pass over the line, the tag holding each of `entry`'s tag keys:
    /// `tagAt[k]` is the index in `tags` of tag slot `k`, −1 when absent (first
    /// occurrence; the parser rejects duplicate tag keys).
    @inline(__always)
    func resolve(tags: UnsafeBufferPointer<ParsedTag>, of entry: Entry, into tagAt: UnsafeMutablePointer<Int32>) {
        let first = Int(entry.tagKeyStart)
        let n = Int(entry.tagKeyCount)
        guard n > 0 else { return }
        for k in 0..<n { tagAt[k] = -1 }
        var unresolved = n
        for t in 0..<tags.count {
            let key = tags[t].key
            for k in 0..<n where tagAt[k] < 0 {
                if key.matches(name(tagKeys[first + k])) {
                    tagAt[k] = Int32(truncatingIfNeeded: t)
                    unresolved -= 1
                    break
                }
            }
            if unresolved == 0 { return }
        }
    }

    /// Finds the field holding each of `entry`'s field keys: `fieldAt[f]` is the index
    /// in `fields` of field slot `f`, −1 when absent (first occurrence; the parser keeps
    /// a repeated key once).
    @inline(__always)
    func resolve(fields: UnsafeBufferPointer<ParsedField>, of entry: Entry, into fieldAt: UnsafeMutablePointer<Int32>) {
        let first = Int(entry.fieldKeyStart)
        for f in 0..<Int(entry.fieldKeyCount) {
            let key = name(fieldKeys[first + f])
            var at: Int32 = -1
            for i in 0..<fields.count where fields[i].key.matches(key) {
                at = Int32(truncatingIfNeeded: i)
                break
            }
            fieldAt[f] = at
        }
    }

    /// Resolves `line`'s tags and fields for `entry` and checks each of its selectors,
    /// in the scratch laid out as `tagAt` (`maxTagKeys`), `fieldAt` (`maxFieldKeys`),
    /// then `selectorField` (`maxSelectors`): `selectorField[s]` is the field index of
    /// the entry's selector `s`, −1 when it does not match. True when one matches.
    @inline(__always)
    func matchSelectors(of line: ParsedLine, entry: Entry, scratch tagAt: UnsafeMutablePointer<Int32>) -> Bool {
        let fieldAt = tagAt + maxTagKeys
        let selectorField = fieldAt + maxFieldKeys
        resolve(tags: line.tags, of: entry, into: tagAt)
        resolve(fields: line.fields, of: entry, into: fieldAt)
        var matched = false
        let firstSelector = Int(entry.selectorStart)
        for s in 0..<Int(entry.selectorCount) {
            let f = match(selector: firstSelector + s, tags: line.tags, tagAt: tagAt, fieldAt: fieldAt)
            selectorField[s] = f
            if f >= 0 { matched = true }
        }
        return matched
    }

    /// The field index of selector `selector` (global number) when the line has its
    /// field and passes every filter, else −1; `tagAt` and `fieldAt` as resolved.
    @inline(__always)
    func match(
        selector: Int,
        tags: UnsafeBufferPointer<ParsedTag>,
        tagAt: UnsafePointer<Int32>,
        fieldAt: UnsafePointer<Int32>
    ) -> Int32 {
        let s = selectors[selector]
        let field = fieldAt[Int(s.fieldSlot)]
        guard field >= 0 else { return -1 }
        let first = Int(s.filterStart)
        for f in first..<(first + Int(s.filterCount)) {
            let filter = filters[f]
            let t = Int(tagAt[Int(filter.tagSlot)])
            guard t >= 0, tags[t].value.matches(name(filter.value)) else { return -1 }
        }
        return field
    }
}
