import Foundation

/// The KPI engine: folds parsed samples into every KPI's rolling windows and reports
/// current values. Owned by one thread, no locks, no clock (`now` is a parameter); the
/// hot path (`apply`) allocates nothing once the series exist. How KPIs share windows,
/// what `apply` costs and what memory bounds it: docs/architecture.md, "The KPI engine".
public final class KPIEngine {
    /// The KPI definitions, in the order given to `init`.
    public let kpis: [KPIDefinition]
    /// The zone calendar windows follow.
    public let timeZone: TimeZone
    /// Most series over all window groups together (`[ingest] max_series_total`); a
    /// sample that would create one more is counted in ``totalSeriesOverflow``, not
    /// applied. Each KPI's own `max_series` applies too.
    public var maxTotalSeries = Int.max
    /// Series held, over all window groups (restored ones included).
    public internal(set) var totalSeries = 0
    /// Samples dropped because they would have created a series beyond ``maxTotalSeries``.
    public private(set) var totalSeriesOverflow = 0

    // Stored properties without `private` are read and restored by `KPIEngine+State.swift`.
    private let calendar: Calendar
    /// Finds what each line's values feed, and their series.
    private let router: SampleRouter
    /// Window groups (fixed number; each mutated in place through its pointer).
    let groups: UnmanagedArray<WindowGroup>
    /// Per group, its window kind (for calendar rollover).
    let groupWindows: [WindowSpec]
    /// Series spaces, one per distinct `group_by` (fixed number), with each series'
    /// group tags for publishing.
    var spaces: SeriesSpaces { router.spaces }
    /// Per KPI, how it reads its group.
    let runtimes: [KPIRuntime]
    /// Line totals (one element).
    let lineCounters: UnmanagedArray<LineCounters>
    /// Scratch sketch for reading sliding quantile windows (keeps its bins).
    private var sketchScratch = QuantileSketch()
    /// KPIs whose changes `takeChangedForAlerts` reports, in definition order.
    private var alertKPIs: [Int] = []
    /// Their window groups, each once, in increasing order.
    private var alertGroups: [Int] = []

    struct LineCounters {
        var lines = 0
        var unmatchedLines = 0
    }

    /// What makes KPIs share a window group (besides the `share` threshold).
    private struct GroupKey: Hashable {
        struct Feed: Hashable {
            let selector: SampleSelector
            let role: SelectorRole
        }

        let feeds: [Feed]
        let groupBy: [String]
        let window: WindowSpec
        /// Sliding windows only.
        let geometry: SlidingWindow.Geometry?
        let maxSeries: Int
        let isCalendarRate: Bool
    }

    /// A window group being planned.
    private struct GroupPlan {
        let key: GroupKey
        var members = 0
        var withSketches = false
        var share: (threshold: Double, below: Bool)?
    }

