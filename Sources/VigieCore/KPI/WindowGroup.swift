/// The live window state shared by the KPIs that see exactly the same samples: same
/// selector (or numerator and denominator selectors), `group_by`, window (length,
/// buckets and lateness, or calendar period), `max_series`, and at most one `share`
/// threshold. Such KPIs differ only in how they read the accumulators (count, sum,
/// mean, min, max, last, rate and share all read the same `AggregateAccumulator`; quantiles
/// read the sketches, kept when any member needs them), so the engine updates one
/// window per group instead of one per KPI.
///
/// Members admit the same series in the same order, count the same late and overflowing
/// samples, and change at the same instants, so series numbers, counters and change
/// bookkeeping (for publishing and, when a member has alert rules, for alerts) are kept
/// once per group; every member reports them as its own. Calendar `rate` KPIs, which
/// change with time alone, are grouped only with each other.
///
/// **Changes.** A series that changes (a sample applied, samples expired, a period
/// rolled over) joins up to two lists, each at most once until taken: the publish list
/// (`takeDue`) and, when `tracksAlertChanges`, the alert list (`alertChanges`). One byte
/// per series holds both dedup bits: marking a change costs one load and one compare
/// when the series is already in each list the group keeps, tracked or not.
///
/// A group's series are its own (0, 1, 2… in order of admission, at most `maxSeries`):
/// `local` maps the series number of the shared `SeriesTable` to the group's, so each
/// group keeps its own cap and creation order, exactly as if it had its own table.
///
/// All storage is `UnmanagedArray`s (no reference count, no copy-on-write check on the
/// hot path), freed by `deallocate()`. Owned by the engine thread.
struct WindowGroup {
    /// How the group's window is kept.
    enum Kind {
        case sliding
        case calendar
    }

    /// Counters every member reports (see `KPICounters`).
    struct Counters {
        var applied = 0
        var late = 0
        var seriesOverflow = 0
        var nonNumeric = 0
        var nonFinite = 0
    }

    /// Where an accepted sample goes: its bucket epoch and ring slot (sliding windows).
    struct Placement {
        let epoch: Int64
        let slot: Int
    }

    /// Bits of `changeMarks`: which change list holds a series.
    private enum ChangeMark {
        /// In `dirtyList` (changed since last published).
        static let publish: UInt8 = 1
        /// In `alertList` (changed since alert changes were last taken).
        static let alert: UInt8 = 2
    }

    let kind: Kind
    /// Index of the group's `SeriesTable` in the engine.
    let space: Int
    /// Most series the group admits (≥ 0).
    let maxSeries: Int
    /// KPIs sharing the group: what one application counts in `KPIEngine.apply`.
    let members: Int
    let withSketches: Bool
    /// `share`: whether a value counts as a hit, precomputed (no member reads hits
    /// otherwise).
    let isShare: Bool
    let shareThreshold: Double
    let shareBelow: Bool
    /// Calendar `rate`: series change with time alone.
    let isCalendarRate: Bool

    /// Series admitted so far.
    private(set) var seriesCount = 0
    /// Group series number per `SeriesTable` series number, −1 when not admitted; may be
    /// shorter than the table (missing entries are −1).
    private var local: UnmanagedArray<Int32>
    /// `SeriesTable` series number of each group series (for names).
    private(set) var spaceSeries: UnmanagedArray<Int32>

    /// Sliding window of every series (sliding groups; empty geometry otherwise).
    private(set) var sliding: SlidingWindow
    /// Calendar window of every series (calendar groups).
    private(set) var calendar: CalendarWindow

    /// Per series: latest event time applied, `Int64.min` when none.
    private(set) var lastSampleAt: UnmanagedArray<Int64>
    /// Per series: engine time of the last publish, `Int64.min` when never.
    private var publishedAt: UnmanagedArray<Int64>
    /// Per series: the change lists that hold it (`ChangeMark` bits).
    private var changeMarks: UnmanagedArray<UInt8>
    /// The lists a change goes to: the publish list, plus the alert list when tracked.
    private var trackedMarks = ChangeMark.publish
    /// The series changed since they were last published, in the order they changed.
    private var dirtyList: UnmanagedArray<Int32>
    /// The series changed since alert changes were last taken, in the order they changed
    /// (empty unless `tracksAlertChanges`).
    private var alertList: UnmanagedArray<Int32>

