import Foundation
import GRDB
import Testing
import VigieCore
import VigieTesting

@testable import VigieStore

@Suite("HistoryStore")
struct HistoryStoreTests {
    @Test("opens in WAL mode with synchronous NORMAL, creates the schema, reopens")
    func opening() throws {
        let dir = try HistoryDirectory()
        let path = dir.file("history.sqlite")
        do {
            let store = try HistoryStore(path: path)
            try store.pool.read { db in
                #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
                #expect(try Int.fetchOne(db, sql: "PRAGMA synchronous") == 1)
                let tables = try String.fetchAll(
                    db,
                    sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb%' ORDER BY name"
                )
                #expect(tables == ["event", "hour_rollup", "meta", "minute_rollup", "series", "sqlite_sequence"])
            }
            let writerSynchronous = try store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            #expect(writerSynchronous == 1)
            try store.write(
                rollups: [KPIRollup(kpi: "k", group: [], minute: t0, stats: stats([(1, t0)]))],
                events: [],
                position: 3
            )
        }
        let again = try HistoryStore(path: path)
        #expect(try again.position() == 3)
        try again.close()
        #expect(throws: StoreError.self) { try again.position() }
    }

    @Test("a file that is not a database is reported with its path")
    func notADatabase() throws {
        let dir = try HistoryDirectory()
        let path = dir.file("history.sqlite")
        try Data(repeating: 0x42, count: 4_096).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try HistoryStore(path: path)
        } throws: { error in
            guard let e = error as? StoreError else { return false }
            return e.path == path && e.operation == "open history database"
        }
        #expect(throws: StoreError.self) { _ = try HistoryStore(path: dir.file("missing/dir/history.sqlite")) }
    }

    /// The raw statistics of one row.
    func row(_ store: HistoryStore, table: String, time: Int64) throws -> Row? {
        try store.pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM \(table) WHERE \(table == "hour_rollup" ? "hour" : "minute") = ?",
                arguments: [time]
            )
        }
    }

    @Test("the same minute written in several batches merges into one row, and into its hour")
    func merging() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        let group = [TagPair(key: "site", value: "nord")]
        let at = t0 + 5 * minute
        try store.write(
            rollups: [
                KPIRollup(
                    kpi: "k",
                    group: group,
                    minute: at,
                    stats: stats([(4, at + 10 * second), (12, at + 20 * second)])
                )
            ],
            events: [],
            position: 1
        )
        try store.write(
            rollups: [
                // Older than the row's last: `last` must not move.
                KPIRollup(kpi: "k", group: group, minute: at, stats: stats([(-1, at + 5 * second)])),
                KPIRollup(kpi: "k", group: group, minute: at + minute, stats: stats([(7, at + minute)])),
            ],
            events: [],
            position: 2
        )
        let minuteRow = try #require(try row(store, table: "minute_rollup", time: at))
        #expect(minuteRow["count"] as Int == 3)
        #expect(minuteRow["sum"] as Double == 15)
        #expect(minuteRow["min"] as Double == -1)
        #expect(minuteRow["max"] as Double == 12)
        #expect(minuteRow["last"] as Double == 12)
        #expect(minuteRow["last_ts"] as Int64 == at + 20 * second)
        #expect(minuteRow["hits"] as Int == 2)
        #expect(minuteRow["sketch"] as Data? == nil)
        let hourRow = try #require(try row(store, table: "hour_rollup", time: t0))
        #expect(hourRow["count"] as Int == 4)
        #expect(hourRow["sum"] as Double == 22)
        #expect(hourRow["last"] as Double == 7)
        #expect(hourRow["last_ts"] as Int64 == at + minute)
        let series = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT kpi, group_key FROM series") }
        #expect(series.map { $0["group_key"] as String } == ["{\"site\":\"nord\"}"])
        #expect(try store.position() == 2)
    }

    @Test("a row without values keeps min, max and last NULL; a sum that is no number stays NULL")
    func nullColumns() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        var numerators = MinuteRollup(withSketch: false)
        numerators.addNumerator(3)
        numerators.addNumerator(4)
        var huge = stats([(1e308, t0 + second)])
        huge.merge(stats([(-1e308, t0 + 2 * second)]))
        huge.sum = .infinity - .infinity
        try store.write(
            rollups: [
                KPIRollup(kpi: "ratio", group: [], minute: t0, stats: numerators),
                KPIRollup(kpi: "huge", group: [], minute: t0, stats: huge),
            ],
            events: [],
            position: 1
        )
        try store.write(
            rollups: [KPIRollup(kpi: "huge", group: [], minute: t0, stats: stats([(5, t0 + 3 * second)]))],
            events: [],
            position: 2
        )
        let rows = try store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.kpi, m.* FROM minute_rollup m JOIN series s ON s.id = m.series ORDER BY s.kpi
                    """
            )
        }
        #expect(rows.count == 2)
        let huge2 = try #require(rows.first)
        #expect(huge2["kpi"] as String == "huge")
        #expect(huge2["count"] as Int == 3)
        #expect(huge2["sum"] as Double? == nil)
        #expect(huge2["min"] as Double == -1e308)
        #expect(huge2["last"] as Double == 5)
        let ratio = try #require(rows.last)
        #expect(ratio["kpi"] as String == "ratio")
        #expect(ratio["count"] as Int == 0)
        #expect(ratio["num_count"] as Int == 2)
        #expect(ratio["num"] as Double == 7)
        #expect(ratio["min"] as Double? == nil)
        #expect(ratio["max"] as Double? == nil)
        #expect(ratio["last"] as Double? == nil)
        #expect(ratio["last_ts"] as Int64? == nil)
    }

    @Test("vigie_sketch_merge: NULL or bytes that do not decode count as absent; a corrupt row sketch is replaced")
    func sketchMergeFunction() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        var a = QuantileSketch()
        for v in 1...50 { a.add(Double(v)) }
        var b = QuantileSketch()
        for v in 51...80 { b.add(Double(v)) }
        let ea = HistoryFunctions.encode(a)
        let eb = HistoryFunctions.encode(b)
        let junk = Data([0xDE, 0xAD, 0xBE, 0xEF])
        func merge(_ x: Data?, _ y: Data?) throws -> QuantileSketch? {
            let out = try store.pool.read { db in
                try Data.fetchOne(db, sql: "SELECT vigie_sketch_merge(?, ?)", arguments: [x, y])
            }
            return try out.map { try #require(HistoryFunctions.decode($0)) }
        }
        #expect(try merge(ea, eb)?.count == 80)
        #expect(try merge(nil, eb)?.count == 30)
        #expect(try merge(ea, nil)?.count == 50)
        #expect(try merge(junk, eb)?.count == 30)
        #expect(try merge(ea, junk)?.count == 50)
        #expect(try merge(junk, junk) == nil)
        #expect(try merge(nil, nil) == nil)

        // Through a write: a row whose stored sketch went bad takes the incoming one.
        try store.write(
            rollups: [
                KPIRollup(kpi: "p90", group: [], minute: t0, stats: stats([(1, t0), (2, t0 + 1)], sketch: true))
            ],
            events: [],
            position: 1
        )
        try store.pool.write { db in try db.execute(sql: "UPDATE minute_rollup SET sketch = ?", arguments: [junk]) }
        try store.write(
            rollups: [KPIRollup(kpi: "p90", group: [], minute: t0, stats: stats([(7, t0 + 2)], sketch: true))],
            events: [],
            position: 2
        )
        let data = try #require(try row(store, table: "minute_rollup", time: t0)?["sketch"] as Data?)
        let sketch = try #require(HistoryFunctions.decode(data))
        #expect(sketch.count == 1)
        #expect(sketch.max == 7)
        let hour = try #require(try row(store, table: "hour_rollup", time: t0)?["sketch"] as Data?)
        #expect(HistoryFunctions.decode(hour)?.count == 3)
    }

    @Test("sketches are decoded, merged and re-encoded: the row answers as one sketch of every value")
    func sketches() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        var rng = SeededGenerator(seed: 3)
        var all: [Double] = []
        for batch in 0..<4 {
            var values: [(Double, Int64)] = []
            for i in 0..<50 {
                let v = Double.random(in: 1...100, using: &rng)
                all.append(v)
                values.append((v, t0 + Int64(batch * 50 + i) * 100_000_000))
            }
            try store.write(
                rollups: [KPIRollup(kpi: "p90", group: [], minute: t0, stats: stats(values, sketch: true))],
                events: [],
                position: nil
            )
        }
        let data = try #require(try row(store, table: "minute_rollup", time: t0)?["sketch"] as Data?)
        let sketch = try #require(HistoryFunctions.decode(data))
        #expect(sketch.count == 200)
        #expect(sketch.min == all.min())
        #expect(sketch.max == all.max())
        var direct = QuantileSketch()
        for v in all { direct.add(v) }
        let kpi = historyKPI("p90", aggregate: .quantile(0.9))
        for step in [minute, hour] {
            let points = try store.query(kpi: kpi, group: nil, from: t0, to: t0 + minute, step: step)
            #expect(points.count == 1)
            #expect(points.first?.value == direct.quantile(0.9))
            #expect(points.first?.samples == 200)
        }
        let exact = try #require(exactQuantile(all, 0.9))
        #expect(abs((direct.quantile(0.9) ?? 0) - exact) <= 0.01 * exact)
    }

    @Test("rollups, events and position are one transaction: a failed write leaves nothing")
    func atomicity() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        #expect(try store.position() == nil)
        let rollup = KPIRollup(kpi: "k", group: [], minute: t0, stats: stats([(1, t0)]))
        try store.write(rollups: [rollup], events: [], position: 10)
        // Break the event table: the write fails after its rollups were upserted.
        try store.pool.write { db in try db.execute(sql: "ALTER TABLE event RENAME TO event_gone") }
        #expect(throws: StoreError.self) {
            try store.write(
                rollups: [rollup, KPIRollup(kpi: "new", group: [], minute: t0, stats: stats([(1, t0)]))],
                events: [HistoryEvent(ts: t0, kind: .ack)],
                position: 11
            )
        }
        #expect(try store.position() == 10)
        #expect(try row(store, table: "minute_rollup", time: t0)?["count"] as Int? == 1)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM series") } == 1)
        try store.pool.write { db in try db.execute(sql: "ALTER TABLE event_gone RENAME TO event") }
        // The series the failed write created is not remembered: this write makes it again.
        try store.write(
            rollups: [KPIRollup(kpi: "new", group: [], minute: t0, stats: stats([(1, t0)]))],
            events: [],
            position: UInt64.max
        )
        #expect(try store.position() == UInt64.max)
        let points = try store.query(
            kpi: historyKPI("new", aggregate: .count),
            group: nil,
            from: t0,
            to: t0 + 1,
            step: minute
        )
        #expect(points.map(\.value) == [1])
    }

    @Test("events: stored with every field, read back latest first by limit, oldest first in the list")
    func events() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        let group = [TagPair(key: "site", value: "nord"), TagPair(key: "guichet", value: "2")]
        let alert = AlertFeedMessage(
            rule: "attente_excessive",
            kpi: "etat_civil.attente_p90",
            group: group,
            state: .firing,
            severity: "warning",
            value: 31.5,
            threshold: 30,
            since: t0,
            message: "Attente \"longue\"",
            reason: "threshold",
            flapping: false,
            acknowledgment: nil,
            silence: nil,
            ts: t0 + minute
        )
        let silence = AlertSilence(
            id: "s-1",
            matchers: [AlertMatcher(key: "site", value: "nord")],
            startsAt: t0 + 2 * minute,
            endsAt: t0 + 2 * hour,
            createdBy: "paul",
            comment: "vidange"
        )
        let events = [
            HistoryEvent(alert: alert),
            HistoryEvent(
                acknowledgment: AlertAcknowledgment(
                    rule: "attente_excessive",
                    group: group,
                    by: "marie",
                    comment: "renfort",
                    at: t0 + 90 * second
                ),
                kpi: "etat_civil.attente_p90"
            ),
            HistoryEvent(silence: silence),
            HistoryEvent(unsilence: silence, at: t0 + 3 * minute, actor: "paul"),
        ]
        try store.write(rollups: [], events: events, position: nil)
        let read = try store.events(from: t0, to: t0 + hour, limit: 100)
        #expect(read.map(\.kind) == [.alert, .ack, .silence, .unsilence])
        #expect(read.map(\.id) == [1, 2, 3, 4])
        let first = try #require(read.first)
        #expect(first.ts == t0 + minute)
        #expect(first.rule == "attente_excessive")
        #expect(first.kpi == "etat_civil.attente_p90")
        #expect(first.group == group.sorted { $0.key < $1.key })
        #expect(first.state == "firing")
        #expect(first.severity == "warning")
        #expect(first.value == 31.5)
        #expect(first.threshold == 30)
        #expect(
            first.payload
                == "{\"message\":\"Attente \\\"longue\\\"\",\"reason\":\"threshold\",\"since\":\"2026-06-01T00:00:00.000Z\",\"flapping\":false}"
        )
        #expect(read[1].actor == "marie")
        #expect(read[1].comment == "renfort")
        #expect(
            read[2].payload
                == "{\"silence_id\":\"s-1\",\"matchers\":[\"site=nord\"],\"ends_at\":\"2026-06-01T02:00:00.000Z\"}"
        )
        #expect(try store.events(from: t0, to: t0 + hour, limit: 2).map(\.kind) == [.silence, .unsilence])
        #expect(try store.events(from: t0 + 2 * minute, to: t0 + 3 * minute, limit: 10).map(\.kind) == [.silence])
    }

    @Test("prune drops minute rows, then hour rows and events, past their retention; queries fall back to hours")
    func pruning() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        let kpi = historyKPI(aggregate: .count)
        var rollups: [KPIRollup] = []
        for d in 0..<10 {
            for m in [0, 30, 61] {
                let at = t0 + Int64(d) * day + Int64(m) * minute
                rollups.append(KPIRollup(kpi: "k", group: [], minute: at, stats: stats([(1, at)])))
            }
        }
        try store.write(
            rollups: rollups,
            events: [HistoryEvent(ts: t0, kind: .ack), HistoryEvent(ts: t0 + 9 * day, kind: .ack)],
            position: nil
        )
        let now = t0 + 10 * day
        let result = try store.prune(now: now, keepMinutes: 2 * day, keepHours: 5 * day)
        // Minute rows of days 0–7 (24 rows), hour rows of days 0–4 (2 hours × 5).
        #expect(result == HistoryStore.PruneResult(minuteRows: 24, hourRows: 10, events: 1))
        #expect(try store.events(from: 0, to: now, limit: 10).count == 1)
        // Within minute retention and a 30 min step: minute rows.
        let recent = try store.history(
            kpi: kpi,
            group: nil,
            from: t0 + 8 * day,
            to: t0 + 8 * day + 2 * hour,
            step: 30 * minute
        )
        #expect(recent.resolution == .minute)
        #expect(recent.step == 30 * minute)
        #expect(recent.points.map(\.samples) == [1, 1, 1, 0])
        // Before the minute horizon: hour rows, step raised to whole hours.
        let older = try store.history(
            kpi: kpi,
            group: nil,
            from: t0 + 6 * day,
            to: t0 + 6 * day + 2 * hour,
            step: 30 * minute
        )
        #expect(older.resolution == .hour)
        #expect(older.step == hour)
        #expect(older.points.map(\.samples) == [2, 1])
        // Pruning again deletes nothing more.
        #expect(
            try store.prune(now: now, keepMinutes: 2 * day, keepHours: 5 * day)
                == .init(minuteRows: 0, hourRows: 0, events: 0)
        )
    }

    @Test("query arguments are checked, naming the field")
    func arguments() throws {
        let dir = try HistoryDirectory()
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        let kpi = historyKPI(aggregate: .count)
        func field(_ from: Int64, _ to: Int64, _ step: Int64) -> String? {
            do {
                _ = try store.query(kpi: kpi, group: nil, from: from, to: to, step: step)
                return nil
            } catch let error as HistoryQueryError {
                return error.field
            } catch {
                return "other: \(error)"
            }
        }
        #expect(field(t0, t0 + hour, 30 * second) == "step")
        #expect(field(t0, t0 + hour, 90 * second) == "step")
        #expect(field(t0, t0, minute) == "to")
        #expect(field(-1, t0, minute) == "from")
        #expect(field(0, t0, minute) == "step")  // 29 million steps
        #expect(field(0, .max, day) == "step")
        #expect(field(t0, t0 + hour, minute) == nil)
    }
}
