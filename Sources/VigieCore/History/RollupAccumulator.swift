/// Folds accepted lines into per-minute rollups of every KPI series, for the history
/// store: a line feeds a KPI exactly as it feeds the engine (the same `SelectorIndex`
/// plan), without lateness. Non-copyable, owned by the history thread. Series cap,
/// cost and memory: docs/architecture.md, "History rollups".
public struct RollupAccumulator: ~Copyable {
    /// The KPI definitions, in the order given to `init`.
    public let kpis: [KPIDefinition]
    /// When set, a line it rejects (given its line number, timestamp and receive
    /// time) is skipped and counted in `rejectedLines`, so that history judges a
    /// replayed line as ingest did.
    public let policy: IngestPolicy?

    /// One admitted series of one KPI.
    private struct Series {
        /// Its series number in the KPI's series space.
        let spaceSeries: Int32
        /// Index in the pending arrays of its rollup for `minute`, −1 when it has no
        /// pending rollup.
        var pending: Int32
        /// The minute of its last pending rollup used.
        var minute: Int64
    }

    /// Per-KPI state (plain values and `UnmanagedArray`s).
    private struct KPIState {
        /// Index of its series space.
        let space: Int
        /// `max_series` (at least 0).
        let maxSeries: Int
        /// Whether its rollups keep a quantile sketch.
        let sketched: Bool
        /// `share` threshold and side, when the aggregate is `share`.
        let hasShare: Bool
        let threshold: Double
        let below: Bool
        /// Samples dropped over the cap.
        var overflow = 0
        /// Per space series (as far as this KPI has seen): its KPI series, −1 when not
        /// admitted.
        var local: UnmanagedArray<Int32>
        /// Per KPI series, in order of admission.
        var series: UnmanagedArray<Series>

        func deallocate() {
            local.deallocate()
            series.deallocate()
        }
    }

    /// Finds what each line's values feed (one feed per KPI selector, target = KPI
    /// index) and their series; the series spaces hold each series' group tags (for
    /// `drain`).
    private let router: SampleRouter
    /// Per KPI, in `kpis` order.
    private var states: UnmanagedArray<KPIState>
    /// Rollups waiting for `drain()` (one, behind a pointer the line's sink holds:
    /// no reference counting or exclusivity check per value).
    private let pending: UnsafeMutablePointer<PendingRollups>

    /// Lines skipped because `policy` rejects them.
    public private(set) var rejectedLines = 0
    /// Values folded into a rollup (a ratio line feeding both sides counts twice).
    public private(set) var appliedSamples = 0

    /// An accumulator for `kpis` (as validated by `VigieConfig`), judging lines with
    /// `policy` when one is given.
    public init(kpis: [KPIDefinition], policy: IngestPolicy? = nil) {
        self.kpis = kpis
        self.policy = policy
        var layout = SeriesSpaces.Layout()
        var sources: [FeedSource] = []
        var states = UnmanagedArray<KPIState>(capacity: kpis.count)
        for (k, kpi) in kpis.enumerated() {
            let space = layout.space(for: kpi.groupBy)
            func feed(_ selector: SampleSelector, _ role: SelectorRole) {
                sources.append(FeedSource(group: k, selector: selector, role: role, groupBy: kpi.groupBy, space: space))
            }
            if kpi.aggregate == .ratio {
                feed(kpi.selector, .numerator)
                if let denominator = kpi.denominator { feed(denominator, .denominator) }
            } else {
                feed(kpi.selector, .value)
            }
            var share: (threshold: Double, below: Bool)?
            if case .share(let threshold, let below) = kpi.aggregate { share = (threshold, below) }
            states.append(
                KPIState(
                    space: space,
                    maxSeries: Swift.max(0, Swift.min(kpi.maxSeries, Int(Int32.max))),
                    sketched: kpi.aggregate.needsSketch,
                    hasShare: share != nil,
                    threshold: share?.threshold ?? 0,
                    below: share?.below ?? false,
                    local: UnmanagedArray(),
                    series: UnmanagedArray()
                )
            )
        }
        self.router = SampleRouter(sources: sources, layout: layout)
        self.states = states
        self.pending = .allocate(capacity: 1)
        self.pending.initialize(to: PendingRollups())
    }

    deinit {
        for k in 0..<states.count { states[k].deallocate() }
        states.deallocate()
        pending.pointee.deallocate()
        pending.deinitialize(count: 1)
        pending.deallocate()
    }

