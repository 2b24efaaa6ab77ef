import Foundation

/// The calendar window (`today`, `week`, `month`) of one KPI, for every series: the
/// current period's bounds and one accumulator per series.
///
/// The bounds (`CalendarPeriod`) are computed with Foundation's `Calendar` when the
/// window is created and again only when `now` reaches the period's end, never per
/// sample. A sample whose event time is before the period's start is late for this
/// window; a sample in the future (after `now`, even after the period's end) counts
/// in the current period. At rollover every accumulator restarts and every sketch is
/// cleared, keeping its bins. `rate` divides by the time elapsed since the period's
/// start (at least one second, so the first instants of a period give no huge rate).
///
/// Memory per series: 80 bytes, plus one sketch (160 bytes and its bins) for quantile
/// KPIs. Owned by the engine thread.
struct CalendarWindow: Sendable {
    let spec: WindowSpec
    let calendar: Calendar
    /// Whether series keep a sketch (quantile KPIs).
    let withSketches: Bool
    /// The current period.
    private(set) var period: CalendarPeriod
    /// Statistics of the current period, per series.
    private(set) var totals: [WindowAccumulator] = []
    /// Sketch of the current period, per series; empty unless `withSketches`.
    private(set) var sketches: [QuantileSketch] = []

    /// A window of kind `spec` in `calendar`'s zone, starting in the period of `now`.
    init(spec: WindowSpec, calendar: Calendar, withSketches: Bool, now: Int64) {
        self.spec = spec
        self.calendar = calendar
        self.withSketches = withSketches
        period =
            CalendarPeriod.containing(now, window: spec, calendar: calendar) ?? CalendarPeriod(start: .min, end: .max)
    }

    /// Adds the empty accumulator of a new series (allocates).
    mutating func addSeries() {
        totals.append(WindowAccumulator())
        if withSketches { sketches.append(QuantileSketch()) }
    }

    /// True when a sample at event time `timestamp` is before the current period.
    @inline(__always)
    func isLate(_ timestamp: Int64) -> Bool { timestamp < period.start }

    /// Adds a value of `series` at event time `timestamp`.
    @inline(__always)
    mutating func add(series: Int, _ value: Double, at timestamp: Int64, hit: Bool) {
        totals[series].add(value, at: timestamp, hit: hit)
        if withSketches { sketches[series].add(value) }
    }

    /// Adds a ratio numerator value of `series`.
    @inline(__always)
    mutating func addNumerator(series: Int, _ value: Double) {
        totals[series].addNumerator(value)
    }

    /// Adds a ratio denominator value of `series`.
    @inline(__always)
    mutating func addDenominator(series: Int, _ value: Double) {
        totals[series].addDenominator(value)
    }

    /// When `now` reached the period's end: starts the period containing `now`,
    /// resets every series and returns those that had samples (their value changed);
    /// `nil` when `now` is still inside the period. O(1), or O(series) once per period.
    @inline(__always)
    mutating func rollOver(now: Int64) -> [Int]? {
        guard now >= period.end else { return nil }
        if let next = CalendarPeriod.containing(now, window: spec, calendar: calendar) {
            period = next
        }
        var changed: [Int] = []
        for s in 0..<totals.count where !totals[s].isEmpty {
            totals[s] = WindowAccumulator()
            if withSketches { sketches[s].clear() }
            changed.append(s)
        }
        return changed
    }
}
