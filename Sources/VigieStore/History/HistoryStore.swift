import Foundation
import GRDB
import Synchronization
import VigieCore

/// KPI history in one SQLite file: per-minute and per-hour rollups of every KPI
/// series, alert and operator events, and the position of the last batch written.
///
/// **File.** A GRDB `DatabasePool` in WAL journal mode with `synchronous = NORMAL`: a
/// commit costs no fsync (the WAL file is synced at checkpoints), a power loss may
/// lose the last commits but never corrupts the file, and readers (queries) run beside
/// the writer. The integrator replays lost commits from the write-ahead log starting at
/// `position()`, so history is exactly-once. The schema is created and upgraded by a
/// `DatabaseMigrator` when the store opens.
///
/// **Writes** (`write`) are meant to be batched about once a second by one history
/// thread, off the engine thread: each is one transaction that merges the rollups into
/// their minute rows and hour rows (SQL upserts; sketches are merged by a SQL function
/// through SQLite's C API), inserts the events and records the position. Rows are
/// bound through the C API too (`RollupUpsert`), not GRDB's `StatementArguments`, which
/// cost more than SQLite itself at this rate. A release build writes a round of 10,000
/// minute rollups and their hours in about 0.1 s (`make bench`, "HistoryStore write one
/// round"); a month of a city of 24 KPIs × 5 series is about 240 MB.
///
/// **Thread safety.** `Sendable`: every method may be called from any thread; writes
/// are serialized by GRDB, reads run concurrently with them.
public final class HistoryStore: Sendable {
    /// The database file.
    public let path: String
    let pool: DatabasePool
    /// Series ids already in the `series` table (committed), by KPI and group.
    private let seriesIDs = Mutex<[SeriesName: Int64]>([:])

    /// A series' identity: KPI name and group tags as the accumulator gives them.
    struct SeriesName: Hashable {
        let kpi: String
        let group: [TagPair]
    }

