import GRDB
import GRDBSQLite
import VigieCore

/// The prepared upsert of rollup rows into one table (`minute_rollup` or
/// `hour_rollup`), bound straight through SQLite's C API.
///
/// The history thread runs it for every active series twice a round (its minute row
/// and its hour row), tens of thousands of times a second under load. GRDB's
/// `StatementArguments` costs more there than SQLite itself: its generic initializer
/// is not specialized across modules and builds a key path and an array of
/// `DatabaseValue`s for every row. Here each value is bound in place and a sketch is
/// bound from the encoder's buffer (`SQLITE_TRANSIENT`: SQLite copies it).
///
/// Lives for one write transaction on the connection that `db` wraps; `finalize()`
/// must run before the transaction's closure returns (the deinit finalizes too, as a
/// safety net).
final class RollupUpsert {
    private let connection: SQLiteConnection
    private var statement: SQLiteStatement?
    private var writer = BinaryWriter(capacity: 1_024)

    /// Prepares the upsert into `table`, whose time column is `time`.
    ///
    /// - Throws: `DatabaseError` when SQLite refuses the statement.
    init(table: String, time: String, in db: Database) throws {
        let connection = try SQLiteC.connection(of: db)
        self.connection = connection
        let sql = Self.sql(table: table, time: time)
        var prepared: SQLiteStatement?
        let code = sqlite3_prepare_v2(connection, sql, -1, &prepared, nil)
        guard code == SQLITE_OK, let prepared else {
            throw SQLiteC.error(code, connection)
        }
        statement = prepared
    }

    deinit { finalize() }

    /// Releases the statement (idempotent).
    func finalize() {
        if let statement { sqlite3_finalize(statement) }
        statement = nil
    }

    /// Merges `stats` into the row (`series`, `time`), inserting it when missing.
    ///
    /// - Throws: `DatabaseError` (`SQLITE_FULL` when the disk is full).
    func run(series: Int64, time: Int64, _ stats: MinuteRollup) throws {
        guard let statement else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "rollup upsert used after finalize")
        }
        let hasValues = stats.count > 0 && stats.min <= stats.max
        let hasLast = stats.lastTimestamp != .min
        sqlite3_bind_int64(statement, 1, series)
        sqlite3_bind_int64(statement, 2, time)
        sqlite3_bind_int64(statement, 3, Int64(stats.count))
        Self.bind(statement, 4, stats.sum)
        hasValues ? Self.bind(statement, 5, stats.min) : Self.bindNull(statement, 5)
        hasValues ? Self.bind(statement, 6, stats.max) : Self.bindNull(statement, 6)
        hasLast ? Self.bind(statement, 7, stats.last) : Self.bindNull(statement, 7)
        if hasLast {
            sqlite3_bind_int64(statement, 8, stats.lastTimestamp)
        } else {
            Self.bindNull(statement, 8)
        }
        sqlite3_bind_int64(statement, 9, Int64(stats.hits))
        sqlite3_bind_int64(statement, 10, Int64(stats.numeratorCount))
        Self.bind(statement, 11, stats.numerator)
        Self.bind(statement, 12, stats.denominator)
        if let sketch = stats.sketch, !sketch.isEmpty {
            writer.removeAll()
            sketch.encode(into: &writer)
            writer.bytes.withUnsafeBytes { raw in
                _ = sqlite3_bind_blob(statement, 13, raw.baseAddress, Int32(raw.count), SQLiteC.transient)
            }
        } else {
            Self.bindNull(statement, 13)
        }
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else { throw SQLiteC.error(code, connection) }
    }

    /// A double as SQLite stores it: NaN is NULL (as GRDB binds it), so a sum that is
    /// no number reads back as NULL.
    private static func bind(_ statement: SQLiteStatement, _ index: Int32, _ value: Double) {
        if value.isNaN {
            sqlite3_bind_null(statement, index)
        } else {
            sqlite3_bind_double(statement, index, value)
        }
    }

    private static func bindNull(_ statement: SQLiteStatement, _ index: Int32) {
        sqlite3_bind_null(statement, index)
    }

    /// The upsert of one rollup row into `table`, keyed by (`series`, `time`): counts
    /// and sums add, min and max widen, `last` keeps the later timestamp (the incoming
    /// one on a tie), sketches merge (`vigie_sketch_merge`).
    static func sql(table: String, time: String) -> String {
        let newer = "excluded.last_ts IS NOT NULL AND (last_ts IS NULL OR excluded.last_ts >= last_ts)"
        return """
            INSERT INTO \(table) (series, \(time), count, sum, min, max, last, last_ts, hits, num_count, num, den,
                sketch)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (series, \(time)) DO UPDATE SET
                count = count + excluded.count,
                sum = sum + excluded.sum,
                min = CASE WHEN min IS NULL OR excluded.min < min THEN excluded.min ELSE min END,
                max = CASE WHEN max IS NULL OR excluded.max > max THEN excluded.max ELSE max END,
                last = CASE WHEN \(newer) THEN excluded.last ELSE last END,
                last_ts = CASE WHEN \(newer) THEN excluded.last_ts ELSE last_ts END,
                hits = hits + excluded.hits,
                num_count = num_count + excluded.num_count,
                num = num + excluded.num,
                den = den + excluded.den,
                sketch = vigie_sketch_merge(sketch, excluded.sketch)
            """
    }
}