    /// An engine for `kpis`, with calendar windows in `timeZone`, starting at `now`
    /// (ns since the epoch).
    ///
    /// Definitions are taken as validated by `VigieConfig`; out-of-range numbers are
    /// clamped (at least one bucket, no negative series cap).
    public init(kpis: [KPIDefinition], timeZone: TimeZone, now: Int64) {
        self.kpis = kpis
        self.timeZone = timeZone
        let calendar = CalendarPeriod.calendar(in: timeZone)
        self.calendar = calendar

        // Plan the groups: KPIs with equal keys share one, unless their `share`
        // thresholds differ.
        var plans: [GroupPlan] = []
        var plansByKey: [GroupKey: [Int]] = [:]
        var kpiGroup: [Int] = []
        for kpi in kpis {
            let feeds: [GroupKey.Feed]
            if kpi.aggregate == .ratio {
                feeds =
                    [GroupKey.Feed(selector: kpi.selector, role: .numerator)]
                    + (kpi.denominator.map { [GroupKey.Feed(selector: $0, role: .denominator)] } ?? [])
            } else {
                feeds = [GroupKey.Feed(selector: kpi.selector, role: .value)]
            }
            var geometry: SlidingWindow.Geometry?
            var isCalendarRate = false
            if case .sliding(let ns) = kpi.window {
                geometry = SlidingWindow.Geometry(window: ns, buckets: kpi.buckets, lateness: kpi.lateness)
            } else if case .rate = kpi.aggregate {
                isCalendarRate = true
            }
            let key = GroupKey(
                feeds: feeds,
                groupBy: kpi.groupBy,
                window: geometry == nil ? kpi.window : .sliding(nanoseconds: 0),
                geometry: geometry,
                maxSeries: Swift.max(0, Swift.min(kpi.maxSeries, Int(Int32.max))),
                isCalendarRate: isCalendarRate
            )
            var share: (threshold: Double, below: Bool)?
            if case .share(let threshold, let below) = kpi.aggregate { share = (threshold, below) }
            let candidates = plansByKey[key] ?? []
            let chosen = candidates.first { p in
                guard let share, let other = plans[p].share else { return true }
                return other.threshold == share.threshold && other.below == share.below
            }
            let p: Int
            if let chosen {
                p = chosen
            } else {
                p = plans.count
                plans.append(GroupPlan(key: key))
                plansByKey[key, default: []].append(p)
            }
            plans[p].members += 1
            if kpi.aggregate.needsSketch { plans[p].withSketches = true }
            if let share { plans[p].share = share }
            kpiGroup.append(p)
        }

        // One series space per distinct `group_by`.
        var layout = SeriesSpaces.Layout()
        var groups = UnmanagedArray<WindowGroup>(capacity: plans.count)
        var groupWindows: [WindowSpec] = []
        var sources: [FeedSource] = []
        for (g, plan) in plans.enumerated() {
            let space = layout.space(for: plan.key.groupBy)
            let geometry = plan.key.geometry ?? SlidingWindow.Geometry(window: 1, buckets: 1, lateness: nil)
            let period =
                CalendarPeriod.containing(now, window: plan.key.window, calendar: calendar)
                ?? CalendarPeriod(start: .min, end: .max)
            groups.append(
                WindowGroup(
                    kind: plan.key.geometry == nil ? .calendar : .sliding,
                    space: space,
                    maxSeries: plan.key.maxSeries,
                    members: plan.members,
                    withSketches: plan.withSketches,
                    share: plan.share,
                    isCalendarRate: plan.key.isCalendarRate,
                    geometry: geometry,
                    period: period,
                    now: now
                )
            )
            groupWindows.append(plan.key.window)
            for feed in plan.key.feeds {
                sources.append(
                    FeedSource(
                        group: g,
                        selector: feed.selector,
                        role: feed.role,
                        groupBy: plan.key.groupBy,
                        space: space
                    )
                )
            }
        }
        self.router = SampleRouter(sources: sources, layout: layout)
        self.groups = groups
        self.groupWindows = groupWindows
        self.runtimes = kpis.enumerated().map { KPIRuntime(definition: $1, group: kpiGroup[$0]) }
        self.lineCounters = UnmanagedArray(repeating: LineCounters(), count: 1)
    }

    deinit {
        for g in 0..<groups.count { groups[g].deallocate() }
        groups.deallocate()
        lineCounters.deallocate()
    }

    /// Applies every numeric field of `line` that some KPI selects. `receivedAt` is the
    /// event time when the line has no timestamp.
    ///
    /// Returns how many (KPI, series) applications happened (a ratio KPI whose
    /// numerator and denominator both come from this line counts twice). Late samples,
    /// samples over a KPI's series cap, string fields and non-finite values are counted
    /// in `counters` and not applied.
    ///
    /// O(tags + fields + selectors + window groups of the measurement); no allocation
    /// once the series exist.
    @discardableResult
    public func apply(_ line: ParsedLine, receivedAt: Int64, now: Int64) -> Int {
        let totals = lineCounters.base
        totals.pointee.lines &+= 1
        var sink = Sink(engine: self, timestamp: line.timestamp ?? receivedAt, now: now)
        guard let applied = router.route(line, into: &sink) else {
            totals.pointee.unmatchedLines &+= 1
            return 0
        }
        return applied
    }

    /// The window groups as ``SampleRouter`` feeds them, for one line.
    private struct Sink: SampleSink {
        unowned(unsafe) let engine: KPIEngine
        let timestamp: Int64
        let now: Int64
        /// Where the value being routed goes in its window (set by `accepts`).
        var placement = WindowGroup.Placement(epoch: 0, slot: 0)

        init(engine: KPIEngine, timestamp: Int64, now: Int64) {
            self.engine = engine
            self.timestamp = timestamp
            self.now = now
        }

        @inline(__always)
        func group(_ g: Int) -> UnsafeMutablePointer<WindowGroup> { engine.groups.base + g }

        @inline(__always)
        func skipNonNumeric(target: Int) { group(target).pointee.countNonNumeric() }

        @inline(__always)
        func skipNonFinite(target: Int) { group(target).pointee.countNonFinite() }