    /// Per KPI (in `kpis` order): samples dropped because their series would exceed
    /// the KPI's `max_series`. Monotonic over the accumulator's life. Allocates.
    public var seriesOverflow: [Int] {
        (0..<states.count).map { states[$0].overflow }
    }

    /// Number of (KPI, series, minute) rollups waiting for `drain()`.
    public var pendingCount: Int { pending.pointee.keys.count }

    /// Number of series KPI number `kpi` (an index into `kpis`) has admitted; 0 for an
    /// index out of range.
    public func seriesCount(ofKPI kpi: Int) -> Int {
        kpi >= 0 && kpi < states.count ? states[kpi].series.count : 0
    }

    /// Folds every value of `line` that some KPI selects into its series' minute.
    /// `receivedAt` (ns) is the batch's receive time: the sample time of a line
    /// without a timestamp, and what `policy` judges the line against.
    ///
    /// Returns how many values were folded (see `appliedSamples`).
    @discardableResult
    public mutating func add(_ line: ParsedLine, receivedAt: Int64) -> Int {
        if let policy,
            policy.rejection(lineNumber: line.lineNumber, timestamp: line.timestamp, receivedAt: receivedAt) != nil
        {
            rejectedLines &+= 1
            return 0
        }
        let time = line.timestamp ?? receivedAt
        var sink = Sink(
            states: states.base,
            pending: pending,
            time: time,
            minute: HistoryResolution.minute.start(of: time)
        )
        let applied = router.route(line, into: &sink) ?? 0
        appliedSamples &+= applied
        return applied
    }

    /// Admits space series `g` (not yet admitted, under the cap) into the KPI `state`
    /// points to; returns its KPI series number. Allocates now and then.
    @inline(never)
    private static func admit(spaceSeries g: Int, into state: UnsafeMutablePointer<KPIState>) -> Int {
        let s = state.pointee.series.count
        while state.pointee.local.count <= g { state.pointee.local.append(-1) }
        state.pointee.local[g] = Int32(truncatingIfNeeded: s)
        state.pointee.series.append(Series(spaceSeries: Int32(truncatingIfNeeded: g), pending: -1, minute: 0))
        return s
    }

    /// Every pending rollup, KPI by KPI in `kpis` order, each KPI's series in the
    /// order they were admitted, each series' minutes in increasing order; then
    /// forgets them (keeping their storage). Admitted series stay admitted.
    ///
    /// O(pending × log pending + pending table size); allocates the result.
    public mutating func drain() -> [KPIRollup] {
        let keys = pending.pointee.keys
        let order = (0..<keys.count).sorted { a, b in
            let x = keys[a]
            let y = keys[b]
            return (x.kpi, x.series, x.minute) < (y.kpi, y.series, y.minute)
        }
        var out: [KPIRollup] = []
        out.reserveCapacity(order.count)
        for p in order {
            let key = keys[p]
            let k = Int(key.kpi)
            let state = states[k]
            let g = Int(state.series[Int(key.series)].spaceSeries)
            out.append(
                KPIRollup(
                    kpi: kpis[k].name,
                    group: router.spaces.names[state.space][g],
                    minute: key.minute,
                    stats: pending.pointee.stats[p]
                )
            )
        }
        for p in 0..<keys.count {
            states[Int(keys[p].kpi)].series[Int(keys[p].series)].pending = -1
        }
        pending.pointee.removeAll()
        return out
    }
}

extension RollupAccumulator {
    /// The KPIs' rollups as ``SampleRouter`` feeds them for one line (target = KPI
    /// index): every value is taken, in the line's minute, up to each KPI's series cap.
    private struct Sink: SampleSink {
        let states: UnsafeMutablePointer<KPIState>
        let pending: UnsafeMutablePointer<PendingRollups>
        /// The line's event time and its minute.
        let time: Int64
        let minute: Int64

        func skipNonNumeric(target: Int) {}
        func skipNonFinite(target: Int) {}
        func accepts(target: Int) -> Bool { true }

        @inline(__always)
        func series(target: Int, spaceSeries: Int) -> Int {
            let state = states + target
            return spaceSeries < state.pointee.local.count ? Int(state.pointee.local[spaceSeries]) : -1
        }

        @inline(__always)
        func makeRoom(target: Int) -> Bool {
            let state = states + target
            guard state.pointee.series.count < state.pointee.maxSeries else {
                state.pointee.overflow &+= 1
                return false
            }
            return true
        }

