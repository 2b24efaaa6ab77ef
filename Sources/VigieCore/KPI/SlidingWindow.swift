/// The sliding window of one KPI, for every series: per series a ring of `buckets`
/// buckets, each covering `width = window / buckets` nanoseconds of event time.
///
/// **Placement.** Bucket epochs are `⌊t / width⌋`. A sample with event time `t` at
/// engine time `now` goes to the bucket of epoch `⌊t / width⌋`, in ring slot
/// `epoch mod buckets`; a slot still holding an older epoch is reset first (its
/// accumulator zeroed, its sketch cleared keeping its bins: no allocation). A sample
/// with `t > now` goes to the bucket of `now`: the ring never extends into the future
/// (future timestamps are bounded upstream by `[ingest] max_future`). A sample is
/// *late* — counted, not applied — when its bucket has already left the window
/// (`epoch ≤ epoch(now) − buckets`) or when it is more than `lateness` behind `now`.
///
/// **Reading.** The window at `now` is the union of the buckets whose epochs are in
/// `(epoch(now) − buckets, epoch(now)]`: the current, partial bucket and the
/// `buckets − 1` before it. So a sample counts from its arrival until `now` reaches
/// the end of the bucket `buckets` after its own: between `window − width` and
/// `window` after its event time. That is the sliding resolution (`buckets` = 60
/// gives 1-minute steps on a 1-hour window).
///
/// **Layout.** All rings of a window group live in one `UnmanagedArray`, slot-major
/// (`slot × capacity + series`): the buckets being filled now, one per series, are
/// contiguous, so the hot set is small, and applying a sample touches one bucket, no
/// per-series object and no reference count. Memory per series: `buckets × 88` bytes,
/// plus for quantile KPIs one sketch per bucket (160 bytes and its bins). Room for
/// series grows by doubling (up to `maxSeries`) when a series is created; nothing is
/// allocated per sample after that (a bucket's sketch grows only while the spread of
/// its data grows). The owner frees the storage with `deallocate()`.
///
/// Owned by the engine thread.
struct SlidingWindow {
    /// The shape of a KPI's window.
    struct Geometry: Sendable, Hashable {
        /// Configured window length, ns (what `rate` divides by).
        let window: Int64
        /// Number of buckets in a ring.
        let bucketCount: Int
        /// `bucketCount` as `Int64`.
        let buckets64: Int64
        /// Width of one bucket, ns: `window / buckets` rounded down (at least 1).
        let width: Int64
        /// How far behind `now` a sample may be and still be placed, ns.
        let lateness: Int64

        /// - Parameters:
        ///   - window: window length in ns (at least 1).
        ///   - buckets: number of buckets (clamped into 1…window).
        ///   - lateness: maximum lateness in ns; `nil` means the window length.
        init(window: Int64, buckets: Int, lateness: Int64?) {
            let w = Swift.max(1, window)
            let count = Swift.min(Int64(Swift.max(1, buckets)), w)
            self.window = w
            self.buckets64 = count
            self.bucketCount = Int(count)
            self.width = Swift.max(1, w / count)
            self.lateness = Swift.max(0, lateness ?? w)
        }

        /// `⌊t / width⌋` (floor, also for negative times).
        @inline(__always)
        func epoch(of t: Int64) -> Int64 {
            let q = t / width
            return (t % width < 0) ? q - 1 : q
        }

        /// Ring slot of `epoch`.
        @inline(__always)
        func slot(of epoch: Int64) -> Int {
            let r = epoch % buckets64
            return Int(r < 0 ? r + buckets64 : r)
        }

        /// The epoch of the bucket a sample at `timestamp` goes to at `now`, or `nil`
        /// when it is late. `nowEpoch` is `epoch(of: now)`.
        @inline(__always)
        func placement(timestamp: Int64, now: Int64, nowEpoch: Int64) -> Int64? {
            if timestamp >= now { return nowEpoch }
            let (behind, overflow) = now.subtractingReportingOverflow(timestamp)
            if overflow || behind > lateness { return nil }
            let e = epoch(of: timestamp)
            if e <= nowEpoch &- buckets64 { return nil }
            return e
        }

        /// True when bucket `epoch` is inside the window ending in bucket `nowEpoch`.
        @inline(__always)
        func isLive(_ epoch: Int64, nowEpoch: Int64) -> Bool {
            epoch <= nowEpoch && epoch > nowEpoch &- buckets64
        }
    }

    /// One bucket: its epoch (`Int64.min` when never used) and statistics.
    struct Bucket {
        var epoch: Int64 = .min
        var stats = AggregateAccumulator()
    }

    let geometry: Geometry
    /// Whether buckets keep sketches (quantile KPIs).
    let withSketches: Bool
    /// Most series this window will hold (the group's cap): bounds `capacity`.
    let maxSeries: Int
    /// Series held.
    private(set) var seriesCount = 0
    /// Series the arrays have room for.
    private var capacity = 0
    /// Every ring, slot-major: bucket `slot` of series `s` is at `slot × capacity + s`,
    /// so the buckets being filled now, one per series, are contiguous.
    private var buckets: UnmanagedArray<Bucket>
    /// Sketches, indexed like `buckets`; empty unless `withSketches`.
    private var sketches: UnmanagedArray<QuantileSketch>

    /// A window with no series, for at most `maxSeries` series.
    init(geometry: Geometry, withSketches: Bool, maxSeries: Int) {
        self.geometry = geometry
        self.withSketches = withSketches
        self.maxSeries = Swift.max(1, maxSeries)
        buckets = UnmanagedArray()
        sketches = UnmanagedArray()
    }

