import Foundation
import FuzzSupport
import VigieCore
import VigieStore

/// libFuzzer target: write-ahead log segments as `vigied` finds them at startup.
///
/// The input becomes one or two segment files in a fresh directory, then goes through
/// the daemon's startup: ``WALRecovery/recover(directory:from:visit:)`` (which repairs
/// the tail), each record replayed by the VigieCore decoders the daemon's replay calls
/// (line protocol under the ingest policy into the KPI engine, producers' anti-replay
/// windows, operator actions through ``OperatorRequest`` into the alert state, alert
/// transitions into history events; see `DaemonModel`), a checkpoint of the result, and
/// a ``WALWriter`` continuing the repaired log. ``WALTailReader`` (the history thread)
/// reads the same log.
///
/// Input: `flags`, `split` (u16 LE), `pick`, then the segment bytes.
/// - flags bit 0: repair checksums first (the segment header's CRC and each record's,
///   walking the length fields), so that mutations reach record bodies;
/// - bit 1: two segments, the first `split` bytes and the rest;
/// - bit 2: name each segment by the start LSN its header holds (else the first starts
///   at LSN 0 and the second right after the first's bytes, and with bit 0 the headers
///   are made to agree);
/// - `pick`: recovery from a checkpoint LSN, the end of record number `pick` (mod the
///   count + 1), must return exactly the records after it.
///
/// Invariants: every record returned is the bytes of a record in one of the files (its
/// length, CRC and body re-encode to them); in LSN order; the report accounts for every
/// byte; recovery is idempotent (a second run repairs nothing and returns the same
/// records); recovery from a record's end returns the records after it; the records
/// rewritten by a ``WALWriter`` read back the same; a writer opens at the reported end
/// LSN and what it appends is read back after the old records; the tail reader returns
/// a prefix of what recovery returned (all of it when recovery reported nothing); the
/// state replayed checkpoints and restores (unless a record was received before 1970:
/// only a forged log says so).
enum FuzzWAL {
    static let directory = Scratch.directory("wal")
    static let rewritten = Scratch.directory("wal-rewritten")

    /// A record as recovery returned it, copied out of the reader's buffer.
    struct Record: Equatable {
        var lsn: UInt64
        var kind: UInt8
        var receivedAt: Int64
        var sequence: UInt64
        var producer: [UInt8]
        var frames: [[UInt8]]

        init(_ record: WALRecord) {
            lsn = record.lsn
            kind = record.kindRaw
            receivedAt = record.receivedAt
            sequence = record.sequence
            producer = Array(record.producer)
            frames = (0..<record.frameCount).map { Array(record.frame($0)) }
            let end = record.endLSN
            precondition(end == lsn + UInt64(encoded.count), "endLSN \(end) disagrees with the record's size")
        }

        /// Length, CRC and body, as the log stores them.
        var encoded: [UInt8] {
            var body: [UInt8] = [kind]
            body.append(littleEndian: receivedAt)
            body.append(littleEndian: sequence)
            body.append(UInt8(producer.count))
            body += producer
            body.append(littleEndian: UInt32(frames.count))
            for frame in frames {
                body.append(littleEndian: UInt32(frame.count))
                body += frame
            }
            var bytes: [UInt8] = []
            bytes.append(littleEndian: UInt32(body.count))
            bytes.append(littleEndian: CRC32C.checksum(body))
            return bytes + body
        }

        var endLSN: UInt64 { lsn + UInt64(encoded.count) }

        /// The same record at another LSN (rewritten elsewhere).
        func moved(to lsn: UInt64) -> Record {
            var copy = self
            copy.lsn = lsn
            return copy
        }
    }

    struct Segment {
        var start: UInt64
        var bytes: [UInt8]
    }

    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 4 else { return }
        let flags = input[0]
        let repairing = flags & 1 != 0
        let named = flags & 4 != 0
        let split = Int(input[1]) | Int(input[2]) << 8
        let pick = Int(input[3])
        let rest = Array(input[4...])
        var files = flags & 2 != 0 ? [Array(rest.prefix(split)), Array(rest.dropFirst(split))] : [rest]