        @inline(__always)
        mutating func accepts(target: Int) -> Bool {
            let group = group(target)
            if group.pointee.needsRollOver(now: now) { engine.rollOver(group: target, now: now) }
            guard let placement = group.pointee.place(timestamp: timestamp, now: now) else { return false }
            self.placement = placement
            return true
        }

        @inline(__always)
        func series(target: Int, spaceSeries: Int) -> Int {
            group(target).pointee.series(ofSpaceSeries: spaceSeries)
        }

        @inline(__always)
        func makeRoom(target: Int) -> Bool {
            guard group(target).pointee.hasRoom else {
                group(target).pointee.countOverflow()
                return false
            }
            guard engine.totalSeries < engine.maxTotalSeries else {
                engine.totalSeriesOverflow &+= 1
                return false
            }
            return true
        }

        @inline(__always)
        func countSpaceFull(target: Int) { group(target).pointee.countOverflow() }

        @inline(__always)
        func admit(target: Int, spaceSeries: Int) -> Int {
            engine.totalSeries &+= 1
            return group(target).pointee.admit(spaceSeries: spaceSeries)
        }

        @inline(__always)
        func record(target: Int, series: Int, value: Double, role: SelectorRole) -> Int {
            let group = group(target)
            let taken = group.pointee.record(series: series, value, role: role, at: timestamp, placement: placement)
            return taken ? group.pointee.members : 0
        }
    }

    /// Starts the calendar period containing `now` in calendar group `g`; its series that
    /// had samples are marked changed. O(series), once per period.
    @inline(never)
    private func rollOver(group g: Int, now: Int64) {
        let next =
            CalendarPeriod.containing(now, window: groupWindows[g], calendar: calendar) ?? groups[g].calendar.period
        groups[g].rollOver(to: next, now: now)
    }

    /// Slides the windows and rolls calendar periods to `now`, marking series whose
    /// values changed with time alone (for `takeDue` and `takeChangedForAlerts`).
    ///
    /// Call it about every 100 ms; `snapshot`, `takeDue` and `takeChangedForAlerts`
    /// call it themselves. Cheap unless a bucket boundary was crossed (then
    /// O(series × buckets) per sliding window group).
    public func advance(to now: Int64) {
        for g in 0..<groups.count { advance(group: g, to: now) }
    }

    /// Slides or rolls over window group `g` to `now`.
    private func advance(group g: Int, to now: Int64) {
        if groups[g].needsRollOver(now: now) {
            rollOver(group: g, now: now)
        } else {
            groups[g].advance(to: now)
        }
    }

    /// The value of series `s` of KPI `k` at `now`.
    private func value(kpi k: Int, series s: Int, now: Int64) -> KPIValue {
        let runtime = runtimes[k]
        let group = groups[runtime.group]
        return runtime.value(
            series: s,
            of: group,
            names: spaces.names[group.space][Int(group.spaceSeries[s])],
            now: now,
            scratch: &sketchScratch
        )
    }

    /// The current value of every series of every KPI at `now`, KPIs in definition
    /// order and series in order of creation.
    ///
    /// Allocates; for snapshots and publishing, not the hot path. Does not change
    /// what `takeDue` returns.
    public func snapshot(now: Int64) -> [KPIValue] {
        advance(to: now)
        var out: [KPIValue] = []
        for k in 0..<runtimes.count {
            for s in 0..<groups[runtimes[k].group].seriesCount {
                out.append(value(kpi: k, series: s, now: now))
            }
        }
        return out
    }

    /// The series that changed since they were last published (a sample applied, a
    /// bucket expired, a period rolled over) and were last published at least
    /// `interval` ns ago or never (`interval` 0: every change); marks them published
    /// at `now`.
    ///
    /// A series not yet due stays pending and is returned by a later call. Values come
    /// KPI by KPI in definition order, each KPI's series in the order they changed.
    /// At most `limit` series (of window groups: KPIs sharing a window count once) are
    /// taken per call, so the caller can spread a large publish over several loop turns
    /// instead of stalling ingest; the rest stay due. Independent of
    /// `takeChangedForAlerts`: neither consumes the other's changes. O(changed series);
    /// allocates the result.
    public func takeDue(now: Int64, interval: Int64, limit: Int = .max) -> [KPIValue] {
        advance(to: now)
        var due: [[Int]] = []
        due.reserveCapacity(groups.count)
        var budget = max(0, limit)
        for g in 0..<groups.count {
            let taken = groups[g].takeDue(now: now, interval: interval, limit: budget)
            budget -= taken.count
            due.append(taken)
        }
        var out: [KPIValue] = []
        for k in 0..<runtimes.count {
            for s in due[runtimes[k].group] {
                out.append(value(kpi: k, series: s, now: now))
            }
        }
        return out
    }

