/// Checkpoints of the engine's window state: `encodeState(into:)` and
/// `restoreState(from:)`.
///
/// **Format** (section `K`, version 1; integers are LEB128 varints, signed ones
/// zig-zag, doubles IEEE bit patterns):
/// ```
/// "K" 1  lines unmatched_lines  group_count
/// per group: fingerprint (bytes)  description (string)  body (bytes)
/// body:   kind  applied late overflow non_numeric non_finite
///         sliding: advanced_epoch  |  calendar: rate_marked_at  period_start  period_end
///         series_count  per series: key (bytes, SeriesTable layout)  last_sample_at
///         sliding:  per ring slot: n, then n × (series gap, epoch − advanced_epoch,
///                   accumulator[, sketch])
///         calendar: n, then n × (series gap, accumulator[, sketch])
/// ```
/// A group's body is length-prefixed, so a group whose definition no longer exists is
/// skipped without being parsed. Only non-empty, unexpired buckets are written (a
/// sparse window costs little); an accumulator writes a flags byte and only the fields
/// that are not at their empty value (one double for a bucket of one sample).
extension KPIEngine {
    /// Format version of `encodeState(into:)`.
    static let stateVersion: UInt8 = 1
    /// Largest magnitude of a restored bucket epoch (2⁶¹), so the engine's differences
    /// of epochs cannot overflow. (A rate mark is a time of the clock, from 1970 on: it
    /// is only subtracted from the clock's now.)
    private static let timeMagnitude: Int64 = 1 << 61
    /// Largest restored counter (2⁴⁸), so totals over KPIs cannot overflow.
    private static let counterLimit = 1 << 48

    /// Appends the engine's window state: per window group its definition's
    /// fingerprint, its series (in order of admission, with their `group_by` values and
    /// latest sample time), counters, and every non-empty bucket still in the window
    /// (sliding: epoch, accumulator, sketch) or the current period's accumulators and
    /// sketches (calendar). Publish times and change lists are not kept.
    ///
    /// Call on the engine thread; it changes nothing. O(groups × series × buckets) to
    /// scan, plus the bytes written (about 20 to 50 per non-empty bucket, plus ~30 and
    /// ~2 per bin for each sketch).
    public func encodeState(into writer: inout BinaryWriter) {
        writer.writeSectionHeader(StateSection.engine, version: Self.stateVersion)
        writer.writeCount(lineCounters[0].lines)
        writer.writeCount(lineCounters[0].unmatchedLines)
        writer.writeCount(groups.count)
        let members = groupMembers()
        var body = BinaryWriter(capacity: 4_096)
        for g in 0..<groups.count {
            writer.writeBytes(fingerprint(group: g, members: members[g]))
            writer.writeString(describe(group: g, members: members[g]))
            body.removeAll()
            encodeGroup(g, into: &body)
            writer.writeBytes(body.bytes)
        }
    }