    private(set) var counters = Counters()

    /// Last bucket epoch `advance` saw (sliding windows).
    private(set) var advancedEpoch: Int64
    /// Engine time of the last time-driven change mark for calendar `rate`.
    private(set) var rateMarkedAt: Int64
    /// `now` of the last sliding application and its bucket epoch and slot (saves
    /// two divisions per sample).
    private var cachedNow: Int64 = .min
    private var cachedNowEpoch: Int64 = 0
    private var cachedNowSlot: Int = 0

    /// An empty group. `geometry` is used for sliding groups; `period` for calendar ones.
    init(
        kind: Kind,
        space: Int,
        maxSeries: Int,
        members: Int,
        withSketches: Bool,
        share: (threshold: Double, below: Bool)?,
        isCalendarRate: Bool,
        geometry: SlidingWindow.Geometry,
        period: CalendarPeriod,
        now: Int64
    ) {
        self.kind = kind
        self.space = space
        self.maxSeries = Swift.max(0, Swift.min(maxSeries, Int(Int32.max)))
        self.members = members
        self.withSketches = withSketches
        isShare = share != nil
        shareThreshold = share?.threshold ?? 0
        shareBelow = share?.below ?? true
        self.isCalendarRate = isCalendarRate
        local = UnmanagedArray()
        spaceSeries = UnmanagedArray()
        sliding = SlidingWindow(
            geometry: geometry,
            withSketches: withSketches && kind == .sliding,
            maxSeries: kind == .sliding ? self.maxSeries : 1
        )
        calendar = CalendarWindow(period: period, withSketches: withSketches && kind == .calendar)
        lastSampleAt = UnmanagedArray()
        publishedAt = UnmanagedArray()
        changeMarks = UnmanagedArray()
        dirtyList = UnmanagedArray()
        alertList = UnmanagedArray()
        advancedEpoch = geometry.epoch(of: now)
        rateMarkedAt = now
    }

    /// Frees the storage (once, by the engine).
    func deallocate() {
        local.deallocate()
        spaceSeries.deallocate()
        sliding.deallocate()
        calendar.deallocate()
        lastSampleAt.deallocate()
        publishedAt.deallocate()
        changeMarks.deallocate()
        dirtyList.deallocate()
        alertList.deallocate()
    }

    // MARK: Hot path

    /// Counts a selected field that holds a string.
    @inline(__always)
    mutating func countNonNumeric() { counters.nonNumeric &+= 1 }

    /// Counts a selected field that holds NaN or ±∞.
    @inline(__always)
    mutating func countNonFinite() { counters.nonFinite &+= 1 }

    /// Where a sample at event time `timestamp` goes at engine time `now`, or `nil`
    /// (counted) when it is late. A calendar group must have been rolled to `now`
    /// (`needsRollOver`) first.
    @inline(__always)
    mutating func place(timestamp: Int64, now: Int64) -> Placement? {
        switch kind {
        case .sliding:
            let geometry = sliding.geometry
            if now != cachedNow {
                cachedNow = now
                cachedNowEpoch = geometry.epoch(of: now)
                cachedNowSlot = geometry.slot(of: cachedNowEpoch)
            }
            let nowEpoch = cachedNowEpoch
            guard let epoch = geometry.placement(timestamp: timestamp, now: now, nowEpoch: nowEpoch) else {
                counters.late &+= 1
                return nil
            }
            return Placement(epoch: epoch, slot: epoch == nowEpoch ? cachedNowSlot : geometry.slot(of: epoch))
        case .calendar:
            guard !calendar.isLate(timestamp) else {
                counters.late &+= 1
                return nil
            }
            return Placement(epoch: 0, slot: 0)
        }
    }

    /// True when `now` reached the end of a calendar group's period.
    @inline(__always)
    func needsRollOver(now: Int64) -> Bool {
        kind == .calendar && now >= calendar.period.end
    }

    /// The group's series for `SeriesTable` series `g`, or −1 when not admitted.
    @inline(__always)
    func series(ofSpaceSeries g: Int) -> Int {
        g < local.count ? Int(local[g]) : -1
    }

