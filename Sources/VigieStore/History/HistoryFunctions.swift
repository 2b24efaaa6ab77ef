import Foundation
import GRDB
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
    static func install(in db: Database) {
        db.add(function: sketchMerge)
        db.add(
            function: DatabaseFunction("vigie_sketch_union", argumentCount: 1, pure: true, aggregate: SketchUnion.self)
        )
        db.add(function: DatabaseFunction("vigie_last", argumentCount: 2, pure: true, aggregate: Last.self))
    }

    private static let sketchMerge = DatabaseFunction("vigie_sketch_merge", argumentCount: 2, pure: true) { values in
        let old = decode(values[0])
        let new = decode(values[1])
        guard var merged = old else { return new.map(encode) }
        guard let new else { return encode(merged) }
        merged.merge(new)
        return encode(merged)
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