        func countSpaceFull(target: Int) { states[target].overflow &+= 1 }

        func admit(target: Int, spaceSeries: Int) -> Int {
            RollupAccumulator.admit(spaceSeries: spaceSeries, into: states + target)
        }

        /// Folds the value into the series' pending minute (most values hit its last one).
        @inline(__always)
        func record(target: Int, series s: Int, value: Double, role: SelectorRole) -> Int {
            let state = states + target
            let series = state.pointee.series.base + s
            let p: Int
            if series.pointee.pending >= 0, series.pointee.minute == minute {
                p = Int(series.pointee.pending)
            } else {
                p = pending.pointee.index(
                    kpi: target,
                    series: s,
                    minute: minute,
                    hasPending: series.pointee.pending >= 0,
                    sketched: state.pointee.sketched
                )
                series.pointee.pending = Int32(truncatingIfNeeded: p)
                series.pointee.minute = minute
            }
            let stats = pending.pointee.stats.base + p
            switch role {
            case .value:
                var hit = false
                if state.pointee.hasShare {
                    let threshold = state.pointee.threshold
                    hit = state.pointee.below ? value < threshold : value > threshold
                }
                stats.pointee.add(value, at: time, hit: hit)
            case .numerator: stats.pointee.addNumerator(value)
            case .denominator: stats.pointee.addDenominator(value)
            }
            return 1
        }
    }
}

/// The rollups waiting for ``RollupAccumulator/drain()``: each (KPI, series, minute)
/// once, in order of creation, found through an open-addressing table (power-of-two
/// size, load ≤ ½) for minutes other than a series' last one.
private struct PendingRollups {
    /// A pending rollup's identity.
    struct Key: Equatable {
        let kpi: Int32
        /// KPI series number.
        let series: Int32
        let minute: Int64
    }

    private(set) var keys = UnmanagedArray<Key>(capacity: 64)
    private(set) var stats = UnmanagedArray<MinuteRollup>(capacity: 64)
    /// Pending index per slot, −1 when empty.
    private var slots = UnmanagedArray<Int32>(repeating: -1, count: 128)

    /// Frees the storage (the owner calls it once).
    func deallocate() {
        keys.deallocate()
        stats.deallocate()
        slots.deallocate()
    }

    /// The pending rollup of KPI `k`'s series `s` for `minute`, created when absent
    /// (`hasPending` false: the series has none at all, no need to look). Allocates
    /// only when the storage grows (and for a new sketch's bins).
    @inline(never)
    mutating func index(kpi k: Int, series s: Int, minute: Int64, hasPending: Bool, sketched: Bool) -> Int {
        let key = Key(kpi: Int32(truncatingIfNeeded: k), series: Int32(truncatingIfNeeded: s), minute: minute)
        let mask = slots.count - 1
        var i = Self.home(of: key, mask: mask)
        while true {
            let p = Int(slots[i])
            if p < 0 { break }
            if hasPending, keys[p] == key { return p }
            i = (i + 1) & mask
        }
        let p = keys.count
        keys.append(key)
        stats.append(MinuteRollup(withSketch: sketched))
        slots[i] = Int32(truncatingIfNeeded: p)
        if keys.count * 2 > slots.count { grow() }
        return p
    }

    /// Forgets every pending rollup, keeping the storage.
    mutating func removeAll() {
        for i in 0..<slots.count { slots[i] = -1 }
        keys.removeAll()
        stats.removeAll()
    }

    /// Slot of `key` in a table of `mask + 1` slots, where its probe starts.
    @inline(__always)
    private static func home(of key: Key, mask: Int) -> Int {
        var x =
            UInt64(bitPattern: key.minute)
            ^ (UInt64(UInt32(bitPattern: key.kpi)) << 32 | UInt64(UInt32(bitPattern: key.series)))
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return Int(truncatingIfNeeded: x) & mask
    }

    /// Doubles the table and re-inserts every pending rollup.
    private mutating func grow() {
        let next = UnmanagedArray<Int32>(repeating: -1, count: slots.count * 2)
        let mask = next.count - 1
        for p in 0..<keys.count {
            var i = Self.home(of: keys[p], mask: mask)
            while next[i] >= 0 { i = (i + 1) & mask }
            next[i] = Int32(truncatingIfNeeded: p)
        }
        slots.deallocate()
        slots = next
    }
}
