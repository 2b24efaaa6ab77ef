/// Where a routed value goes: the engine's window groups (``KPIEngine``) or history's
/// minute rollups (``RollupAccumulator``). ``SampleRouter/route(_:into:)`` calls these
/// for each value a line feeds, `target` being the feed's group (a window group, or a
/// KPI for history).
protocol SampleSink: ~Copyable {
    /// A selected field that holds no number (a string or a boolean).
    mutating func skipNonNumeric(target: Int)
    /// A selected field whose number is NaN or infinite.
    mutating func skipNonFinite(target: Int)
    /// Whether `target` takes a value now (the engine refuses late ones); asked before
    /// the series is looked up.
    mutating func accepts(target: Int) -> Bool
    /// `target`'s own number for space series `spaceSeries`, −1 when not admitted.
    func series(target: Int, spaceSeries: Int) -> Int
    /// Whether `target` may admit one more series; counts the refusal when not.
    mutating func makeRoom(target: Int) -> Bool
    /// The series space is full: counts the refused value.
    mutating func countSpaceFull(target: Int)
    /// Admits space series `spaceSeries` (room was made); returns `target`'s number for it.
    mutating func admit(target: Int, spaceSeries: Int) -> Int
    /// Folds `value` into `target`'s series `series`; returns how many KPI values
    /// that makes (0 when it was not taken).
    mutating func record(target: Int, series: Int, value: Double, role: SelectorRole) -> Int
}

/// Routes a parsed line's values to what consumes them: finds the feeds of its
/// measurement and selectors (``SelectorIndex``), reads each selected field, and finds
/// or creates the line's series, probed once per line and series space. Shared by the
/// engine and history, so a line feeds a KPI's rollups exactly as it feeds its window.
/// No allocation once the series exist.
final class SampleRouter {
    let index: SelectorIndex
    /// Series spaces, one per distinct `group_by`, with each series' group tags.
    let spaces: SeriesSpaces
    /// Per-line scratch: resolved tag slots, field slots, then matched selectors.
    private let scratch: UnmanagedArray<Int32>

    init(sources: [FeedSource], layout: SeriesSpaces.Layout) {
        let index = SelectorIndex(sources: sources)
        self.index = index
        self.spaces = SeriesSpaces(layout)
        self.scratch = UnmanagedArray(repeating: -1, count: index.maxTagKeys + index.maxFieldKeys + index.maxSelectors)
    }

    deinit {
        scratch.deallocate()
    }

    /// Routes every value of `line` that some feed selects into `sink`; returns how
    /// many KPI values that made, or nil when the line matches no feed (an unknown
    /// measurement, or no selector's tags).
    @inline(__always)
    func route<Sink: SampleSink & ~Copyable>(_ line: ParsedLine, into sink: inout Sink) -> Int? {
        guard let e = index.lookup(line.measurement) else { return nil }
        let entry = index.entries[e]
        let tagAt = scratch.base
        let selectorField = tagAt + index.maxTagKeys + index.maxFieldKeys
        guard index.matchSelectors(of: line, entry: entry, scratch: tagAt) else { return nil }
        // Read once: the sink's stores through pointers would otherwise make the
        // compiler load these again for every value.
        let feeds = index.feeds.base
        let spaceUses = index.spaceUses.base
        let keySlotBase = index.keySlots.base
        let tables = spaces.tables.base
        let fields = line.fields
        var applied = 0
        var use = -1
        var probe = SeriesTable.Probe(hash: 0, series: -1, slot: 0)
        var probed = false
        let firstFeed = Int(entry.feedStart)
        for i in firstFeed..<(firstFeed + Int(entry.feedCount)) {
            let feed = feeds[i]
            let f = Int(selectorField[Int(feed.selector)])
            guard f >= 0 else { continue }
            let target = Int(feed.group)
            guard let value = fields[f].value.numericValue else {
                sink.skipNonNumeric(target: target)
                continue
            }
            guard value.isFinite else {
                sink.skipNonFinite(target: target)
                continue
            }
            guard sink.accepts(target: target) else { continue }
            // The series: probed once per line and space, created once.
            if Int(feed.spaceUse) != use {
                use = Int(feed.spaceUse)
                probed = false
            }
            let spaceUse = spaceUses[use]
            let space = Int(spaceUse.space)
            let keySlots = UnsafePointer(keySlotBase + Int(spaceUse.keySlotStart))
            if !probed {
                probe = tables[space].probe(tags: line.tags, keySlots: keySlots, tagAt: tagAt)
                probed = true
            }
            var s = probe.series >= 0 ? sink.series(target: target, spaceSeries: probe.series) : -1
            if s < 0 {
                guard sink.makeRoom(target: target) else { continue }
                if probe.series < 0 {
                    let created = spaces.create(
                        space: space,
                        probe: probe,
                        tags: line.tags,
                        keySlots: keySlots,
                        tagAt: tagAt
                    )
                    guard created >= 0 else {
                        sink.countSpaceFull(target: target)
                        continue
                    }
                    probe = SeriesTable.Probe(hash: probe.hash, series: created, slot: probe.slot)
                }
                s = sink.admit(target: target, spaceSeries: probe.series)
            }
            applied &+= sink.record(target: target, series: s, value: value, role: feed.role)
        }
        return applied
    }
}
