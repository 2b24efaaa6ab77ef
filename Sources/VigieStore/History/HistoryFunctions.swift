import Foundation
import GRDB
import GRDBSQLite
import VigieCore

/// The SQL functions the history schema relies on, installed on every connection:
///
/// - `vigie_sketch_merge(a, b)`: the encoded merge of two encoded `QuantileSketch`es
///   (either may be NULL); used by the rollup upserts.
/// - `vigie_sketch_union(sketch)`: aggregate, the encoded merge of a column of
///   sketches (NULL when none); used by queries.
/// - `vigie_last(ts, value)`: aggregate, the `value` of the row with the greatest
///   `ts` (the later row on a tie), ignoring rows whose `ts` is NULL.
///
/// A sketch that does not decode counts as absent: history keeps answering, with the
/// quantiles of that row lost, rather than failing every later write or query.
enum HistoryFunctions {
    static func install(in db: Database) throws {
        try installSketchMerge(in: db)
        db.add(
            function: DatabaseFunction("vigie_sketch_union", argumentCount: 1, pure: true, aggregate: SketchUnion.self)
        )
        db.add(function: DatabaseFunction("vigie_last", argumentCount: 2, pure: true, aggregate: Last.self))
    }

    /// `vigie_sketch_merge`, registered through SQLite's C API: the history thread runs it
    /// for every quantile row of every round, and GRDB's `DatabaseFunction` boxes each
    /// argument into a `DatabaseValue` (a `Data` copy per blob). Here the blobs are
    /// decoded in place; a row that is new (no old sketch) keeps the incoming bytes.
    private static func installSketchMerge(in db: Database) throws {
        let connection = try SQLiteC.connection(of: db)
        let code = sqlite3_create_function_v2(
            connection,
            "vigie_sketch_merge",
            2,
            SQLITE_UTF8 | SQLITE_DETERMINISTIC,
            nil,
            { context, _, arguments in
                guard let context, let arguments else { return }
                HistoryFunctions.sketchMerge(context, old: arguments[0], new: arguments[1])
            },
            nil,
            nil,
            nil
        )
        guard code == SQLITE_OK else { throw SQLiteC.error(code, connection) }
    }

    /// The merge of the sketches in `old` and `new` as the function's result: NULL when
    /// neither decodes, the one that decodes when only one does.
    private static func sketchMerge(_ context: OpaquePointer, old: OpaquePointer?, new: OpaquePointer?) {
        let oldSketch = decode(old)
        guard var merged = oldSketch else {
            // A new row: the incoming bytes as they are, once they decode.
            if let new, decode(new) != nil {
                sqlite3_result_blob(context, sqlite3_value_blob(new), sqlite3_value_bytes(new), SQLiteC.transient)
            } else {
                sqlite3_result_null(context)
            }
            return
        }
        if let newSketch = decode(new) { merged.merge(newSketch) }
        var writer = BinaryWriter(capacity: 256)
        merged.encode(into: &writer)
        writer.bytes.withUnsafeBytes { raw in
            sqlite3_result_blob(context, raw.baseAddress, Int32(raw.count), SQLiteC.transient)
        }
    }

    /// The sketch in a blob argument, read in place; `nil` for NULL, a non-blob or bytes
    /// that do not decode.
    private static func decode(_ value: OpaquePointer?) -> QuantileSketch? {
        guard let value, sqlite3_value_type(value) == SQLITE_BLOB else { return nil }
        let count = Int(sqlite3_value_bytes(value))
        guard count > 0, let bytes = sqlite3_value_blob(value) else { return nil }
        var reader = BinaryReader(UnsafeRawBufferPointer(start: bytes, count: count))
        guard let sketch = try? QuantileSketch.decode(from: &reader), reader.isAtEnd else { return nil }
        return sketch
    }

    /// The sketch encoded in `value`, or `nil` for NULL or bytes that do not decode.
    static func decode(_ value: DatabaseValue) -> QuantileSketch? {
        guard let data = Data.fromDatabaseValue(value) else { return nil }
        return decode(data)
    }

    /// The sketch encoded in `data`, or `nil` when it does not decode.
    static func decode(_ data: Data) -> QuantileSketch? {
        data.withUnsafeBytes { buffer in
            var reader = BinaryReader(buffer)
            guard let sketch = try? QuantileSketch.decode(from: &reader), reader.isAtEnd else { return nil }
            return sketch
        }
    }

    static func encode(_ sketch: QuantileSketch) -> Data {
        var writer = BinaryWriter(capacity: 256)
        sketch.encode(into: &writer)
        return Data(writer.bytes)
    }

    /// `vigie_sketch_union`.
    struct SketchUnion: DatabaseAggregate {
        var sketch: QuantileSketch?

        init() {}

        mutating func step(_ values: [DatabaseValue]) throws {
            guard let other = HistoryFunctions.decode(values[0]) else { return }
            if sketch == nil {
                sketch = other
            } else {
                sketch?.merge(other)
            }
        }

        func finalize() throws -> (any DatabaseValueConvertible)? {
            sketch.map(HistoryFunctions.encode)
        }
    }

    /// `vigie_last`.
    struct Last: DatabaseAggregate {
        var ts = Int64.min
        var value: Double?

        init() {}

        mutating func step(_ values: [DatabaseValue]) throws {
            guard let t = Int64.fromDatabaseValue(values[0]), t >= ts else { return }
            ts = t
            value = Double.fromDatabaseValue(values[1])
        }

        func finalize() throws -> (any DatabaseValueConvertible)? {
            value
        }
    }
}
