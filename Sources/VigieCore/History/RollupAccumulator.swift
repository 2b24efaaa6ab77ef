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

    /// A pending rollup's identity.
    private struct PendingKey: Equatable {
        let kpi: Int32
        /// KPI series number.
        let series: Int32
        let minute: Int64
    }

    /// Finds what each line's values feed (one feed per KPI selector, target = KPI
    /// index) and their series; the series spaces hold each series' group tags (for
    /// `drain`).
    private let router: SampleRouter
    /// Per KPI, in `kpis` order.
    private var states: UnmanagedArray<KPIState>
    /// The event time and minute of the line being added.
    private var lineTime: Int64 = 0
    private var lineMinute: Int64 = 0
    /// Pending rollups: identity and statistics, in order of creation.
    private var pendingKeys: UnmanagedArray<PendingKey>
    private var pendingStats: UnmanagedArray<MinuteRollup>
    /// Pending index per slot, −1 when empty: an open-addressing table over
    /// `pendingKeys` (power-of-two size, load ≤ ½), for minutes other than a series'
    /// last one.
    private var pendingSlots: UnmanagedArray<Int32>

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
        self.pendingKeys = UnmanagedArray(capacity: 64)
        self.pendingStats = UnmanagedArray(capacity: 64)
        self.pendingSlots = UnmanagedArray(repeating: -1, count: 128)
    }

    deinit {
        for k in 0..<states.count { states[k].deallocate() }
        states.deallocate()
        pendingKeys.deallocate()
        pendingStats.deallocate()
        pendingSlots.deallocate()
    }

    /// Per KPI (in `kpis` order): samples dropped because their series would exceed
    /// the KPI's `max_series`. Monotonic over the accumulator's life. Allocates.
    public var seriesOverflow: [Int] {
        (0..<states.count).map { states[$0].overflow }
    }

    /// Number of (KPI, series, minute) rollups waiting for `drain()`.
    public var pendingCount: Int { pendingKeys.count }

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
        lineTime = line.timestamp ?? receivedAt
        lineMinute = HistoryResolution.minute.start(of: lineTime)
        let applied = router.route(line, into: &self) ?? 0
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

    /// Slot of `key` in a pending table of `mask + 1` slots, where its probe starts.
    @inline(__always)
    private static func home(of key: PendingKey, mask: Int) -> Int {
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

    /// The pending rollup of KPI `k`'s series `s` for `minute`, created when absent
    /// (`hasPending` false: the series has none at all, no need to look). Allocates
    /// only when the pending storage grows (and for a new sketch's bins).
    @inline(never)
    private mutating func pending(kpi k: Int, series s: Int, minute: Int64, hasPending: Bool) -> Int {
        let key = PendingKey(kpi: Int32(truncatingIfNeeded: k), series: Int32(truncatingIfNeeded: s), minute: minute)
        let mask = pendingSlots.count - 1
        var i = Self.home(of: key, mask: mask)
        while true {
            let p = Int(pendingSlots[i])
            if p < 0 { break }
            if hasPending, pendingKeys[p] == key { return p }
            i = (i + 1) & mask
        }
        let p = pendingKeys.count
        pendingKeys.append(key)
        pendingStats.append(MinuteRollup(withSketch: states[k].sketched))
        pendingSlots[i] = Int32(truncatingIfNeeded: p)
        if pendingKeys.count * 2 > pendingSlots.count { growPending() }
        return p
    }

    /// Doubles the pending table and re-inserts every pending rollup.
    private mutating func growPending() {
        let slots = UnmanagedArray<Int32>(repeating: -1, count: pendingSlots.count * 2)
        let mask = slots.count - 1
        for p in 0..<pendingKeys.count {
            var i = Self.home(of: pendingKeys[p], mask: mask)
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(truncatingIfNeeded: p)
        }
        pendingSlots.deallocate()
        pendingSlots = slots
    }

    /// Every pending rollup, KPI by KPI in `kpis` order, each KPI's series in the
    /// order they were admitted, each series' minutes in increasing order; then
    /// forgets them (keeping their storage). Admitted series stay admitted.
    ///
    /// O(pending × log pending + pending table size); allocates the result.
    public mutating func drain() -> [KPIRollup] {
        let keys = pendingKeys
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
                    stats: pendingStats[p]
                )
            )
        }
        for p in 0..<keys.count {
            states[Int(keys[p].kpi)].series[Int(keys[p].series)].pending = -1
        }
        for i in 0..<pendingSlots.count { pendingSlots[i] = -1 }
        pendingKeys.removeAll()
        pendingStats.removeAll()
        return out
    }
}

/// The KPIs' rollups as ``SampleRouter`` feeds them (target = KPI index): every value
/// is taken, in the line's minute, up to each KPI's series cap.
extension RollupAccumulator: SampleSink {
    func skipNonNumeric(target: Int) {}
    func skipNonFinite(target: Int) {}
    func accepts(target: Int) -> Bool { true }

    @inline(__always)
    func series(target: Int, spaceSeries: Int) -> Int {
        let state = states.base + target
        return spaceSeries < state.pointee.local.count ? Int(state.pointee.local[spaceSeries]) : -1
    }

    @inline(__always)
    func makeRoom(target: Int) -> Bool {
        let state = states.base + target
        guard state.pointee.series.count < state.pointee.maxSeries else {
            state.pointee.overflow &+= 1
            return false
        }
        return true
    }

    func countSpaceFull(target: Int) { states[target].overflow &+= 1 }

    func admit(target: Int, spaceSeries: Int) -> Int {
        Self.admit(spaceSeries: spaceSeries, into: states.base + target)
    }

    /// Folds the value into the series' pending minute (most values hit its last one).
    @inline(__always)
    mutating func record(target: Int, series s: Int, value: Double, role: SelectorRole) -> Int {
        let state = states.base + target
        let series = state.pointee.series.base + s
        let p: Int
        if series.pointee.pending >= 0, series.pointee.minute == lineMinute {
            p = Int(series.pointee.pending)
        } else {
            p = pending(kpi: target, series: s, minute: lineMinute, hasPending: series.pointee.pending >= 0)
            series.pointee.pending = Int32(truncatingIfNeeded: p)
            series.pointee.minute = lineMinute
        }
        let stats = pendingStats.base + p
        switch role {
        case .value:
            var hit = false
            if state.pointee.hasShare {
                let threshold = state.pointee.threshold
                hit = state.pointee.below ? value < threshold : value > threshold
            }
            stats.pointee.add(value, at: lineTime, hit: hit)
        case .numerator: stats.pointee.addNumerator(value)
        case .denominator: stats.pointee.addDenominator(value)
        }
        return 1
    }
}