    /// Restores the window state written by `encodeState(into:)`, possibly by an engine
    /// with other KPI definitions, into this engine, which must be fresh (no line
    /// applied yet).
    ///
    /// Each stored window group whose definition fingerprint — selectors and their
    /// roles, `group_by`, window, buckets and lateness, `max_series`, calendar `rate`,
    /// `share` threshold, whether it keeps sketches — equals one of this engine's groups
    /// gets its series back (same order, same keys), with their buckets, counters and
    /// latest sample times; the others are skipped and reported. A calendar group whose
    /// stored period is not the engine's current one (the period containing the `now`
    /// it was created at) comes back rolled over: series and counters kept, totals
    /// empty. Every restored series is marked changed (never published), so the next
    /// `takeDue` and `takeChangedForAlerts` report it.
    ///
    /// Input is untrusted: truncated or corrupt bytes throw `BinaryDecodingError`,
    /// never trap, and what is allocated is bounded by the input's size and by the
    /// engine's own limits (`max_series`, buckets, sketch bins). After a throw the
    /// engine holds part of the state (consistent and usable); the caller should
    /// rather build a fresh engine and start empty. O(bytes read + groups).
    @discardableResult
    public func restoreState(from reader: inout BinaryReader) throws -> EngineRestoreReport {
        guard lineCounters[0].lines == 0, (0..<groups.count).allSatisfy({ groups[$0].seriesCount == 0 }) else {
            throw BinaryDecodingError(
                offset: reader.offset,
                reason: "the engine has applied samples: restore state into a fresh engine"
            )
        }
        try reader.readSectionHeader(StateSection.engine, version: Self.stateVersion, "engine state")
        let lines = try reader.readCount(limit: Self.counterLimit)
        let unmatched = try reader.readCount(limit: Self.counterLimit)
        lineCounters[0].lines = lines
        lineCounters[0].unmatchedLines = unmatched
        let storedGroups = try reader.readCount(itemsOfAtLeast: 3)
        let members = groupMembers()
        var byFingerprint: [[UInt8]: Int] = [:]
        for g in (0..<groups.count).reversed() { byFingerprint[fingerprint(group: g, members: members[g])] = g }
        var restored = [Bool](repeating: false, count: groups.count)
        var report = EngineRestoreReport()
        for _ in 0..<storedGroups {
            let print = Array(try reader.readBytes())
            let description = try reader.readString()
            let bodyLength = try reader.readCount(limit: reader.remaining)
            let bodyStart = reader.offset
            _ = try reader.readRaw(count: bodyLength)
            guard let g = byFingerprint[print], !restored[g] else {
                report.droppedGroups.append(description)
                continue
            }
            // A reader over the body alone, keeping offsets relative to the whole input.
            var body = BinaryReader(
                UnsafeRawBufferPointer(rebasing: reader.buffer[..<(bodyStart + bodyLength)]),
                offset: bodyStart
            )
            restored[g] = true
            defer { groups[g].markAllChanged() }
            try restoreGroup(g, from: &body)
            guard body.isAtEnd else {
                throw BinaryDecodingError(offset: body.offset, reason: "unexpected bytes after window group state")
            }
            report.seriesRestored += groups[g].seriesCount
        }
        for (k, runtime) in runtimes.enumerated() {
            if restored[runtime.group] {
                report.restoredKPIs.append(kpis[k].name)
            } else {
                report.emptyKPIs.append(kpis[k].name)
            }
        }
        return report
    }

    // MARK: Definitions

    /// Per window group, its KPIs (indices into `kpis`), in definition order; every
    /// group has at least one.
    private func groupMembers() -> [[Int]] {
        var members = [[Int]](repeating: [], count: groups.count)
        for (k, runtime) in runtimes.enumerated() { members[runtime.group].append(k) }
        return members
    }

    /// A canonical encoding of what makes window group `g` hold the state it holds: the
    /// fields of its `GroupKey` (feeds, `group_by`, window and sliding geometry,
    /// `max_series`, calendar `rate`), its `share` threshold and whether it keeps
    /// sketches. Equal for equal definitions in any engine and any process (no
    /// `Hasher`); not a hash, so never equal for different ones.
    private func fingerprint(group g: Int, members: [Int]) -> [UInt8] {
        var w = BinaryWriter(capacity: 128)
        w.writeUInt8(1)
        let group = groups[g]
        var feeds: [(SampleSelector, SelectorRole)] = []
        if let first = members.first {
            let definition = kpis[first]
            if definition.aggregate == .ratio {
                feeds.append((definition.selector, .numerator))
                if let denominator = definition.denominator { feeds.append((denominator, .denominator)) }
            } else {
                feeds.append((definition.selector, .value))
            }
        }
        w.writeCount(feeds.count)
        for (selector, role) in feeds {
            w.writeUInt8(role.rawValue)
            w.writeString(selector.metric)
            w.writeString(selector.field)
            w.writeCount(selector.filters.count)
            for filter in selector.filters {
                w.writeString(filter.key)
                w.writeString(filter.value)
            }
        }
        let groupBy = spaces.keys[group.space]
        w.writeCount(groupBy.count)
        for key in groupBy { w.writeString(key) }
        switch groupWindows[g] {
        case .sliding:
            let geometry = group.sliding.geometry
            w.writeUInt8(0)
            w.writeVarInt(geometry.window)
            w.writeCount(geometry.bucketCount)
            w.writeVarInt(geometry.lateness)
        case .today: w.writeUInt8(1)
        case .week: w.writeUInt8(2)
        case .month: w.writeUInt8(3)
        }
        w.writeCount(group.maxSeries)
        w.writeBool(group.isCalendarRate)
        w.writeBool(group.isShare)
        if group.isShare {
            w.writeDouble(group.shareThreshold)
            w.writeBool(group.shareBelow)
        }
        w.writeBool(group.withSketches)
        return w.bytes
    }

