import GRDB
import GRDBSQLite

/// What the history store's direct uses of SQLite's C API share (`RollupUpsert`, the
/// `vigie_sketch_merge` function): the hot paths GRDB's generic layer makes costly.
enum SQLiteC {
    /// `SQLITE_TRANSIENT`: SQLite copies the bytes before the call returns.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// The connection `db` wraps.
    ///
    /// - Throws: `DatabaseError` (`SQLITE_MISUSE`) when it is closed.
    static func connection(of db: Database) throws -> SQLiteConnection {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "history database is closed")
        }
        return connection
    }

    /// `code` as a `DatabaseError` with the connection's message (`SQLITE_FULL` stays
    /// recognizable: a full disk).
    static func error(_ code: Int32, _ connection: SQLiteConnection) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
    }
}