        var segments: [Segment] = []
        for (index, var bytes) in files.enumerated() {
            let start: UInt64
            if named {
                start = bytes.load(UInt64.self, at: 16) ?? UInt64(index)
            } else {
                start = index == 0 ? 0 : UInt64(max(1, files[0].count - WALFormat.segmentHeaderSize))
            }
            if repairing { repair(&bytes, start: start, setStart: !named) }
            guard !segments.contains(where: { $0.start == start }) else { continue }
            segments.append(Segment(start: start, bytes: bytes))
        }
        files = []
        Scratch.clear(directory)
        for segment in segments {
            Scratch.write(segment.bytes, to: directory + "/" + WALFormat.segmentFileName(startLSN: segment.start))
        }
        // Files not named as segments are left alone.
        let listed = Set(((try? WALSegments.list(directory: directory)) ?? []).map(\.startLSN))
        segments.removeAll { !listed.contains($0.start) }

        // Startup: recovery, replay (the model is made at the first record: most inputs have none).
        var model: DaemonModel?
        var records: [Record] = []
        let report: WALRecoveryReport
        do {
            report = try WALRecovery.recover(directory: directory, from: 0) { record in
                records.append(Record(record))
                let replica = model ?? DaemonModel()
                replica.replay(record)
                model = replica
            }
        } catch {
            return  // an I/O error, or a segment of a newer format: the daemon stops and says so
        }
        check(records, against: segments, report: report, contiguous: !named)

        // A second recovery repairs nothing and returns the same.
        guard let again = try? recover(from: 0) else { fatalError("invariant: second recovery throws") }
        guard again.records == records else { fatalError("invariant: second recovery returns other records") }
        for issue in again.report.issues where issue.action == .truncated || issue.action == .renamed {
            fatalError("invariant: second recovery repairs again: \(issue)")
        }

        // Recovery from a checkpoint taken after record `k`.
        let k = pick % (records.count + 1)
        if k > 0 {
            let from = records[k - 1].endLSN
            guard let partial = try? recover(from: from) else { fatalError("invariant: recovery from \(from) throws") }
            if !named {
                let expected = records.filter { $0.endLSN > from }
                guard partial.records == expected else {
                    fatalError(
                        "invariant: recovery from \(from) returns \(partial.records.count) records, not \(expected.count)"
                    )
                }
            }
            guard partial.report.endLSN >= from else { fatalError("invariant: end LSN before the start LSN") }
        }

        if !named { tail(records, report: report) }
        if !records.isEmpty { rewrite(records) }
        continueLog(records, report: report)

