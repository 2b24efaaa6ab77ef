import Foundation
import Testing
import VigieStore

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WALRoundTripTests {
    @Test func segmentNames() {
        #expect(WALFormat.segmentFileName(startLSN: 0) == "00000000000000000000.wal")
        #expect(WALFormat.segmentFileName(startLSN: 67_108_864) == "00000000000067108864.wal")
        #expect(WALFormat.segmentFileName(startLSN: .max) == "18446744073709551615.wal")
        #expect(WALFormat.startLSN(fileName: "00000000000067108864.wal") == 67_108_864)
        #expect(WALFormat.startLSN(fileName: "18446744073709551615.wal") == .max)
        #expect(WALFormat.startLSN(fileName: "18446744073709551616.wal") == nil)
        #expect(WALFormat.startLSN(fileName: "0000000000006710886.wal") == nil)
        #expect(WALFormat.startLSN(fileName: "00000000000067108864.wal.corrupt") == nil)
        #expect(WALFormat.startLSN(fileName: "0000000000006710886x.wal") == nil)
    }

    /// The header and first record, byte for byte, as docs/durability.md describes them.
    @Test func exactBytesOnDisk() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 4_096, syncPolicy: .off)
        let end = try writer.append(
            kind: .ingest,
            receivedAt: 0x0102_0304_0506_0708,
            sequence: 9,
            producer: Array("ab".utf8),
            frames: [[0xAA], []]
        )
        try writer.close()
        #expect(end == 4_096 + 8 + 22 + 2 + 5 + 4)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file("00000000000000004096.wal"))))
        var header: [UInt8] = Array("VIGIEWAL".utf8) + [1, 0, 0, 0] + [0, 0, 0, 0] + [0, 0x10, 0, 0, 0, 0, 0, 0]
        let headerCRC = CRC32C.checksum(header)
        header += withUnsafeBytes(of: headerCRC.littleEndian, Array.init) + [0, 0, 0, 0]
        let body: [UInt8] =
            [1] + [8, 7, 6, 5, 4, 3, 2, 1] + [9, 0, 0, 0, 0, 0, 0, 0] + [2, 0x61, 0x62] + [2, 0, 0, 0]
            + [1, 0, 0, 0, 0xAA] + [0, 0, 0, 0]
        let record =
            [UInt8(body.count), 0, 0, 0] + withUnsafeBytes(of: CRC32C.checksum(body).littleEndian, Array.init) + body
        #expect(bytes == header + record)
    }

    @Test func thousandsOfRandomRecordsAcrossSmallSegments() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 3_000, seed: 1)
        let segments = try WALSegments.list(directory: dir.path)
        #expect(segments.count > 100)
        let (read, report) = try recoverAll(dir.path)
        #expect(read == written)
        #expect(report.issues.isEmpty)
        #expect(report.records == 3_000)
        #expect(report.segments == segments.count)
        #expect(report.bytes == written.reduce(0) { $0 + $1.size })
        #expect(report.endLSN == written.last?.endLSN)
        #expect(read.first?.lsn == 0)
        for (previous, next) in zip(read, read.dropFirst()) { #expect(next.lsn == previous.endLSN) }
        for record in read { #expect(record.endLSN == record.lsn + UInt64(record.size)) }
        // Every segment starts at a record boundary (contiguous LSNs across segments).
        let boundaries = Set(read.map(\.lsn) + [report.endLSN])
        for segment in segments { #expect(boundaries.contains(segment.startLSN), "\(segment.name)") }
    }

    @Test func recoveryFromAnLSNInTheMiddle() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 2_000, seed: 2)
        let all = try WALSegments.list(directory: dir.path).count

        let boundary = written[1_200].endLSN
        let (fromBoundary, report) = try recoverAll(dir.path, from: boundary)
        #expect(fromBoundary == Array(written[1_201...]))
        #expect(report.segments < all / 2 + 2)
        #expect(report.endLSN == written.last?.endLSN)

        // An LSN inside record 1_500: that record ends after it, so it is replayed.
        let (fromInside, _) = try recoverAll(dir.path, from: written[1_500].lsn + 3)
        #expect(fromInside == Array(written[1_500...]))

        let (fromEnd, endReport) = try recoverAll(dir.path, from: written[1_999].endLSN)
        #expect(fromEnd.isEmpty)
        #expect(endReport.endLSN == written[1_999].endLSN)
    }

    @Test func emptyOrMissingLog() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (none, missing) = try recoverAll(dir.file("nope"), from: 77)
        #expect(none.isEmpty && missing.endLSN == 77 && missing.segments == 0)

        let writer = try WALWriter(directory: dir.file("wal/nested"), startLSN: 512, syncPolicy: .always)
        try writer.close()
        let (records, report) = try recoverAll(dir.file("wal/nested"))
        #expect(records.isEmpty)
        #expect(report.endLSN == 512)
        #expect(report.issues.isEmpty)
        // A header-only segment at the start LSN is replaced by a new writer.
        let again = try WALWriter(directory: dir.file("wal/nested"), startLSN: 512, syncPolicy: .off)
        try again.append(kind: .push, receivedAt: 1, sequence: 0, producer: [], frames: [[1, 2, 3]])
        try again.close()
        #expect(try recoverAll(dir.file("wal/nested")).0.count == 1)
    }

    @Test func recoveryFromPastTheEndNotesTheMissingRecords() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 10, seed: 5, segmentBytes: 1 << 20)
        let end = try #require(written.last).endLSN
        let (records, report) = try recoverAll(dir.path, from: end + 1_000)
        #expect(records.isEmpty)
        #expect(report.endLSN == end + 1_000)
        #expect(report.issues.map(\.action) == [.noted])
        #expect(report.problems.first?.contains("the log ends at LSN \(end), before") == true, "\(report.problems)")
        // The writer continues past the gap; readers see both sides.
        let more = try writeRandomLog(dir.path, count: 3, seed: 6, startLSN: report.endLSN)
        #expect(try recoverAll(dir.path).0 == written + more)
    }

    @Test func emptySegmentFileAtTheStartLSNIsReplaced() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fd = creat(dir.file("00000000000000000064.wal"), 0o644)
        #expect(fd >= 0)
        close(fd)
        let writer = try WALWriter(directory: dir.path, startLSN: 64, syncPolicy: .off)
        try writer.append(kind: .push, receivedAt: 0, sequence: 0, producer: [], frames: [[0x61]])
        try writer.close()
        #expect(try recoverAll(dir.path).0.map(\.lsn) == [64])
    }

    @Test func writerRefusesToOverwriteRecordsOrGoBackwards() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 20, seed: 3, segmentBytes: 1 << 20)
        #expect(throws: StoreError.self) { try WALWriter(directory: dir.path, startLSN: 0, syncPolicy: .off) }
        #expect(throws: StoreError.self) { try WALWriter(directory: dir.path, startLSN: 10, syncPolicy: .off) }
        #expect(try recoverAll(dir.path).0 == written)
    }

    @Test func unknownKindsArePassedThrough() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, syncPolicy: .off)
        try writer.append(kind: .operatorAction, receivedAt: 5, sequence: 0, producer: [], frames: [Array("{}".utf8)])
        try writer.append(kind: .alertTransition, receivedAt: 6, sequence: 0, producer: [], frames: [Array("[]".utf8)])
        try writer.close()
        // Rewrite the first record's kind to 200, with a matching CRC: what a newer daemon might write.
        try patchFile(dir.file("00000000000000000000.wal")) { bytes in
            let bodyLength = Int(bytes[32]) | Int(bytes[33]) << 8
            bytes[40] = 200
            let crc = CRC32C.checksum(bytes[40..<(40 + bodyLength)])
            for i in 0..<4 { bytes[36 + i] = UInt8(truncatingIfNeeded: crc >> (8 * i)) }
        }
        var kinds: [(UInt8, WALRecordKind?)] = []
        let report = try WALRecovery.recover(directory: dir.path) { kinds.append(($0.kindRaw, $0.kind)) }
        #expect(report.issues.isEmpty)
        #expect(kinds.map(\.0) == [200, 4])
        #expect(kinds.map(\.1) == [nil, .alertTransition])
    }

    @Test func appendRejectsOversizedInputAndStaysUsable() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, syncPolicy: .off)
        #expect(throws: StoreError.self) {
            try writer.append(
                kind: .ingest,
                receivedAt: 0,
                sequence: 1,
                producer: .init(repeating: 0x41, count: 129),
                frames: []
            )
        }
        let big = [UInt8](repeating: 7, count: 128 << 20)
        try writer.beginRecord(
            kind: .ingest,
            receivedAt: 0,
            sequence: 1,
            producer: UnsafeRawBufferPointer(start: nil, count: 0)
        )
        try big.withUnsafeBytes { try writer.appendFrame($0) }
        #expect(throws: StoreError.self) { try big.withUnsafeBytes { try writer.appendFrame($0) } }
        #expect(writer.bufferedBytes == 0 && writer.nextLSN == 0)
        let end = try writer.append(kind: .ingest, receivedAt: 0, sequence: 2, producer: [0x41], frames: [[1]])
        #expect(try writer.flush() == end)
        try writer.close()
        #expect(try recoverAll(dir.path).0.map(\.sequence) == [2])
    }

    @Test func deleteSegmentsRemovesOnlyCoveredSegments() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 600, seed: 4)
        let before = try WALSegments.list(directory: dir.path)
        let cut = written[300].endLSN
        let current = try #require(before.last).startLSN
        let removed = try WALSegments.deleteSegments(directory: dir.path, before: cut, keeping: current)
        let expected = zip(before, before.dropFirst()).filter { $0.1.startLSN <= cut }.map(\.0)
        #expect(removed == expected)
        #expect(!removed.isEmpty)
        let after = try WALSegments.list(directory: dir.path)
        #expect(after == Array(before.dropFirst(removed.count)))
        // Everything after the cut is still there.
        #expect(try recoverAll(dir.path, from: cut).0 == Array(written[301...]))

        // Never the writer's segment or later, never the newest.
        let keep = after[after.count / 2].startLSN
        try WALSegments.deleteSegments(directory: dir.path, before: .max, keeping: keep)
        #expect(try WALSegments.list(directory: dir.path).first?.startLSN == keep)
        try WALSegments.deleteSegments(directory: dir.path, before: .max, keeping: .max)
        #expect(try WALSegments.list(directory: dir.path) == [try #require(after.last)])
    }
}