    /// True when the group may admit another series (under `maxSeries`).
    @inline(__always)
    var hasRoom: Bool { seriesCount < maxSeries }

    /// Counts a sample dropped because its series would exceed the cap.
    @inline(__always)
    mutating func countOverflow() { counters.seriesOverflow &+= 1 }

    /// Admits `SeriesTable` series `g` (not yet admitted; `hasRoom` was true) and
    /// returns its group series number. Allocates its window (now and then).
    mutating func admit(spaceSeries g: Int) -> Int {
        let s = seriesCount
        while local.count <= g { local.append(-1) }
        local[g] = Int32(truncatingIfNeeded: s)
        spaceSeries.append(Int32(truncatingIfNeeded: g))
        switch kind {
        case .sliding: sliding.addSeries()
        case .calendar: calendar.addSeries()
        }
        lastSampleAt.append(.min)
        publishedAt.append(.min)
        changeMarks.append(0)
        seriesCount += 1
        return s
    }

    /// Applies value `v` of series `s` in the role `role`, placed by `place`. Returns
    /// false (counted late) when its bucket already holds a newer epoch.
    @inline(__always)
    mutating func record(
        series s: Int,
        _ v: Double,
        role: SelectorRole,
        at timestamp: Int64,
        placement: Placement
    ) -> Bool {
        switch kind {
        case .sliding:
            let placed: Bool
            switch role {
            case .value:
                let hit = isShare && (shareBelow ? v < shareThreshold : v > shareThreshold)
                placed = sliding.add(
                    series: s,
                    v,
                    at: timestamp,
                    hit: hit,
                    epoch: placement.epoch,
                    slot: placement.slot
                )
            case .numerator:
                placed = sliding.addNumerator(series: s, v, epoch: placement.epoch, slot: placement.slot)
            case .denominator:
                placed = sliding.addDenominator(series: s, v, epoch: placement.epoch, slot: placement.slot)
            }
            guard placed else {
                counters.late &+= 1
                return false
            }
        case .calendar:
            switch role {
            case .value:
                let hit = isShare && (shareBelow ? v < shareThreshold : v > shareThreshold)
                calendar.add(series: s, v, at: timestamp, hit: hit)
            case .numerator: calendar.addNumerator(series: s, v)
            case .denominator: calendar.addDenominator(series: s, v)
            }
        }
        if timestamp > lastSampleAt[s] { lastSampleAt[s] = timestamp }
        markChanged(s)
        counters.applied &+= 1
        return true
    }

    /// Puts series `s` in each change list the group keeps that does not hold it yet.
    /// One load and one compare when it is in all of them; appends (allocating only while
    /// a list's storage grows to the series count) otherwise.
    @inline(__always)
    private mutating func markChanged(_ s: Int) {
        let marks = changeMarks[s]
        guard marks & trackedMarks != trackedMarks else { return }
        if marks & ChangeMark.publish == 0 { dirtyList.append(Int32(truncatingIfNeeded: s)) }
        if trackedMarks & ChangeMark.alert != 0, marks & ChangeMark.alert == 0 {
            alertList.append(Int32(truncatingIfNeeded: s))
        }
        changeMarks[s] = marks | trackedMarks
    }

    // MARK: Time

    /// Starts calendar period `next`; the series that had samples are marked changed.
    /// O(series), once per period.
    mutating func rollOver(to next: CalendarPeriod, now: Int64) {
        var changed: [Int] = []
        calendar.rollOver(to: next) { changed.append($0) }
        for s in changed { markChanged(s) }
        rateMarkedAt = now
    }

    /// Moves the sliding window's time to `now`, marking as changed the series whose
    /// samples left the window; for calendar `rate`, marks every series with samples at
    /// most once per second. (Calendar rollover is the engine's: `needsRollOver`.)
    /// O(series × buckets) when a sliding window crossed a bucket boundary, else O(1)
    /// (O(series) for calendar `rate`).
    mutating func advance(to now: Int64) {
        switch kind {
        case .sliding:
            let geometry = sliding.geometry
            let epoch = geometry.epoch(of: now)
            guard epoch > advancedEpoch else { return }
            // Buckets of epochs in (goneBefore, goneNow] have just left the window:
            // visit their ring slots, each a contiguous row of series.
            let goneBefore = advancedEpoch &- geometry.buckets64
            let goneNow = epoch &- geometry.buckets64
            let expiring = Swift.min(epoch &- advancedEpoch, geometry.buckets64)
            for k in 0..<expiring {
                let slot = geometry.slot(of: goneNow &- k)
                for s in 0..<seriesCount
                where sliding.lostSamples(series: s, slot: slot, goneBefore: goneBefore, goneNow: goneNow) {
                    markChanged(s)
                }
            }
            advancedEpoch = epoch
        case .calendar:
            if isCalendarRate, now - rateMarkedAt >= 1_000_000_000 {
                for s in 0..<seriesCount where !calendar.totals[s].isEmpty { markChanged(s) }
                rateMarkedAt = now
            }
        }
    }