    /// Marks which KPIs (by index into `kpis`) have alert rules: only their changes are
    /// kept for `takeChangedForAlerts`. Replaces the previous set; indices out of range
    /// are ignored. The default is none.
    ///
    /// A KPI that becomes tracked has every existing series reported by the next
    /// `takeChangedForAlerts` (so call it before applying samples unless that is wanted),
    /// and so does every tracked KPI sharing its window group, since changes are kept per
    /// group.
    ///
    /// Groups without a tracked KPI keep no alert list: applying a sample to them costs
    /// what it did before. A tracked group costs up to 8 more bytes per series and one
    /// append per series at its first change after each `takeChangedForAlerts`; no
    /// allocation once the list has grown to the series count. O(series of the groups
    /// whose tracking changed); allocates.
    public func trackChanges(forKPIs indices: Set<Int>) {
        let kept = indices.filter { $0 >= 0 && $0 < runtimes.count }.sorted()
        let before = Set(alertKPIs)
        var gaining = Set<Int>()
        for k in kept where !before.contains(k) { gaining.insert(runtimes[k].group) }
        let tracked = Set(kept.map { runtimes[$0].group })
        for g in 0..<groups.count {
            if gaining.contains(g) {
                groups[g].trackAlertChanges(true)
            } else if !tracked.contains(g), groups[g].tracksAlertChanges {
                groups[g].trackAlertChanges(false)
            }
        }
        alertKPIs = kept
        alertGroups = tracked.sorted()
    }

    /// The current values at `now` of every series of a tracked KPI (see
    /// `trackChanges(forKPIs:)`) that changed since the last call — a sample applied,
    /// or, as `advance` detects them, samples expired or a period rolled over — each
    /// series once; then forgets those changes.
    ///
    /// For alerts: call it right after each applied batch, whatever the publish
    /// interval. Independent of `takeDue`: neither consumes the other's changes. Values
    /// come KPI by KPI in definition order, each KPI's series in the order they changed;
    /// KPIs sharing a window group report the same series. Advances the tracked groups
    /// to `now` first (see `advance` for the cost of crossing a bucket boundary); apart
    /// from that, O(tracked KPIs) when nothing changed, allocating nothing, and
    /// O(tracked KPIs + values returned) otherwise, allocating only the result.
    public func takeChangedForAlerts(now: Int64) -> [KPIValue] {
        for g in alertGroups { advance(group: g, to: now) }
        var changed = 0
        for k in alertKPIs { changed += groups[runtimes[k].group].alertChanges.count }
        guard changed > 0 else { return [] }
        var out: [KPIValue] = []
        out.reserveCapacity(changed)
        for k in alertKPIs {
            for s in groups[runtimes[k].group].alertChanges {
                out.append(value(kpi: k, series: Int(s), now: now))
            }
        }
        for g in alertGroups { groups[g].clearAlertChanges() }
        return out
    }

    /// Counters since creation: totals and per KPI (allocates; not per sample).
    public var counters: EngineCounters {
        var c = EngineCounters()
        c.lines = lineCounters[0].lines
        c.unmatchedLines = lineCounters[0].unmatchedLines
        c.perKPI = runtimes.map { runtime in
            let group = groups[runtime.group]
            var k = KPICounters(kpi: runtime.definition.name)
            k.applied = group.counters.applied
            k.late = group.counters.late
            k.seriesOverflow = group.counters.seriesOverflow
            k.nonNumeric = group.counters.nonNumeric
            k.nonFinite = group.counters.nonFinite
            k.series = group.seriesCount
            return k
        }
        for k in c.perKPI {
            c.applied += k.applied
            c.late += k.late
            c.seriesOverflow += k.seriesOverflow
            c.nonNumeric += k.nonNumeric
            c.nonFinite += k.nonFinite
            c.series += k.series
        }
        return c
    }

    /// The calendar period of KPI number `kpi` (an index into `kpis`), or `nil` for a
    /// sliding window or an index out of range.
    public func currentPeriod(ofKPI kpi: Int) -> CalendarPeriod? {
        guard kpi >= 0, kpi < runtimes.count else { return nil }
        let group = groups[runtimes[kpi].group]
        return group.kind == .calendar ? group.calendar.period : nil
    }
}
