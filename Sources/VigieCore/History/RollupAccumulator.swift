/// Folds accepted lines into per-minute rollups of every KPI series, for the history
/// store.
///
/// A line feeds a KPI exactly as it feeds the engine (`KPIEngine.apply`): its
/// measurement is the selector's `metric`, it has the selector's field (first
/// occurrence), every `where` filter's tag is present with the exact value (unescaped
/// bytes compared), and the field is numeric (booleans as 1/0) and finite; a ratio KPI
/// takes its numerator and its denominator from their own selectors. The series is the
/// KPI's `group_by` tag values (a missing tag is the empty value), the minute is
/// `floor(time / 60 s)` of the sample's time — the line's timestamp, or the batch's
/// receive time when it has none. Unlike a sliding window, history has no lateness:
/// a sample of any age lands in its minute.
///
/// **Series cap.** Each KPI admits at most its `max_series` series over the
/// accumulator's life (the first ones seen, as the engine does); samples of further
/// series are counted in `seriesOverflow` and dropped.
///
/// **Cost.** `add` is O(tags × (filters + group keys) + fields) per feed of the line's
/// measurement; it allocates nothing once the series and the pending minute exist
/// (a measurement is found by hash, series by hash confirmed byte by byte). Memory:
/// the admitted series' tag values, plus one `MinuteRollup` (about 100 bytes, and a
/// sketch's bins for a quantile KPI) per (KPI, series, minute) touched since the last
/// `drain()`: drain about every second.
///
/// **Thread ownership.** A value type owned by one thread (the history thread); pure,
/// no I/O, no clock.
public struct RollupAccumulator {
    /// The KPI definitions, in the order given to `init`.
    public let kpis: [KPIDefinition]
    /// When set, a line it rejects (given its line number, timestamp and receive
    /// time) is skipped and counted in `rejectedLines`, so that history judges a
    /// replayed line as ingest did.
    public let policy: IngestPolicy?

    /// Which side of a KPI a selector feeds.
    private enum Role {
        case value
        case numerator
        case denominator
    }

    /// One selector of one KPI.
    private struct Feed {
        let kpi: Int
        let role: Role
        let field: [UInt8]
        let filterKeys: [[UInt8]]
        let filterValues: [[UInt8]]
    }

    /// A measurement some selector names, and what its lines feed.
    private struct Measurement {
        let name: [UInt8]
        var feeds: [Feed]
    }

    /// The series a KPI has admitted.
    private struct SeriesSpace {
        /// `group_by` keys, as bytes.
        let keys: [[UInt8]]
        let maxSeries: Int
        /// Per series, its unescaped group values.
        var values: [[[UInt8]]] = []
        /// Per series, its group tags.
        var names: [[TagPair]] = []
        /// Series numbers by hash of their group values (collisions listed).
        var byHash: [UInt64: [Int32]] = [:]
    }

    /// A pending rollup's identity.
    private struct PendingKey: Hashable {
        let kpi: Int32
        let series: Int32
        let minute: Int64
    }

    private let measurements: [Measurement]
    /// Measurement indices by FNV-1a hash of the name.
    private let measurementsByHash: [UInt64: [Int]]
    /// Per KPI: `share` threshold and side, when the aggregate is `share`.
    private let shares: [(threshold: Double, below: Bool)?]
    /// Per KPI: whether rollups keep a quantile sketch.
    private let sketched: [Bool]
    private var spaces: [SeriesSpace]
    private var pendingIndex: [PendingKey: Int] = [:]
    private var pendingKeys: [PendingKey] = []
    private var pendingStats: [MinuteRollup] = []

    /// Per KPI (in `kpis` order): samples dropped because their series would exceed
    /// the KPI's `max_series`. Monotonic over the accumulator's life.
    public private(set) var seriesOverflow: [Int]
    /// Lines skipped because `policy` rejects them.
    public private(set) var rejectedLines = 0
    /// Values folded into a rollup (a ratio line feeding both sides counts twice).
    public private(set) var appliedSamples = 0

