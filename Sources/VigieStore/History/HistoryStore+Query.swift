import Foundation
import GRDB
import VigieCore

/// Why a history query cannot be answered: which argument is wrong, and how to fix it.
public struct HistoryQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request field at fault: `from`, `to`, `step`, `group`…
    public var field: String
    /// What is wrong and what would work.
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `"field" message`, e.g. `"step" must be a whole number of minutes, at least 1m`.
    public var description: String { "\"\(field)\" \(message)" }
}

/// The answer to a history query: its points and the grid they are on.
public struct HistoryResult: Sendable, Equatable {
    /// Every step of every series that has data in the range, series by series
    /// (ordered by their group values in `group_by` order), each series' steps in
    /// time order, steps without data included with a `nil` value.
    public var points: [HistoryPoint]
    /// The step actually used, ns: the one asked for, raised to whole hours when only
    /// hour rows cover the range.
    public var step: Int64
    /// The rows the points were computed from.
    public var resolution: HistoryResolution
    /// Start of the first step (`from` rounded down to a multiple of `step` since the
    /// epoch, UTC).
    public var start: Int64
    /// End of the last step (exclusive): the first multiple of `step` at or after `to`.
    public var end: Int64

    public init(points: [HistoryPoint], step: Int64, resolution: HistoryResolution, start: Int64, end: Int64) {
        self.points = points
        self.step = step
        self.resolution = resolution
        self.start = start
        self.end = end
    }
}

extension HistoryStore {
    /// Most steps one query may return per series.
    public static let maxSteps = 100_000
    /// Most points in one reply, over all series: about 100 MB of JSON at most.
    public static let maxPoints = 1_000_000

    /// The KPI's aggregate per `step` from `from` to `to` (ns), per series: see
    /// `history(kpi:group:from:to:step:)`, which also says which grid was used.
    public func query(
        kpi: KPIDefinition,
        group: [TagPair]?,
        from: Int64,
        to: Int64,
        step: Int64
    ) throws
        -> [HistoryPoint]
    {
        try history(kpi: kpi, group: group, from: from, to: to, step: step).points
    }