    /// Opens (creating it if needed) the history database at `path` and brings its
    /// schema up to date.
    ///
    /// - Throws: `StoreError` naming the file when it cannot be opened or migrated
    ///   (its directory missing or read-only, a file that is not a Vigie database…).
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.label = "vigie.history"
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try HistoryFunctions.install(in: db)
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw Self.storeError(error, path: path, operation: "open history database")
        }
    }

    /// The schema, one migration per version; never edit a shipped migration, add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE series (
                        id INTEGER PRIMARY KEY,
                        kpi TEXT NOT NULL,
                        group_key TEXT NOT NULL,
                        UNIQUE (kpi, group_key)
                    );
                    CREATE TABLE minute_rollup (
                        series INTEGER NOT NULL REFERENCES series(id),
                        minute INTEGER NOT NULL,
                        \(rollupColumns),
                        PRIMARY KEY (series, minute)
                    ) WITHOUT ROWID;
                    CREATE TABLE hour_rollup (
                        series INTEGER NOT NULL REFERENCES series(id),
                        hour INTEGER NOT NULL,
                        \(rollupColumns),
                        PRIMARY KEY (series, hour)
                    ) WITHOUT ROWID;
                    CREATE TABLE event (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        ts INTEGER NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('alert', 'ack', 'silence', 'unsilence')),
                        rule TEXT,
                        kpi TEXT,
                        group_key TEXT NOT NULL,
                        state TEXT,
                        severity TEXT,
                        value REAL,
                        threshold REAL,
                        actor TEXT,
                        comment TEXT,
                        payload TEXT
                    );
                    CREATE INDEX event_by_ts ON event (ts);
                    CREATE TABLE meta (
                        key TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    ) WITHOUT ROWID;
                    """
            )
        }
        return migrator
    }

    /// The statistics columns of a rollup row (see `MinuteRollup`): `min`, `max`,
    /// `last` and `last_ts` are NULL when the row has no value sample (a ratio row with
    /// numerators only); `sketch` is NULL but for quantile KPIs; a sum is NULL once it
    /// is no number (+∞ and −∞ added: values near 1e308), and stays so.
    private static let rollupColumns = """
        count INTEGER NOT NULL,
                        sum REAL,
                        min REAL,
                        max REAL,
                        last REAL,
                        last_ts INTEGER,
                        hits INTEGER NOT NULL,
                        num_count INTEGER NOT NULL,
                        num REAL,
                        den REAL,
                        sketch BLOB
        """

    /// Meta keys.
    enum MetaKey {
        /// The integrator's consumer position (decimal `UInt64`).
        static let position = "position"
        /// Minute rows before this time (ns) were pruned.
        static let minuteHorizon = "minute_horizon"
        /// Hour rows before this time (ns) were pruned.
        static let hourHorizon = "hour_horizon"
    }

    // MARK: - Writing

    /// Merges `rollups` into their minute rows and their hour rows, appends `events`,
    /// and records `position` (unless `nil`), all in one transaction: after a crash,
    /// either all of it is in the file or none of it, and `position()` says which.
    ///
    /// Merging: counts and sums add, min and max widen, `last` keeps the later
    /// timestamp (the incoming one on a tie), sketches are decoded, merged and
    /// re-encoded. So writing the same minute in several batches (late samples) gives
    /// the row one batch would have given. An existing sketch that does not decode is
    /// replaced by the incoming one rather than blocking every later write.
    ///
    /// O(rollups + events) upserts of O(log rows) each.
    ///
    /// - Throws: `StoreError`; `isOutOfSpace` when the disk is full. Nothing is written
    ///   then, and the call may be retried with the same arguments.
    public func write(rollups: [KPIRollup], events: [HistoryEvent], position: UInt64?) throws {
        do {
            let created = try pool.write { db -> [SeriesName: Int64] in
                var ids: [SeriesName: Int64] = [:]
                var created: [SeriesName: Int64] = [:]
                let minuteUpsert = try RollupUpsert(table: "minute_rollup", time: "minute", in: db)
                defer { minuteUpsert.finalize() }
                // Hour rows: the batch's minutes merged per (series, hour) first, then one upsert each.
                var hours: [HourKey: Int] = [:]
                var hourKeys: [HourKey] = []
                var hourStats: [MinuteRollup] = []
                for rollup in rollups {
                    let name = SeriesName(kpi: rollup.kpi, group: rollup.group)
                    let series: Int64
                    if let id = ids[name] {
                        series = id
                    } else if let id = seriesIDs.withLock({ $0[name] }) {
                        series = id
                        ids[name] = id
                    } else {
                        series = try Self.seriesID(kpi: rollup.kpi, group: rollup.group, in: db)
                        ids[name] = series
                        created[name] = series
                    }
                    try minuteUpsert.run(series: series, time: rollup.minute, rollup.stats)
                    let key = HourKey(series: series, hour: HistoryResolution.hour.start(of: rollup.minute))
                    if let h = hours[key] {
                        hourStats[h].merge(rollup.stats)
                    } else {
                        hours[key] = hourKeys.count
                        hourKeys.append(key)
                        hourStats.append(rollup.stats)
                    }
                }
                if !hourKeys.isEmpty {
                    let hourUpsert = try RollupUpsert(table: "hour_rollup", time: "hour", in: db)
                    defer { hourUpsert.finalize() }
                    for (h, key) in hourKeys.enumerated() {
                        try hourUpsert.run(series: key.series, time: key.hour, hourStats[h])
                    }
                }
                if !events.isEmpty {
                    let insert = try db.cachedStatement(
                        sql: """
                            INSERT INTO event (ts, kind, rule, kpi, group_key, state, severity, value, threshold,
                                actor, comment, payload)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """
                    )
                    for e in events {
                        let values: [(any DatabaseValueConvertible)?] = [
                            e.ts, e.kind.rawValue, e.rule, e.kpi, HistoryGroupKey.encode(e.group), e.state,
                            e.severity, e.value.flatMap { $0.isFinite ? $0 : nil },
                            e.threshold.flatMap { $0.isFinite ? $0 : nil }, e.actor, e.comment, e.payload,
                        ]
                        try insert.execute(arguments: StatementArguments(values))
                    }
                }
                if let position { try Self.setMeta(MetaKey.position, String(position), in: db) }
                return created
            }
            if !created.isEmpty {
                seriesIDs.withLock { cache in cache.merge(created) { old, _ in old } }
            }
        } catch {
            throw Self.storeError(error, path: path, operation: "write history")
        }
    }

    /// An hour row's identity.
    private struct HourKey: Hashable {
        let series: Int64
        let hour: Int64
    }

    /// The id of the series of `kpi` and `group`, inserted when new.
    private static func seriesID(kpi: String, group: [TagPair], in db: Database) throws -> Int64 {
        let key = HistoryGroupKey.encode(group)
        let select = try db.cachedStatement(sql: "SELECT id FROM series WHERE kpi = ? AND group_key = ?")
        if let id = try Int64.fetchOne(select, arguments: [kpi, key]) { return id }
        try db.cachedStatement(sql: "INSERT INTO series (kpi, group_key) VALUES (?, ?)").execute(arguments: [kpi, key])
        return db.lastInsertedRowID
    }

    // MARK: - Meta

    /// The consumer position recorded by the last `write` that gave one, or `nil` when
    /// none did.
    ///
    /// - Throws: `StoreError` when the file cannot be read or the value is corrupt.
    public func position() throws -> UInt64? {
        let text: String?
        do {
            text = try pool.read { db in try Self.meta(MetaKey.position, in: db) }
        } catch {
            throw Self.storeError(error, path: path, operation: "read history position")
        }
        guard let text else { return nil }
        guard let value = UInt64(text) else {
            throw StoreError(path: path, operation: "read history position", detail: "corrupt value \"\(text)\"")
        }
        return value
    }

    static func meta(_ key: String, in db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
    }

    static func setMeta(_ key: String, _ value: String, in db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ).execute(arguments: [key, value])
    }

    // MARK: - Retention

    /// What `prune` deleted.
    public struct PruneResult: Sendable, Equatable {
        public var minuteRows: Int
        public var hourRows: Int
        public var events: Int
    }

    /// Deletes minute rows older than `keepMinutes` before `now`, hour rows and events
    /// older than `keepHours` (all ns), and records those horizons: queries reaching
    /// before the minute horizon read hour rows. Whole minutes and hours: a row is kept
    /// when any of it is within retention.
    ///
    /// One transaction, O(series × log rows + rows deleted). Call it now and then (every
    /// few minutes): each call deletes what aged since the last.
    ///
    /// - Throws: `StoreError`.
    @discardableResult
    public func prune(now: Int64, keepMinutes: Int64, keepHours: Int64) throws -> PruneResult {
        let (minuteCut, o1) = now.subtractingReportingOverflow(Swift.max(0, keepMinutes))
        let (hourCut, o2) = now.subtractingReportingOverflow(Swift.max(0, keepHours))
        let minuteHorizon = o1 ? Int64.min : HistoryResolution.minute.start(of: minuteCut)
        let hourHorizon = o2 ? Int64.min : HistoryResolution.hour.start(of: hourCut)
        do {
            return try pool.write { db in
                var result = PruneResult(minuteRows: 0, hourRows: 0, events: 0)
                let ids = try Int64.fetchAll(db, sql: "SELECT id FROM series ORDER BY id")
                let minutes = try db.cachedStatement(sql: "DELETE FROM minute_rollup WHERE series = ? AND minute < ?")
                let hours = try db.cachedStatement(sql: "DELETE FROM hour_rollup WHERE series = ? AND hour < ?")
                for id in ids {
                    try minutes.execute(arguments: [id, minuteHorizon])
                    result.minuteRows += db.changesCount
                    try hours.execute(arguments: [id, hourHorizon])
                    result.hourRows += db.changesCount
                }
                try db.execute(sql: "DELETE FROM event WHERE ts < ?", arguments: [hourHorizon])
                result.events = db.changesCount
                for (key, horizon) in [(MetaKey.minuteHorizon, minuteHorizon), (MetaKey.hourHorizon, hourHorizon)] {
                    let old = try Self.meta(key, in: db).flatMap { Int64($0) } ?? .min
                    if horizon > old { try Self.setMeta(key, String(horizon), in: db) }
                }
                return result
            }
        } catch {
            throw Self.storeError(error, path: path, operation: "prune history")
        }
    }

    // MARK: - Closing

    /// Closes the database's connections (SQLite checkpoints the WAL file as the last
    /// one closes), e.g. when the daemon stops. Later calls on this store throw. Without
    /// it, the connections close when the store is released.
    ///
    /// - Throws: `StoreError` when a read is still running.
    public func close() throws {
        do {
            try pool.close()
        } catch {
            throw Self.storeError(error, path: path, operation: "close history database")
        }
    }

    // MARK: - Errors

    /// `error` as a `StoreError` naming the file and the operation; a full disk keeps
    /// its `ENOSPC` code.
    static func storeError(_ error: any Error, path: String, operation: String) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? DatabaseError {
            let full = e.resultCode == .SQLITE_FULL
            return StoreError(path: path, operation: operation, code: full ? 28 : 0, detail: e.description)
        }
        return StoreError(path: path, operation: operation, detail: "\(error)")
    }
}

/// The canonical text of a series' group in the `series` and `event` tables: a JSON
/// object with the tags sorted by key, `{"guichet":"2","site":"nord"}`, `{}` when
/// ungrouped. Independent of the order of `group_by`.
enum HistoryGroupKey {
    static func encode(_ group: [TagPair]) -> String {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        for pair in group.sorted(by: { $0.key < $1.key }) {
            w.key(pair.key)
            w.string(pair.value)
        }
        w.endObject()
        return w.string
    }

    /// The tags of `text`, or `nil` when it is not a JSON object of strings.
    static func decode(_ text: String) -> [String: String]? {
        guard let object = JSONValue.decode(Array(text.utf8))?.object else { return nil }
        var tags: [String: String] = [:]
        for (key, value) in object {
            guard let s = value.string else { return nil }
            tags[key] = s
        }
        return tags
    }
}