    /// An accumulator for `kpis` (as validated by `VigieConfig`), judging lines with
    /// `policy` when one is given.
    public init(kpis: [KPIDefinition], policy: IngestPolicy? = nil) {
        self.kpis = kpis
        self.policy = policy
        var measurements: [Measurement] = []
        var byName: [[UInt8]: Int] = [:]
        func add(_ selector: SampleSelector, kpi: Int, role: Role) {
            let name = Array(selector.metric.utf8)
            let feed = Feed(
                kpi: kpi,
                role: role,
                field: Array(selector.field.utf8),
                filterKeys: selector.filters.map { Array($0.key.utf8) },
                filterValues: selector.filters.map { Array($0.value.utf8) }
            )
            if let m = byName[name] {
                measurements[m].feeds.append(feed)
            } else {
                byName[name] = measurements.count
                measurements.append(Measurement(name: name, feeds: [feed]))
            }
        }
        var shares: [(threshold: Double, below: Bool)?] = []
        for (k, kpi) in kpis.enumerated() {
            if kpi.aggregate == .ratio {
                add(kpi.selector, kpi: k, role: .numerator)
                if let denominator = kpi.denominator { add(denominator, kpi: k, role: .denominator) }
            } else {
                add(kpi.selector, kpi: k, role: .value)
            }
            if case .share(let threshold, let below) = kpi.aggregate {
                shares.append((threshold, below))
            } else {
                shares.append(nil)
            }
        }
        var byHash: [UInt64: [Int]] = [:]
        for (m, measurement) in measurements.enumerated() {
            byHash[fnv1a(measurement.name), default: []].append(m)
        }
        self.measurements = measurements
        self.measurementsByHash = byHash
        self.shares = shares
        self.sketched = kpis.map(\.aggregate.needsSketch)
        self.spaces = kpis.map {
            SeriesSpace(keys: $0.groupBy.map { Array($0.utf8) }, maxSeries: Swift.max(0, $0.maxSeries))
        }
        self.seriesOverflow = Array(repeating: 0, count: kpis.count)
    }

    /// Number of (KPI, series, minute) rollups waiting for `drain()`.
    public var pendingCount: Int { pendingKeys.count }

    /// Number of series KPI number `kpi` (an index into `kpis`) has admitted; 0 for an
    /// index out of range.
    public func seriesCount(ofKPI kpi: Int) -> Int {
        kpi >= 0 && kpi < spaces.count ? spaces[kpi].values.count : 0
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
        guard let candidates = measurementsByHash[line.measurement.fnv1a()] else { return 0 }
        let time = line.timestamp ?? receivedAt
        let minute = HistoryResolution.minute.start(of: time)
        var applied = 0
        for m in candidates {
            let measurement = measurements[m]
            guard line.measurement.equals(measurement.name) else { continue }
            for feed in measurement.feeds {
                guard let value = Self.value(of: feed, in: line) else { continue }
                let k = feed.kpi
                guard let series = series(ofKPI: k, line: line) else {
                    seriesOverflow[k] &+= 1
                    continue
                }
                let key = PendingKey(kpi: Int32(truncatingIfNeeded: k), series: series, minute: minute)
                let p: Int
                if let existing = pendingIndex[key] {
                    p = existing
                } else {
                    p = pendingKeys.count
                    pendingIndex[key] = p
                    pendingKeys.append(key)
                    pendingStats.append(MinuteRollup(withSketch: sketched[k]))
                }
                switch feed.role {
                case .value:
                    var hit = false
                    if let share = shares[k] {
                        hit = share.below ? value < share.threshold : value > share.threshold
                    }
                    pendingStats[p].add(value, at: time, hit: hit)
                case .numerator: pendingStats[p].addNumerator(value)
                case .denominator: pendingStats[p].addDenominator(value)
                }
                applied &+= 1
            }
        }
        appliedSamples &+= applied
        return applied
    }