    /// Window group `g` for a report: its KPIs and window, e.g. `a, b (1h)`.
    private func describe(group g: Int, members: [Int]) -> String {
        let names = members.map { kpis[$0].name }.joined(separator: ", ")
        let window = members.first.map { runtimes[$0].windowLabel } ?? "?"
        return "\(names) (\(window))"
    }

    // MARK: Encoding

    private func encodeGroup(_ g: Int, into w: inout BinaryWriter) {
        let group = groups[g]
        w.writeUInt8(group.kind == .sliding ? 0 : 1)
        let counters = group.counters
        w.writeCount(counters.applied)
        w.writeCount(counters.late)
        w.writeCount(counters.seriesOverflow)
        w.writeCount(counters.nonNumeric)
        w.writeCount(counters.nonFinite)
        switch group.kind {
        case .sliding:
            w.writeVarInt(group.advancedEpoch)
        case .calendar:
            w.writeVarInt(group.rateMarkedAt)
            w.writeVarInt(group.calendar.period.start)
            w.writeVarInt(group.calendar.period.end)
        }
        let space = spaces.tables[group.space]
        w.writeCount(group.seriesCount)
        for s in 0..<group.seriesCount {
            w.writeBytes(space.key(series: Int(group.spaceSeries[s])))
            w.writeVarInt(group.lastSampleAt[s])
        }
        switch group.kind {
        case .sliding: encodeBuckets(of: group, into: &w)
        case .calendar: encodeTotals(of: group, into: &w)
        }
    }

    /// Per ring slot, the non-empty buckets still in the window (epoch above
    /// `advancedEpoch − buckets`), by increasing series.
    private func encodeBuckets(of group: WindowGroup, into w: inout BinaryWriter) {
        let window = group.sliding
        let geometry = window.geometry
        let expired = group.advancedEpoch &- geometry.buckets64
        @inline(__always) func kept(_ bucket: SlidingWindow.Bucket) -> Bool {
            bucket.epoch != .min && bucket.epoch > expired && !bucket.stats.isEmpty
        }
        for slot in 0..<geometry.bucketCount {
            var n = 0
            for s in 0..<group.seriesCount where kept(window.storedBucket(series: s, slot: slot)) { n += 1 }
            w.writeCount(n)
            guard n > 0 else { continue }
            var previous = -1
            for s in 0..<group.seriesCount {
                let bucket = window.storedBucket(series: s, slot: slot)
                guard kept(bucket) else { continue }
                w.writeCount(s - previous - 1)
                previous = s
                w.writeVarInt(bucket.epoch &- group.advancedEpoch)
                bucket.stats.encode(into: &w, reference: bucket.epoch &* geometry.width)
                if window.withSketches { window.encodeSketch(series: s, slot: slot, into: &w) }
            }
        }
    }

    /// The current period, then the series with samples in it, by increasing series.
    private func encodeTotals(of group: WindowGroup, into w: inout BinaryWriter) {
        let window = group.calendar
        var n = 0
        for s in 0..<group.seriesCount where !window.totals[s].isEmpty { n += 1 }
        w.writeCount(n)
        var previous = -1
        for s in 0..<group.seriesCount where !window.totals[s].isEmpty {
            w.writeCount(s - previous - 1)
            previous = s
            window.totals[s].encode(into: &w, reference: window.period.start)
            if window.withSketches { window.encodeSketch(series: s, into: &w) }
        }
    }

    // MARK: Restoring