    /// The KPI's aggregate recomputed per `step` and per series from the merged
    /// rollups of each step: `count`, `sum`, `mean` (Σ/count), `min`, `max`, `last` (by
    /// timestamp), `rate` (count / step seconds × `per`), quantiles (merged sketches,
    /// within the sketch's 1 %), `share` (hits / count), `ratio` (Σnum / Σden).
    /// `min_samples` does not apply: each point carries its sample count.
    ///
    /// - Parameters:
    ///   - group: `nil` for every series; else only the series whose tags include all
    ///     of these (a subset of `group_by`: `[site=nord]` of a KPI grouped by site and
    ///     counter gives every counter of that site).
    ///   - from, to: the range, ns since the epoch, `0 ≤ from < to`.
    ///   - step: at least one minute, a whole number of minutes, at most
    ///     `DurationFormat.maximum`.
    ///
    /// Steps are aligned to multiples of `step` since the epoch (UTC: a `1d` step runs
    /// from 00:00Z): the first is the one containing `from`, the last the one containing
    /// `to − 1`. Minute rows are used when the step is not a multiple of one hour and
    /// minute rows still cover the range (none were pruned after its start); otherwise
    /// hour rows, with the step rounded up to whole hours if need be. Series recorded
    /// under another `group_by` than the KPI's current one are not returned.
    ///
    /// Cost: one range scan per matching series of the rows in range, aggregated by
    /// SQLite (sketches merged by a SQL aggregate); a step of 1 h over a month of a KPI
    /// with 5 series reads 3,600 hour rows.
    ///
    /// - Throws: `HistoryQueryError` for invalid arguments, `StoreError` when the file
    ///   cannot be read.
    public func history(
        kpi: KPIDefinition,
        group: [TagPair]?,
        from: Int64,
        to: Int64,
        step: Int64
    ) throws
        -> HistoryResult
    {
        let minute = HistoryResolution.minute.rawValue
        let hour = HistoryResolution.hour.rawValue
        guard step >= minute, step % minute == 0 else {
            throw HistoryQueryError(field: "step", message: "must be a whole number of minutes, at least 1m")
        }
        guard step <= DurationFormat.maximum else {
            throw HistoryQueryError(field: "step", message: "must be at most 100 years")
        }
        guard from >= 0 else { throw HistoryQueryError(field: "from", message: "must not be before 1970") }
        guard to > from else { throw HistoryQueryError(field: "to", message: "must be after \"from\"") }
        do {
            return try pool.read { db in
                let horizon = try Self.meta(MetaKey.minuteHorizon, in: db).flatMap { Int64($0) }
                var step = step
                var resolution = HistoryResolution.minute
                if step % hour == 0 || (horizon.map { Self.floor(from, step) < $0 } ?? false) {
                    resolution = .hour
                    step = (step + hour - 1) / hour * hour
                }
                let start = Self.floor(from, step)
                let steps = (to - start - 1) / step + 1
                guard steps <= Self.maxSteps else {
                    throw HistoryQueryError(
                        field: "step",
                        message: "\(steps) steps per series is too many (at most \(Self.maxSteps)): use a larger step"
                    )
                }
                let (span, o1) = Int64(steps).multipliedReportingOverflow(by: step)
                let (end, o2) = start.addingReportingOverflow(span)
                guard !o1, !o2 else { throw HistoryQueryError(field: "to", message: "is too far in the future") }
                let series = try Self.matchingSeries(of: kpi, group: group, in: db)
                guard series.count <= Self.maxPoints / Int(steps) else {
                    throw HistoryQueryError(
                        field: "step",
                        message: "\(series.count) series × \(steps) steps is more than \(Self.maxPoints) points: "
                            + "name a group, narrow the range or use a larger step"
                    )
                }
                var points: [HistoryPoint] = []
                if !series.isEmpty {
                    let buckets = try Self.buckets(
                        of: series.map(\.id),
                        resolution: resolution,
                        aggregate: kpi.aggregate,
                        start: start,
                        end: end,
                        step: step,
                        in: db
                    )
                    let seconds = Double(step) / 1e9
                    for s in series {
                        guard let rows = buckets[s.id] else { continue }
                        points.reserveCapacity(points.count + Int(steps))
                        for b in 0..<Int(steps) {
                            let ts = start + Int64(b) * step
                            if let stats = rows[b] {
                                points.append(
                                    HistoryPoint(
                                        ts: ts,
                                        group: s.group,
                                        value: stats.value(of: kpi.aggregate, rateSeconds: seconds),
                                        samples: stats.count
                                    )
                                )
                            } else {
                                points.append(HistoryPoint(ts: ts, group: s.group, value: nil, samples: 0))
                            }
                        }
                    }
                }
                return HistoryResult(points: points, step: step, resolution: resolution, start: start, end: end)
            }
        } catch let error as HistoryQueryError {
            throw error
        } catch {
            throw Self.storeError(error, path: path, operation: "query history")
        }
    }

    /// `t` rounded down to a multiple of `step` (> 0).
    static func floor(_ t: Int64, _ step: Int64) -> Int64 {
        let q = t / step
        return (t % step < 0 ? q - 1 : q) * step
    }

    /// A series of the KPI being queried.
    struct QueriedSeries {
        let id: Int64
        /// Its tags in `group_by` order.
        let group: [TagPair]
    }