    // MARK: Publishing

    /// The changed series last published at least `interval` ago (or never), in the
    /// order they changed, at most `limit`; marks them published at `now`. O(changed
    /// series scanned until `limit` are found); allocates the result.
    mutating func takeDue(now: Int64, interval: Int64, limit: Int = .max) -> [Int] {
        var due: [Int] = []
        var kept = 0
        var i = 0
        let n = dirtyList.count
        // Stops at `limit`: the rest of the list is kept as it is (one move), so taking
        // a large backlog in small slices costs O(backlog), not O(backlog² / limit).
        while i < n, due.count < limit {
            let s = Int(dirtyList[i])
            let published = publishedAt[s]
            let (since, overflow) = now.subtractingReportingOverflow(published)
            if published == .min || overflow || since >= interval {
                due.append(s)
                publishedAt[s] = now
                changeMarks[s] &= ~ChangeMark.publish
            } else {
                dirtyList[kept] = dirtyList[i]
                kept += 1
            }
            i += 1
        }
        dirtyList.removeSubrange(kept..<i)
        return due
    }

    // MARK: Checkpoints

    /// Admits `SeriesTable` series `g` from a checkpoint, with its latest event time
    /// (`Int64.min`: none), and returns its group series number; −1, changing nothing,
    /// when `g` is already admitted or the group is full (corrupt input). Never
    /// published yet. Allocates now and then.
    mutating func restoreSeries(spaceSeries g: Int, lastSampleAt time: Int64) -> Int {
        guard g >= 0, hasRoom, series(ofSpaceSeries: g) < 0 else { return -1 }
        let s = admit(spaceSeries: g)
        lastSampleAt[s] = time
        return s
    }

    /// Restores the counters and the times `advance` compares with, from a checkpoint.
    mutating func restore(counters: Counters, advancedEpoch: Int64, rateMarkedAt: Int64) {
        self.counters = counters
        self.advancedEpoch = advancedEpoch
        self.rateMarkedAt = rateMarkedAt
    }

    /// Marks every series changed, in order of admission, for publishing and (when
    /// tracked) alerts: after a restore every value is published and judged again.
    /// O(series).
    mutating func markAllChanged() {
        for s in 0..<seriesCount { markChanged(s) }
    }

    // MARK: Alerts

    /// True when changes are also kept for alerts (a member KPI has alert rules).
    var tracksAlertChanges: Bool { trackedMarks & ChangeMark.alert != 0 }

    /// Starts or stops keeping changes for alerts. Starting puts every existing series in
    /// the alert list (their current values have not been evaluated yet); stopping
    /// empties it. O(series).
    mutating func trackAlertChanges(_ on: Bool) {
        alertList.removeAll()
        if on {
            trackedMarks = ChangeMark.publish | ChangeMark.alert
            for s in 0..<seriesCount {
                changeMarks[s] |= ChangeMark.alert
                alertList.append(Int32(truncatingIfNeeded: s))
            }
        } else {
            trackedMarks = ChangeMark.publish
            for s in 0..<seriesCount { changeMarks[s] &= ~ChangeMark.alert }
        }
    }

    /// The series changed since alert changes were last cleared, each once, in the order
    /// they changed. Valid until the group next changes; no copy.
    var alertChanges: UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(start: alertList.base, count: alertList.count)
    }

    /// Empties the alert list (keeping its storage). O(listed series).
    mutating func clearAlertChanges() {
        for i in 0..<alertList.count { changeMarks[Int(alertList[i])] &= ~ChangeMark.alert }
        alertList.removeAll()
    }
}