    /// The value `feed` takes from `line`: its field's numeric value when the line
    /// passes every filter and the value is finite, else `nil`.
    private static func value(of feed: Feed, in line: ParsedLine) -> Double? {
        let field = feed.field.withUnsafeBufferPointer { line.fieldValue(forKey: $0) }
        guard let v = field?.numericValue, v.isFinite else { return nil }
        for f in 0..<feed.filterKeys.count {
            let tag = feed.filterKeys[f].withUnsafeBufferPointer { line.tagValue(forKey: $0) }
            guard let tag, tag.equals(feed.filterValues[f]) else { return nil }
        }
        return v
    }

    /// The series of `line` in KPI `k`, admitting it when new and under the cap;
    /// `nil` when the cap is reached.
    private mutating func series(ofKPI k: Int, line: ParsedLine) -> Int32? {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for key in spaces[k].keys {
            if let tag = key.withUnsafeBufferPointer({ line.tagValue(forKey: $0) }) { hash = tag.fnv1a(seed: hash) }
            // A separator byte that UTF-8 never uses, so ("ab", "c") and ("a", "bc") differ.
            hash = (hash ^ 0xFF) &* 0x0000_0100_0000_01B3
        }
        if let list = spaces[k].byHash[hash] {
            for s in list where matches(series: Int(s), ofKPI: k, line: line) { return s }
        }
        guard spaces[k].values.count < spaces[k].maxSeries, spaces[k].values.count < Int(Int32.max) else {
            return nil
        }
        var values: [[UInt8]] = []
        var names: [TagPair] = []
        for key in spaces[k].keys {
            let tag = key.withUnsafeBufferPointer { line.tagValue(forKey: $0) }
            let bytes = tag?.bytes ?? []
            values.append(bytes)
            names.append(
                TagPair(key: String(decoding: key, as: UTF8.self), value: String(decoding: bytes, as: UTF8.self))
            )
        }
        let s = Int32(truncatingIfNeeded: spaces[k].values.count)
        spaces[k].values.append(values)
        spaces[k].names.append(names)
        spaces[k].byHash[hash, default: []].append(s)
        return s
    }

    /// True when series `s` of KPI `k` has `line`'s group values.
    private func matches(series s: Int, ofKPI k: Int, line: ParsedLine) -> Bool {
        let space = spaces[k]
        for (i, key) in space.keys.enumerated() {
            let tag = key.withUnsafeBufferPointer { line.tagValue(forKey: $0) }
            let stored = space.values[s][i]
            if let tag {
                if !tag.equals(stored) { return false }
            } else if !stored.isEmpty {
                return false
            }
        }
        return true
    }

    /// Every pending rollup, KPI by KPI in `kpis` order, each KPI's series in the
    /// order they were admitted, each series' minutes in increasing order; then
    /// forgets them (keeping their storage). Admitted series stay admitted.
    ///
    /// O(pending × log pending); allocates the result.
    public mutating func drain() -> [KPIRollup] {
        let order = pendingKeys.indices.sorted { a, b in
            let x = pendingKeys[a]
            let y = pendingKeys[b]
            return (x.kpi, x.series, x.minute) < (y.kpi, y.series, y.minute)
        }
        var out: [KPIRollup] = []
        out.reserveCapacity(order.count)
        for p in order {
            let key = pendingKeys[p]
            out.append(
                KPIRollup(
                    kpi: kpis[Int(key.kpi)].name,
                    group: spaces[Int(key.kpi)].names[Int(key.series)],
                    minute: key.minute,
                    stats: pendingStats[p]
                )
            )
        }
        pendingIndex.removeAll(keepingCapacity: true)
        pendingKeys.removeAll(keepingCapacity: true)
        pendingStats.removeAll(keepingCapacity: true)
        return out
    }
}