    /// The KPI's series whose tags are exactly its `group_by` keys and include every
    /// pair of `group`, ordered by their values in `group_by` order.
    private static func matchingSeries(
        of kpi: KPIDefinition,
        group: [TagPair]?,
        in db: Database
    ) throws
        -> [QueriedSeries]
    {
        let keys = Set(kpi.groupBy)
        var out: [QueriedSeries] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT id, group_key FROM series WHERE kpi = ?", arguments: [kpi.name])
        while let row = try rows.next() {
            let id: Int64 = row[0]
            let text: String = row[1]
            guard let tags = HistoryGroupKey.decode(text), Set(tags.keys) == keys else { continue }
            if let group, !group.allSatisfy({ tags[$0.key] == $0.value }) { continue }
            out.append(QueriedSeries(id: id, group: kpi.groupBy.map { TagPair(key: $0, value: tags[$0] ?? "") }))
        }
        return out.sorted { a, b in
            let x = a.group.map(\.value)
            let y = b.group.map(\.value)
            return x == y ? a.id < b.id : x.lexicographicallyPrecedes(y)
        }
    }

    /// The merged rollup of each (series, step) that has rows in `[start, end)`.
    private static func buckets(
        of ids: [Int64],
        resolution: HistoryResolution,
        aggregate: Aggregate,
        start: Int64,
        end: Int64,
        step: Int64,
        in db: Database
    ) throws -> [Int64: [Int: MinuteRollup]] {
        let (table, time) = resolution == .minute ? ("minute_rollup", "minute") : ("hour_rollup", "hour")
        let wantsLast = aggregate == .last
        let wantsSketch = aggregate.needsSketch
        let sql = """
            SELECT series, (\(time) - ?) / ?, sum(count), total(sum), min(min), max(max), max(last_ts), sum(hits),
                sum(num_count), total(num), total(den), \(wantsLast ? "vigie_last(last_ts, last)" : "NULL"),
                \(wantsSketch ? "vigie_sketch_union(sketch)" : "NULL")
            FROM \(table)
            WHERE series IN (\(ids.map(String.init).joined(separator: ","))) AND \(time) >= ? AND \(time) < ?
            GROUP BY 1, 2
            """
        var out: [Int64: [Int: MinuteRollup]] = [:]
        let rows = try Row.fetchCursor(db, sql: sql, arguments: [start, step, start, end])
        while let row = try rows.next() {
            let series: Int64 = row[0]
            let bucket: Int = row[1]
            var stats = MinuteRollup()
            stats.count = row[2]
            stats.sum = row[3]
            stats.min = (row[4] as Double?) ?? .infinity
            stats.max = (row[5] as Double?) ?? -.infinity
            stats.lastTimestamp = (row[6] as Int64?) ?? .min
            stats.hits = row[7]
            stats.numeratorCount = row[8]
            stats.numerator = row[9]
            stats.denominator = row[10]
            if wantsLast { stats.last = (row[11] as Double?) ?? 0 }
            if wantsSketch, let data = row[12] as Data? { stats.sketch = HistoryFunctions.decode(data) }
            out[series, default: [:]][bucket] = stats
        }
        return out
    }

    /// The latest `limit` events with `from ≤ ts < to` (ns), oldest first.
    ///
    /// - Throws: `StoreError` when the file cannot be read.
    public func events(from: Int64, to: Int64, limit: Int) throws -> [HistoryEvent] {
        do {
            return try pool.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, ts, kind, rule, kpi, group_key, state, severity, value, threshold, actor, comment,
                            payload
                        FROM event WHERE ts >= ? AND ts < ? ORDER BY ts DESC, id DESC LIMIT ?
                        """,
                    arguments: [from, to, Swift.max(0, limit)]
                )
                return rows.reversed().map { row in
                    let groupText: String = row[5]
                    let tags = HistoryGroupKey.decode(groupText) ?? [:]
                    let kindText: String = row[2]
                    return HistoryEvent(
                        id: row[0],
                        ts: row[1],
                        kind: HistoryEventKind(rawValue: kindText) ?? .alert,
                        rule: row[3],
                        kpi: row[4],
                        group: tags.keys.sorted().map { TagPair(key: $0, value: tags[$0] ?? "") },
                        state: row[6],
                        severity: row[7],
                        value: row[8],
                        threshold: row[9],
                        actor: row[10],
                        comment: row[11],
                        payload: row[12]
                    )
                }
            }
        } catch {
            throw Self.storeError(error, path: path, operation: "read history events")
        }
    }
}
