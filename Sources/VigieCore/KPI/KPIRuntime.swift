import Foundation

/// The live state of one KPI inside `KPIEngine`: its series table, one window per
/// series, publish bookkeeping and counters.
///
/// Per-series state lives in parallel arrays indexed by series number, so the hot
/// path touches no reference-counted object of its own and allocates only when a
/// series is created. Owned by the engine thread.
struct KPIRuntime {
    /// How the KPI's window is kept.
    enum Kind {
        case sliding
        case calendar
    }

    let definition: KPIDefinition
    let kind: Kind
    let needsSketch: Bool
    /// `share`: whether a value counts as a hit, precomputed.
    let isShare: Bool
    let shareThreshold: Double
    let shareBelow: Bool
    let isCalendarRate: Bool
    let minSamples: Int
    let windowLabel: String
    let aggregateName: String

    /// Sliding window of every series (sliding KPIs; empty geometry otherwise).
    private(set) var sliding: SlidingWindow
    /// Calendar window of every series (calendar KPIs).
    private(set) var calendar: CalendarWindow
    /// Last bucket epoch `advance` saw (sliding windows).
    private var advancedEpoch: Int64
    /// Engine time of the last time-driven change mark for calendar `rate`.
    private var rateMarkedAt: Int64

    /// `now` of the last sliding application and its bucket epoch and slot (saves
    /// two divisions per sample).
    private var cachedNow: Int64 = .min
    private var cachedNowEpoch: Int64 = 0
    private var cachedNowSlot: Int = 0

    /// Publish bookkeeping of one series.
    private struct SeriesState {
        /// Latest event time applied, `Int64.min` when none.
        var lastSampleAt: Int64 = .min
        /// Engine time of the last publish, `Int64.min` when never.
        var publishedAt: Int64 = .min
        /// Changed since the last publish.
        var dirty = false
    }

    private(set) var series: SeriesTable
    /// Per series, by series number.
    private var seriesState: [SeriesState] = []
    /// The dirty series, in the order they became dirty.
    private var dirtyList: [Int32] = []

    private(set) var counters: KPICounters

    init(definition: KPIDefinition, calendar: Calendar, now: Int64) {
        self.definition = definition
        needsSketch = definition.aggregate.needsSketch
        if case .share(let threshold, let below) = definition.aggregate {
            isShare = true
            shareThreshold = threshold
            shareBelow = below
        } else {
            isShare = false
            shareThreshold = 0
            shareBelow = true
        }
        minSamples = Swift.max(0, definition.minSamples)
        windowLabel = definition.window.label
        aggregateName = definition.aggregate.name
        series = SeriesTable(groupBy: definition.groupBy, limit: definition.maxSeries)
        counters = KPICounters(kpi: definition.name)
        rateMarkedAt = now
        let geometry: SlidingWindow.Geometry
        if case .sliding(let ns) = definition.window {
            kind = .sliding
            geometry = SlidingWindow.Geometry(window: ns, buckets: definition.buckets, lateness: definition.lateness)
        } else {
            kind = .calendar
            geometry = SlidingWindow.Geometry(window: 1, buckets: 1, lateness: nil)
        }
        if case .rate = definition.aggregate, kind == .calendar {
            isCalendarRate = true
        } else {
            isCalendarRate = false
        }
        advancedEpoch = geometry.epoch(of: now)
        sliding = SlidingWindow(
            geometry: geometry,
            withSketches: needsSketch && kind == .sliding,
            maxSeries: kind == .sliding ? definition.maxSeries : 1
        )
        self.calendar = CalendarWindow(
            spec: definition.window,
            calendar: calendar,
            withSketches: needsSketch && kind == .calendar,
            now: now
        )
    }

    /// The current calendar period (calendar KPIs).
    var period: CalendarPeriod { calendar.period }

    // MARK: Hot path

