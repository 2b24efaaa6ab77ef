/// The calendar window (`today`, `week`, `month`) of one window group, for every
/// series: the current period's bounds and one accumulator per series.
///
/// The bounds (`CalendarPeriod`) are computed with Foundation's `Calendar` when the
/// window is created and again only when `now` reaches the period's end, never per
/// sample; the engine does that (`rollOver(to:changed:)` takes the next period). A
/// sample whose event time is before the period's start is late for this window; a
/// sample in the future (after `now`, even after the period's end) counts in the current
/// period. At rollover every accumulator restarts and every sketch is cleared, keeping
/// its bins. `rate` divides by the time elapsed since the period's start (at least one
/// second, so the first instants of a period give no huge rate).
///
/// Memory per series: 80 bytes, plus one sketch (160 bytes and its bins) for quantile
/// KPIs, in `UnmanagedArray`s the owner frees with `deallocate()`. Owned by the engine
/// thread.
struct CalendarWindow {
    /// Whether series keep a sketch (quantile KPIs).
    let withSketches: Bool
    /// The current period.
    private(set) var period: CalendarPeriod
    /// Statistics of the current period, per series.
    private(set) var totals: UnmanagedArray<AggregateAccumulator>
    /// Sketch of the current period, per series; empty unless `withSketches`.
    private(set) var sketches: UnmanagedArray<QuantileSketch>

    /// A window whose current period is `period`.
    init(period: CalendarPeriod, withSketches: Bool) {
        self.withSketches = withSketches
        self.period = period
        totals = UnmanagedArray()
        sketches = UnmanagedArray()
    }

    /// Frees the storage (once, by the owner).
    func deallocate() {
        totals.deallocate()
        sketches.deallocate()
    }

    /// Adds the empty accumulator of a new series (allocates now and then).
    mutating func addSeries() {
        totals.append(AggregateAccumulator())
        if withSketches { sketches.append(QuantileSketch()) }
    }

    /// True when a sample at event time `timestamp` is before the current period.
    @inline(__always)
    func isLate(_ timestamp: Int64) -> Bool { timestamp < period.start }

    /// Adds a value of `series` at event time `timestamp`.
    @inline(__always)
    func add(series: Int, _ value: Double, at timestamp: Int64, hit: Bool) {
        totals[series].add(value, at: timestamp, hit: hit)
        if withSketches { sketches[series].add(value) }
    }

    /// Adds a ratio numerator value of `series`.
    @inline(__always)
    func addNumerator(series: Int, _ value: Double) {
        totals[series].addNumerator(value)
    }

    /// Adds a ratio denominator value of `series`.
    @inline(__always)
    func addDenominator(series: Int, _ value: Double) {
        totals[series].addDenominator(value)
    }

    /// Appends the sketch of `series` (`withSketches` only) with
    /// `QuantileSketch.encode(into:)`, without copying it.
    func encodeSketch(series: Int, into writer: inout BinaryWriter) {
        sketches[series].encode(into: &writer)
    }

    /// Sets the current period's statistics of `series` (a series held), and its sketch
    /// when the window keeps sketches, from a checkpoint.
    func restore(series: Int, total: AggregateAccumulator, sketch: QuantileSketch?) {
        totals[series] = total
        guard withSketches else { return }
        if let sketch { sketches[series] = sketch } else { sketches[series].clear() }
    }

    /// Starts period `next`: resets every series and calls `changed` with each one that
    /// had samples (its value changed). O(series), once per period.
    mutating func rollOver(to next: CalendarPeriod, changed: (Int) -> Void) {
        period = next
        for s in 0..<totals.count where !totals[s].isEmpty {
            totals[s] = AggregateAccumulator()
            if withSketches { sketches[s].clear() }
            changed(s)
        }
    }
}