    /// Restores window group `g` (fresh) from its stored body.
    private func restoreGroup(_ g: Int, from r: inout BinaryReader) throws {
        let kindAt = r.offset
        let kind = try r.readUInt8()
        guard kind == (groups[g].kind == .sliding ? 0 : 1) else {
            throw BinaryDecodingError(offset: kindAt, reason: "window group kind \(kind) does not match its definition")
        }
        var counters = WindowGroup.Counters()
        counters.applied = try r.readCount(limit: Self.counterLimit)
        counters.late = try r.readCount(limit: Self.counterLimit)
        counters.seriesOverflow = try r.readCount(limit: Self.counterLimit)
        counters.nonNumeric = try r.readCount(limit: Self.counterLimit)
        counters.nonFinite = try r.readCount(limit: Self.counterLimit)
        var advancedEpoch = groups[g].advancedEpoch
        var rateMarkedAt = groups[g].rateMarkedAt
        var period = groups[g].calendar.period
        switch groups[g].kind {
        case .sliding:
            advancedEpoch = try r.readVarInt(within: Self.timeMagnitude, "bucket epoch")
        case .calendar:
            let markAt = r.offset
            rateMarkedAt = try r.readVarInt()
            guard rateMarkedAt >= 0 else {
                throw BinaryDecodingError(offset: markAt, reason: "rate mark \(rateMarkedAt) before 1970")
            }
            let start = try r.readVarInt()
            let end = try r.readVarInt()
            period = CalendarPeriod(start: start, end: end)
        }
        // A series takes at least its key's length prefix, 4 bytes per group key, and a
        // one-byte time.
        let space = groups[g].space
        let seriesCount = try r.readCount(
            itemsOfAtLeast: 2 + 4 * spaces.keys[space].count,
            limit: groups[g].maxSeries
        )
        for s in 0..<seriesCount {
            let at = r.offset
            let key = try r.readBytes()
            let lastSampleAt = try r.readVarInt()
            let spaceSeries = spaces.findOrInsert(space: space, key: key)
            guard spaceSeries >= 0 else {
                throw BinaryDecodingError(offset: at, reason: "malformed series key")
            }
            guard groups[g].restoreSeries(spaceSeries: spaceSeries, lastSampleAt: lastSampleAt) == s else {
                throw BinaryDecodingError(offset: at, reason: "series listed twice in a window group")
            }
            totalSeries += 1
        }
        switch groups[g].kind {
        case .sliding:
            try restoreBuckets(group: g, series: seriesCount, advancedEpoch: advancedEpoch, from: &r)
        case .calendar:
            // A period that is not the current one ended meanwhile: rolled over, as the
            // engine would have done (totals dropped, rate marked at the rollover).
            let current = period == groups[g].calendar.period
            try restoreTotals(group: g, series: seriesCount, period: period, keep: current, from: &r)
            if !current { rateMarkedAt = groups[g].rateMarkedAt }
        }
        groups[g].restore(counters: counters, advancedEpoch: advancedEpoch, rateMarkedAt: rateMarkedAt)
    }

    private func restoreBuckets(group g: Int, series: Int, advancedEpoch: Int64, from r: inout BinaryReader) throws {
        let window = groups[g].sliding
        let geometry = window.geometry
        let expired = advancedEpoch &- geometry.buckets64
        for slot in 0..<geometry.bucketCount {
            // A bucket takes at least 4 bytes (gap, epoch, flags, count).
            let n = try r.readCount(itemsOfAtLeast: 4, limit: series)
            var s = -1
            for _ in 0..<n {
                let at = r.offset
                let gap = try r.readCount(limit: series)
                let delta = try r.readVarInt()
                s += 1 + gap
                let epoch = advancedEpoch &+ delta
                guard s < series, epoch != .min, epoch > expired, geometry.slot(of: epoch) == slot else {
                    throw BinaryDecodingError(offset: at, reason: "bucket out of its series, window or ring slot")
                }
                let stats = try AggregateAccumulator.decode(from: &r, reference: epoch &* geometry.width)
                var sketch: QuantileSketch?
                if window.withSketches { sketch = try Self.decodeSketch(from: &r) }
                window.restore(series: s, bucket: SlidingWindow.Bucket(epoch: epoch, stats: stats), sketch: sketch)
            }
        }
    }