    /// Applies one selected field value. Returns 1 when applied, 0 when ignored,
    /// late or over the series cap (each counted).
    @inline(__always)
    mutating func apply(
        _ field: FieldValue,
        role: SelectorRole,
        tags: UnsafeBufferPointer<ParsedTag>,
        timestamp: Int64,
        now: Int64
    ) -> Int {
        guard let v = field.numericValue else {
            counters.nonNumeric &+= 1
            return 0
        }
        guard v.isFinite else {
            counters.nonFinite &+= 1
            return 0
        }
        let hit = isShare && (shareBelow ? v < shareThreshold : v > shareThreshold)
        let s: Int
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
                return 0
            }
            guard let found = seriesNumber(tags: tags) else { return 0 }
            s = found
            let slot = epoch == nowEpoch ? cachedNowSlot : geometry.slot(of: epoch)
            let placed: Bool
            switch role {
            case .value: placed = sliding.add(series: s, v, at: timestamp, hit: hit, epoch: epoch, slot: slot)
            case .numerator: placed = sliding.addNumerator(series: s, v, epoch: epoch, slot: slot)
            case .denominator: placed = sliding.addDenominator(series: s, v, epoch: epoch, slot: slot)
            }
            guard placed else {
                counters.late &+= 1
                return 0
            }
        case .calendar:
            if now >= calendar.period.end { rollOver(now: now) }
            guard !calendar.isLate(timestamp) else {
                counters.late &+= 1
                return 0
            }
            guard let found = seriesNumber(tags: tags) else { return 0 }
            s = found
            switch role {
            case .value: calendar.add(series: s, v, at: timestamp, hit: hit)
            case .numerator: calendar.addNumerator(series: s, v)
            case .denominator: calendar.addDenominator(series: s, v)
            }
        }
        if timestamp > seriesState[s].lastSampleAt { seriesState[s].lastSampleAt = timestamp }
        markDirty(s)
        counters.applied &+= 1
        return 1
    }

    /// The series of `tags`, created (with its window) if new; `nil` over the cap.
    @inline(__always)
    private mutating func seriesNumber(tags: UnsafeBufferPointer<ParsedTag>) -> Int? {
        switch series.lookup(tags: tags) {
        case .found(let s):
            return s
        case .created(let s):
            switch kind {
            case .sliding: sliding.addSeries()
            case .calendar: calendar.addSeries()
            }
            seriesState.append(SeriesState())
            counters.series = series.count
            return s
        case .overflow:
            counters.seriesOverflow &+= 1
            return nil
        }
    }

    @inline(__always)
    private mutating func markDirty(_ s: Int) {
        if !seriesState[s].dirty {
            seriesState[s].dirty = true
            dirtyList.append(Int32(truncatingIfNeeded: s))
        }
    }

    // MARK: Time

    /// Starts the calendar period containing `now`; the series that had samples are
    /// marked changed. O(series), once per period.
    private mutating func rollOver(now: Int64) {
        if let changed = calendar.rollOver(now: now) {
            for s in changed { markDirty(s) }
            rateMarkedAt = now
        }
    }

    /// Moves the KPI's time to `now`: rolls the calendar period when `now` reached its
    /// end; marks as changed the series whose value moved with time alone (samples
    /// that left a sliding window; calendar `rate`, at most once per second).
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
                for s in 0..<series.count
                where sliding.lostSamples(series: s, slot: slot, goneBefore: goneBefore, goneNow: goneNow) {
                    markDirty(s)
                }
            }
            advancedEpoch = epoch
        case .calendar:
            if now >= calendar.period.end {
                rollOver(now: now)
            } else if isCalendarRate, now - rateMarkedAt >= 1_000_000_000 {
                for s in 0..<series.count where !calendar.totals[s].isEmpty { markDirty(s) }
                rateMarkedAt = now
            }
        }
    }

    // MARK: Reading

    /// The current value of series `s` at `now`. Uses `scratch` to merge bucket
    /// sketches (cleared first; keeps its bins). O(buckets + bins).
    func value(series s: Int, now: Int64, scratch: inout QuantileSketch) -> KPIValue {
        var total = WindowAccumulator()
        let computed: Double?
        switch kind {
        case .sliding:
            let geometry = sliding.geometry
            if needsSketch { scratch.clear() }
            sliding.read(series: s, nowEpoch: geometry.epoch(of: now), into: &total, sketch: &scratch)
            computed = total.value(
                of: definition.aggregate,
                sketch: needsSketch ? scratch : nil,
                rateSeconds: Double(geometry.window) / 1e9
            )
        case .calendar:
            total = calendar.totals[s]
            let elapsed = Swift.max(1_000_000_000, now - calendar.period.start)
            computed = total.value(
                of: definition.aggregate,
                sketch: needsSketch ? calendar.sketches[s] : nil,
                rateSeconds: Double(elapsed) / 1e9
            )
        }
        let value = total.count >= minSamples ? computed : nil
        let last = seriesState[s].lastSampleAt
        return KPIValue(
            kpi: definition.name,
            title: definition.title,
            group: series.groups[s],
            value: value,
            unit: definition.unit,
            window: windowLabel,
            samples: total.count,
            target: definition.target,
            status: KPIStatus.of(value: value, target: definition.target, direction: definition.direction),
            direction: definition.direction,
            aggregate: aggregateName,
            ts: now,
            lastSampleAt: last == .min ? nil : last
        )
    }

    /// Appends the value of every series at `now`, in creation order.
    func snapshot(now: Int64, scratch: inout QuantileSketch, into out: inout [KPIValue]) {
        for s in 0..<series.count {
            out.append(value(series: s, now: now, scratch: &scratch))
        }
    }

    /// Appends the changed series last published at least `interval` ago (or never),
    /// and marks them published at `now`. O(changed series).
    mutating func takeDue(now: Int64, interval: Int64, scratch: inout QuantileSketch, into out: inout [KPIValue]) {
        var kept = 0
        for i in 0..<dirtyList.count {
            let s = Int(dirtyList[i])
            let published = seriesState[s].publishedAt
            let (since, overflow) = now.subtractingReportingOverflow(published)
            if published == .min || overflow || since >= interval {
                out.append(value(series: s, now: now, scratch: &scratch))
                seriesState[s].publishedAt = now
                seriesState[s].dirty = false
            } else {
                dirtyList[kept] = dirtyList[i]
                kept += 1
            }
        }
        dirtyList.removeLast(dirtyList.count - kept)
    }
}