    /// Frees the storage (once, by the owner).
    func deallocate() {
        buckets.deallocate()
        sketches.deallocate()
    }

    /// Adds the empty ring of a new series. Allocates (and moves every ring) only
    /// when the capacity doubles.
    mutating func addSeries() {
        if seriesCount == capacity {
            grow(to: Swift.max(seriesCount + 1, Swift.min(Swift.max(16, capacity * 2), maxSeries)))
        }
        seriesCount += 1
    }

    private mutating func grow(to newCapacity: Int) {
        let slots = geometry.bucketCount
        let newBuckets = UnmanagedArray<Bucket>(repeating: Bucket(), count: slots * newCapacity)
        let newSketches =
            withSketches
            ? UnmanagedArray<QuantileSketch>(repeating: QuantileSketch(), count: slots * newCapacity)
            : UnmanagedArray<QuantileSketch>()
        for slot in 0..<slots {
            for s in 0..<seriesCount {
                newBuckets[slot * newCapacity + s] = buckets[slot * capacity + s]
                if withSketches { swap(&newSketches[slot * newCapacity + s], &sketches[slot * capacity + s]) }
            }
        }
        buckets.deallocate()
        sketches.deallocate()
        buckets = newBuckets
        sketches = newSketches
        capacity = newCapacity
    }

    /// The bucket of `series` for `epoch` (whose ring slot is `slot`), reset if it
    /// held an older epoch; `nil` when it holds a newer one (engine time went
    /// backwards: treated as late).
    @inline(__always)
    private func bucket(series: Int, epoch: Int64, slot: Int) -> Int? {
        let b = slot &* capacity &+ series
        let held = buckets[b].epoch
        if held == epoch { return b }
        if held > epoch { return nil }
        buckets[b] = Bucket(epoch: epoch)
        if withSketches { sketches[b].clear() }
        return b
    }

    /// Adds a value of `series` to bucket `epoch` (from `Geometry.placement`; `slot`
    /// is `geometry.slot(of: epoch)`). False when late.
    @inline(__always)
    func add(series: Int, _ value: Double, at timestamp: Int64, hit: Bool, epoch: Int64, slot: Int) -> Bool {
        guard let b = bucket(series: series, epoch: epoch, slot: slot) else { return false }
        buckets[b].stats.add(value, at: timestamp, hit: hit)
        if withSketches { sketches[b].add(value) }
        return true
    }

    /// Adds a ratio numerator value of `series` to bucket `epoch`. False when late.
    @inline(__always)
    func addNumerator(series: Int, _ value: Double, epoch: Int64, slot: Int) -> Bool {
        guard let b = bucket(series: series, epoch: epoch, slot: slot) else { return false }
        buckets[b].stats.addNumerator(value)
        return true
    }

    /// Adds a ratio denominator value of `series` to bucket `epoch`. False when late.
    @inline(__always)
    func addDenominator(series: Int, _ value: Double, epoch: Int64, slot: Int) -> Bool {
        guard let b = bucket(series: series, epoch: epoch, slot: slot) else { return false }
        buckets[b].stats.addDenominator(value)
        return true
    }

    /// Folds the live buckets of `series` at `nowEpoch` into `total` and, when
    /// `mergeSketches` and the window keeps sketches, into `sketch`. O(buckets), plus
    /// O(bins) per sketch merged.
    func read(
        series: Int,
        nowEpoch: Int64,
        into total: inout AggregateAccumulator,
        sketch: inout QuantileSketch,
        mergeSketches: Bool
    ) {
        let merging = mergeSketches && withSketches
        for slot in 0..<geometry.bucketCount {
            let b = slot * capacity + series
            guard geometry.isLive(buckets[b].epoch, nowEpoch: nowEpoch) else { continue }
            total.merge(buckets[b].stats)
            if merging { sketch.merge(sketches[b]) }
        }
    }

    // MARK: Checkpoints

    /// The bucket of `series` in ring slot `slot` (both in range), as stored.
    @inline(__always)
    func storedBucket(series: Int, slot: Int) -> Bucket {
        buckets[slot &* capacity &+ series]
    }

    /// Appends the sketch of `series` in ring slot `slot` (`withSketches` only) with
    /// `QuantileSketch.encode(into:)`, without copying it.
    func encodeSketch(series: Int, slot: Int, into writer: inout BinaryWriter) {
        sketches[slot &* capacity &+ series].encode(into: &writer)
    }

    /// Puts a bucket read from a checkpoint, and its sketch when the window keeps
    /// sketches, in the ring slot of its epoch for `series` (`< seriesCount`),
    /// replacing what the slot held.
    func restore(series: Int, bucket: Bucket, sketch: QuantileSketch?) {
        let b = geometry.slot(of: bucket.epoch) &* capacity &+ series
        buckets[b] = bucket
        guard withSketches else { return }
        if let sketch { sketches[b] = sketch } else { sketches[b].clear() }
    }

    /// True when the bucket of `series` in ring slot `slot` holds samples of an epoch
    /// in `(goneBefore, goneNow]`: samples that have just left the window.
    @inline(__always)
    func lostSamples(series: Int, slot: Int, goneBefore: Int64, goneNow: Int64) -> Bool {
        let b = slot * capacity + series
        let e = buckets[b].epoch
        return e > goneBefore && e <= goneNow && !buckets[b].stats.isEmpty
    }
}
