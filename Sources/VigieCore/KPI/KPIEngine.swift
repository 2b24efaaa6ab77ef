import Foundation

/// The KPI engine: folds parsed samples into every KPI's rolling windows and reports
/// current values.
///
/// **Thread ownership.** One engine thread owns an engine and calls every method;
/// there are no locks (the type is deliberately not `Sendable`). Time is a parameter:
/// the engine never reads a clock.
///
/// **Hot path.** `apply` looks the line's measurement up in a hash table of selectors,
/// checks field and `where` filters by byte comparison, finds the series by hashing
/// the `group_by` tag values, and updates one bucket: O(1) per (sample, KPI) plus
/// linear scans of the line's few tags and fields. It creates no `String` and
/// allocates nothing once the series exist, except while a bucket's sketch grows to
/// the spread of its data the first times the bucket is used (storage is kept when
/// buckets are reused).
///
/// **Memory.** Bounded by Σ over KPIs of `maxSeries × buckets` accumulators (88 bytes
/// each; a calendar KPI has one, 80 bytes, per series), plus, for quantile KPIs, one
/// sketch per bucket: 160 bytes and its bins — up to 32 sparse entries (16 bytes
/// each) for a bucket with few distinct values, else 8 bytes per bin over the spread
/// of its values, at most 2 × 2,048 bins (≈ 33 KiB). Plus per series its key bytes,
/// its group's strings and about 50 bytes of bookkeeping. A 1 h window in 60 buckets
/// costs 5.3 KB per series; the same as a p90 adds 9.6 KB and the bins.
///
/// **Windows.** Sliding windows: see `SlidingWindow` (event-time buckets, late and
/// future samples). Calendar windows (`today`, `week`, `month`) in `timeZone`: see
/// `CalendarPeriod` and `CalendarWindow`. A sample's event time is its timestamp, or
/// `receivedAt` when it has none. `lateness` applies to sliding windows only: a
/// calendar window takes every sample of its current period, however late.
public final class KPIEngine {
    /// The KPI definitions, in the order given to `init`.
    public let kpis: [KPIDefinition]
    /// The zone calendar windows follow.
    public let timeZone: TimeZone

    /// All mutable state, in one stored property so that each call makes a single
    /// exclusivity-checked access.
    private var state: State

    /// An engine for `kpis`, with calendar windows in `timeZone`, starting at `now`
    /// (ns since the epoch).
    ///
    /// Definitions are taken as validated by `VigieConfig`; out-of-range numbers are
    /// clamped (at least one bucket, no negative series cap).
    public init(kpis: [KPIDefinition], timeZone: TimeZone, now: Int64) {
        self.kpis = kpis
        self.timeZone = timeZone
        let calendar = CalendarPeriod.calendar(in: timeZone)
        state = State(
            states: kpis.map { KPIRuntime(definition: $0, calendar: calendar, now: now) },
            index: SelectorIndex(kpis: kpis)
        )
    }

    /// Applies every numeric field of `line` that some KPI selects. `receivedAt` is the
    /// event time when the line has no timestamp.
    ///
    /// Returns how many (KPI, series) applications happened (a ratio KPI whose
    /// numerator and denominator both come from this line counts twice). Late samples,
    /// samples over a KPI's series cap, string fields and non-finite values are counted
    /// in `counters` and not applied.
    ///
    /// O(selectors of the measurement); no allocation once the series exist.
    @discardableResult
    public func apply(_ line: ParsedLine, receivedAt: Int64, now: Int64) -> Int {
        state.apply(line, receivedAt: receivedAt, now: now)
    }

    /// Slides the windows and rolls calendar periods to `now`, marking series whose
    /// values changed with time alone (for `takeDue`).
    ///
    /// Call it about every 100 ms; `snapshot` and `takeDue` call it themselves. Cheap
    /// unless a bucket boundary was crossed (then O(series × buckets) per sliding KPI).
    public func advance(to now: Int64) {
        state.advance(to: now)
    }

    /// The current value of every series of every KPI at `now`, KPIs in definition
    /// order and series in order of creation.
    ///
    /// Allocates; for snapshots and publishing, not the hot path. Does not change
    /// what `takeDue` returns.
    public func snapshot(now: Int64) -> [KPIValue] {
        state.snapshot(now: now)
    }

    /// The series that changed since they were last published (a sample applied, a
    /// bucket expired, a period rolled over) and were last published at least
    /// `interval` ns ago or never (`interval` 0: every change); marks them published
    /// at `now`.
    ///
    /// A series not yet due stays pending and is returned by a later call. O(changed
    /// series); allocates the result.
    public func takeDue(now: Int64, interval: Int64) -> [KPIValue] {
        state.takeDue(now: now, interval: interval)
    }

    /// Counters since creation: totals and per KPI (allocates; not per sample).
    public var counters: EngineCounters {
        var c = EngineCounters()
        c.lines = state.lines
        c.unmatchedLines = state.unmatchedLines
        c.perKPI = state.states.map(\.counters)
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
        guard kpi >= 0, kpi < state.states.count, state.states[kpi].kind == .calendar else { return nil }
        return state.states[kpi].period
    }

    /// The engine's mutable state and its operations.
    private struct State {
        var states: [KPIRuntime]
        let index: SelectorIndex
        var lines = 0
        var unmatchedLines = 0
        /// Scratch sketch for reading sliding quantile windows (keeps its bins).
        var scratch = QuantileSketch()

        init(states: [KPIRuntime], index: SelectorIndex) {
            self.states = states
            self.index = index
        }

        @inline(__always)
        mutating func apply(_ line: ParsedLine, receivedAt: Int64, now: Int64) -> Int {
            lines &+= 1
            return index.bytes.withUnsafeBufferPointer { names in
                guard let e = index.lookup(line.measurement, bytes: names) else {
                    unmatchedLines &+= 1
                    return 0
                }
                let timestamp = line.timestamp ?? receivedAt
                let entry = index.entries[e]
                var applied = 0
                var matched = false
                let first = Int(entry.candidateStart)
                for c in first..<(first + Int(entry.candidateCount)) {
                    let candidate = index.candidates[c]
                    guard let field = index.match(candidate, line, bytes: names) else { continue }
                    matched = true
                    applied &+= states[candidate.kpi].apply(
                        field,
                        role: candidate.role,
                        tags: line.tags,
                        timestamp: timestamp,
                        now: now
                    )
                }
                if !matched { unmatchedLines &+= 1 }
                return applied
            }
        }

        mutating func advance(to now: Int64) {
            for k in 0..<states.count {
                states[k].advance(to: now)
            }
        }

        mutating func snapshot(now: Int64) -> [KPIValue] {
            advance(to: now)
            var out: [KPIValue] = []
            for k in 0..<states.count {
                states[k].snapshot(now: now, scratch: &scratch, into: &out)
            }
            return out
        }

        mutating func takeDue(now: Int64, interval: Int64) -> [KPIValue] {
            advance(to: now)
            var out: [KPIValue] = []
            for k in 0..<states.count {
                states[k].takeDue(now: now, interval: interval, scratch: &scratch, into: &out)
            }
            return out
        }
    }
}