    /// Reads the totals of stored period `period`, and restores them when `keep`.
    private func restoreTotals(
        group g: Int,
        series: Int,
        period: CalendarPeriod,
        keep: Bool,
        from r: inout BinaryReader
    ) throws {
        let window = groups[g].calendar
        // A total takes at least 3 bytes (gap, flags, count).
        let n = try r.readCount(itemsOfAtLeast: 3, limit: series)
        var s = -1
        for _ in 0..<n {
            let at = r.offset
            let gap = try r.readCount(limit: series)
            s += 1 + gap
            guard s < series else {
                throw BinaryDecodingError(offset: at, reason: "calendar total of an unknown series")
            }
            let total = try AggregateAccumulator.decode(from: &r, reference: period.start)
            var sketch: QuantileSketch?
            if window.withSketches { sketch = try Self.decodeSketch(from: &r) }
            if keep { window.restore(series: s, total: total, sketch: sketch) }
        }
    }

    /// A bucket's sketch, with no more bins than the engine's sketches hold.
    private static func decodeSketch(from r: inout BinaryReader) throws -> QuantileSketch {
        try QuantileSketch.decode(from: &r, maxBinsLimit: QuantileSketch.defaultMaxBins)
    }
}

extension AggregateAccumulator {
    /// Flags of an encoded accumulator: which groups of fields follow.
    private enum Layout {
        /// `sum`, `min`, `max`, `last`, `lastTimestamp` differ from empty.
        static let values: UInt8 = 1
        /// With `values`: one sample, so the four doubles are one.
        static let single: UInt8 = 2
        /// `hits` is not 0.
        static let hits: UInt8 = 4
        /// `numeratorCount`, `numerator`, `denominator` differ from empty.
        static let ratio: UInt8 = 8
        static let all: UInt8 = 15
    }

    /// Appends the accumulator: flags, count, then only the fields not at their empty
    /// value (bit patterns, so −0 and NaN survive). `lastTimestamp` is written relative
    /// to `reference` (the bucket's or period's start), to stay short.
    func encode(into w: inout BinaryWriter, reference: Int64) {
        let hasValues =
            sum.bitPattern != 0 || min.bitPattern != Double.infinity.bitPattern
            || max.bitPattern != (-Double.infinity).bitPattern || last.bitPattern != 0 || lastTimestamp != .min
        let single =
            hasValues && count == 1 && sum.bitPattern == min.bitPattern && min.bitPattern == max.bitPattern
            && max.bitPattern == last.bitPattern
        let hasRatio = numeratorCount != 0 || numerator.bitPattern != 0 || denominator.bitPattern != 0
        var flags: UInt8 = 0
        if hasValues { flags |= Layout.values }
        if single { flags |= Layout.single }
        if hits != 0 { flags |= Layout.hits }
        if hasRatio { flags |= Layout.ratio }
        w.writeUInt8(flags)
        w.writeCount(count)
        if hasValues {
            if single {
                w.writeDouble(sum)
            } else {
                w.writeDouble(sum)
                w.writeDouble(min)
                w.writeDouble(max)
                w.writeDouble(last)
            }
            w.writeVarInt(lastTimestamp &- reference)
        }
        if hits != 0 { w.writeCount(hits) }
        if hasRatio {
            w.writeCount(numeratorCount)
            w.writeDouble(numerator)
            w.writeDouble(denominator)
        }
    }

    /// Reads an accumulator written by `encode(into:reference:)` with the same
    /// `reference`.
    static func decode(from r: inout BinaryReader, reference: Int64) throws -> AggregateAccumulator {
        let at = r.offset
        let flags = try r.readUInt8()
        guard flags & ~Layout.all == 0, flags & Layout.single == 0 || flags & Layout.values != 0 else {
            throw BinaryDecodingError(offset: at, reason: "invalid accumulator flags \(flags)")
        }
        var a = AggregateAccumulator()
        a.count = try r.readCount(limit: .max)
        if flags & Layout.values != 0 {
            if flags & Layout.single != 0 {
                let v = try r.readDouble()
                a.sum = v
                a.min = v
                a.max = v
                a.last = v
            } else {
                a.sum = try r.readDouble()
                a.min = try r.readDouble()
                a.max = try r.readDouble()
                a.last = try r.readDouble()
            }
            let delta = try r.readVarInt()
            a.lastTimestamp = reference &+ delta
        }
        if flags & Layout.hits != 0 { a.hits = try r.readCount(limit: .max) }
        if flags & Layout.ratio != 0 {
            a.numeratorCount = try r.readCount(limit: .max)
            a.numerator = try r.readDouble()
            a.denominator = try r.readDouble()
        }
        return a
    }
}