        // The state replayed: published, alerted on, checkpointed and restored.
        if let model {
            model.run(now: DaemonModel.now)
            // Times before 1970 come only from a forged log (the daemon logs its clock's).
            checkpointRoundTrip(model, mustRestore: records.allSatisfy { $0.receivedAt >= 0 })
        }
    }

    /// Makes the header CRC and every record CRC (following the length fields) match.
    static func repair(_ bytes: inout [UInt8], start: UInt64, setStart: Bool) {
        guard bytes.count >= WALFormat.segmentHeaderSize else { return }
        if setStart { bytes.store(start, at: 16) }
        bytes.store(CRC32C.checksum(bytes[0..<24]), at: 24)
        var offset = WALFormat.segmentHeaderSize
        while let length = bytes.load(UInt32.self, at: offset).map(Int.init),
            length <= bytes.count - offset - WALFormat.recordHeaderSize
        {
            let body = offset + WALFormat.recordHeaderSize
            bytes.store(CRC32C.checksum(bytes[body..<(body + length)]), at: offset + 4)
            offset = body + length
        }
    }

    static func recover(
        from lsn: UInt64,
        in directory: String = FuzzWAL.directory
    ) throws -> (records: [Record], report: WALRecoveryReport) {
        var records: [Record] = []
        let report = try WALRecovery.recover(directory: directory, from: lsn) { records.append(Record($0)) }
        return (records, report)
    }

    /// Records are bytes of the files, in order; the report adds up.
    static func check(_ records: [Record], against segments: [Segment], report: WALRecoveryReport, contiguous: Bool) {
        for (i, record) in records.enumerated() {
            let encoded = record.encoded
            let found = segments.contains { segment in
                guard segment.start <= record.lsn, record.lsn - segment.start <= UInt64(Int.max / 2) else {
                    return false
                }
                let offset = WALFormat.segmentHeaderSize + Int(record.lsn - segment.start)
                guard offset <= segment.bytes.count - encoded.count else { return false }
                return segment.bytes[offset..<(offset + encoded.count)].elementsEqual(encoded)
            }
            guard found else { fatalError("invariant: record \(i) at LSN \(record.lsn) is not in any segment file") }
            if contiguous, i > 0, record.lsn < records[i - 1].endLSN {
                fatalError("invariant: record \(i) at LSN \(record.lsn) overlaps the one before")
            }
        }
        let bytes = records.reduce(0) { $0 + $1.encoded.count }
        guard report.records == records.count, report.bytes == bytes else {
            fatalError("invariant: report says \(report.records) records, \(report.bytes) bytes")
        }
        if let last = records.last, report.endLSN < last.endLSN {
            fatalError("invariant: end LSN \(report.endLSN) before the last record's end \(last.endLSN)")
        }
        let total = segments.reduce(0) { $0 + $1.bytes.count }
        let accounted =
            report.bytes + report.truncatedBytes + report.lostBytes + report.segments * WALFormat.segmentHeaderSize
        guard accounted == total else {
            fatalError("invariant: \(total) bytes in the files, the report accounts for \(accounted)")
        }
    }

    /// The history thread's reader over the repaired log.
    static func tail(_ records: [Record], report: WALRecoveryReport) {
        let reader = WALTailReader(directory: directory, from: 0)
        var read: [Record] = []
        while reader.position < report.endLSN {
            let before = reader.position
            do {
                try reader.read(upTo: report.endLSN) { read.append(Record($0)) }
            } catch {
                break
            }
            if reader.position == before { break }
        }
        guard read.count <= records.count, read[...] == records.prefix(read.count) else {
            fatalError("invariant: the tail reader returns records recovery did not")
        }
        if report.issues.isEmpty, read.count != records.count {
            fatalError(
                "invariant: the tail reader stops after \(read.count) of \(records.count) records of a sound log"
            )
        }
    }

    /// The records written again by a writer (small segments, so it rotates) read back.
    static func rewrite(_ records: [Record]) {
        Scratch.clear(rewritten)
        var expected: [Record] = []
        do {
            let writer = try WALWriter(directory: rewritten, startLSN: 0, segmentBytes: 4_096, syncPolicy: .off)
            var lsn: UInt64 = 0
            for record in records {
                guard let kind = WALRecordKind(rawValue: record.kind) else { continue }
                try writer.append(
                    kind: kind,
                    receivedAt: record.receivedAt,
                    sequence: record.sequence,
                    producer: record.producer,
                    frames: record.frames
                )
                try writer.flush()
                expected.append(record.moved(to: lsn))
                lsn = expected[expected.count - 1].endLSN
            }
            try writer.close()
        } catch {
            fatalError("invariant: rewriting recovered records fails: \(error)")
        }
        guard let back = try? recover(from: 0, in: rewritten) else { fatalError("invariant: rewritten log unreadable") }
        guard back.records == expected, back.report.issues.isEmpty else {
            fatalError("invariant: a rewritten log reads back otherwise (\(back.report.problems))")
        }
    }

    /// The daemon's next step: a writer at the reported end appends after the old records.
    static func continueLog(_ records: [Record], report: WALRecoveryReport) {
        let line = Array("guichet_attente,service=etat-civil,site=nord value=12\n".utf8)
        let appended: UInt64
        do {
            let writer = try WALWriter(directory: directory, startLSN: report.endLSN, syncPolicy: .off)
            appended = try writer.append(
                kind: .push,
                receivedAt: DaemonModel.now,
                sequence: 0,
                producer: [],
                frames: [line]
            )
            try writer.close()
        } catch {
            fatalError("invariant: the writer does not open at the recovered end LSN \(report.endLSN): \(error)")
        }
        guard let after = try? recover(from: 0) else { fatalError("invariant: recovery after appending throws") }
        guard after.records.count == records.count + 1, after.records.dropLast() == records[...],
            after.records.last?.endLSN == appended, after.records.last?.frames == [line]
        else {
            fatalError("invariant: the appended record is not read back after the recovered ones")
        }
    }

    /// A checkpoint of the replayed state restores into a fresh model, which runs.
    /// (FuzzCheckpoint checks that checkpoints of restored states are stable.)
    static func checkpointRoundTrip(_ model: DaemonModel, mustRestore: Bool) {
        let restored = DaemonModel()
        do {
            try restored.restore(checkpoint: model.encodeCheckpoint())
        } catch {
            guard !mustRestore else {
                fatalError("invariant: the checkpoint of a replayed log does not restore: \(error)")
            }
            return
        }
        restored.run(now: DaemonModel.now + 1_000_000_000)
    }
}

/// libFuzzer's own entry point, for its `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzWAL.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
