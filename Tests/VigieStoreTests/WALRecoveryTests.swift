import Foundation
import Testing
import VigieStore

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WALRecoveryTests {
    enum Cut: CaseIterable {
        case insideBody
        case insideRecordHeader
    }

    /// A crash in the middle of a write: the last record is partial.
    @Test(arguments: Cut.allCases)
    func tornTailIsTruncatedAndTheLogContinues(cut: Cut) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 300, seed: 10)
        try dropEmptyTailSegments(dir.path)
        let last = try #require(written.last)
        let (segment, offset) = try locate(last.lsn, in: dir.path)
        #expect(offset > 32, "the torn record is not alone in its segment")
        let sizeBefore = fileSize(segment.path)
        truncateFile(segment.path, to: offset + (cut == .insideBody ? 20 : 5))

        let (read, report) = try recoverAll(dir.path)
        #expect(read == Array(written.dropLast()))
        #expect(report.endLSN == last.lsn)
        #expect(report.truncatedBytes == (cut == .insideBody ? 20 : 5))
        #expect(report.lostBytes == 0)
        #expect(report.issues.count == 1)
        #expect(report.issues.first?.action == .truncated)
        #expect(report.issues.first?.offset == offset)
        let reason = cut == .insideBody ? "truncated record" : "truncated record header"
        #expect(report.problems.first?.hasPrefix("\(segment.name):\(offset): \(reason)") == true, "\(report.problems)")
        #expect(fileSize(segment.path) == offset)
        #expect(sizeBefore > offset)

        // A second recovery finds nothing wrong; a new writer continues at endLSN.
        #expect(try recoverAll(dir.path).1.issues.isEmpty)
        let more = try writeRandomLog(dir.path, count: 50, seed: 11, startLSN: report.endLSN)
        let (all, second) = try recoverAll(dir.path)
        #expect(all == Array(written.dropLast()) + more)
        #expect(second.issues.isEmpty)
        #expect(more.first?.lsn == last.lsn)
    }

    /// A crash while creating a segment: its header is incomplete, it holds nothing.
    @Test func tornSegmentHeaderIsRemoved() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 200, seed: 12)
        try dropEmptyTailSegments(dir.path)
        let last = try #require(try WALSegments.list(directory: dir.path).last)
        let survivors = written.filter { $0.endLSN <= last.startLSN }
        truncateFile(last.path, to: 20)

        let (read, report) = try recoverAll(dir.path)
        #expect(read == survivors)
        #expect(report.endLSN == last.startLSN)
        #expect(report.truncatedBytes == 20)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.hasPrefix("\(last.name):0: incomplete segment header") == true)
        #expect(!fileExists(last.path))

        let more = try writeRandomLog(dir.path, count: 30, seed: 13, startLSN: report.endLSN)
        #expect(try recoverAll(dir.path).0 == survivors + more)
    }

    @Test func bitFlipInTheLastSegmentCutsTheTailThere() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 400, seed: 14, segmentBytes: 64 << 10)
        try dropEmptyTailSegments(dir.path)
        let last = try #require(try WALSegments.list(directory: dir.path).last)
        let inLast = written.indices.filter { written[$0].lsn >= last.startLSN }
        #expect(inLast.count > 10)
        let victim = inLast[inLast.count / 2]
        let (_, offset) = try locate(written[victim].lsn, in: dir.path)
        try patchFile(last.path) { $0[offset + 8 + 12] ^= 0x10 }  // a bit of the sequence number

        let (read, report) = try recoverAll(dir.path)
        #expect(read == Array(written[..<victim]))
        #expect(report.endLSN == written[victim].lsn)
        #expect(report.problems.first?.hasPrefix("\(last.name):\(offset): CRC mismatch (truncated") == true)
        #expect(report.truncatedBytes == Int(try #require(written.last).endLSN - written[victim].lsn))
        #expect(fileSize(last.path) == offset)
    }

    @Test func bitFlipInAMiddleSegmentLosesOnlyTheRestOfThatSegment() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 400, seed: 15, segmentBytes: 16 << 10)
        let segments = try WALSegments.list(directory: dir.path)
        #expect(segments.count > 5)
        let middle = segments[2]
        let next = segments[3]
        let inMiddle = written.indices.filter { written[$0].lsn >= middle.startLSN && written[$0].lsn < next.startLSN }
        #expect(inMiddle.count > 3)
        let victim = inMiddle[1]
        let (_, offset) = try locate(written[victim].lsn, in: dir.path)
        let sizeBefore = fileSize(middle.path)
        try patchFile(middle.path) { $0[offset + 8 + 12] ^= 0x01 }

        let (read, report) = try recoverAll(dir.path)
        let lost = Set(inMiddle.dropFirst())
        #expect(read == written.indices.filter { !lost.contains($0) }.map { written[$0] })
        #expect(report.lostBytes == sizeBefore - offset)
        #expect(report.truncatedBytes == 0)
        #expect(
            report.problems.first?.hasPrefix("\(middle.name):\(offset): CRC mismatch") == true,
            "\(report.problems)"
        )
        #expect(report.problems.first?.contains("LOST") == true)
        #expect(report.endLSN == written.last?.endLSN)
        #expect(fileSize(middle.path) == sizeBefore, "only the last segment is ever truncated")
    }

    @Test func corruptLengthFieldIsReported() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 50, seed: 16, segmentBytes: 1 << 20)
        let (segment, offset) = try locate(written[20].lsn, in: dir.path)
        try patchFile(segment.path) { $0[offset + 3] = 0x7F }  // length ≈ 2 GiB
        let (read, report) = try recoverAll(dir.path)
        #expect(read == Array(written[..<20]))
        #expect(
            report.problems.first?.hasPrefix("\(segment.name):\(offset): record length") == true,
            "\(report.problems)"
        )
    }

    @Test func malformedBodyWithAValidCRCIsCorruption() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, syncPolicy: .off)
        try writer.append(kind: .ingest, receivedAt: 1, sequence: 1, producer: [1], frames: [[1, 2]])
        try writer.append(kind: .ingest, receivedAt: 2, sequence: 2, producer: [1], frames: [[1, 2]])
        try writer.close()
        let path = dir.file("00000000000000000000.wal")
        // Second record: claim 2 frames in a body holding one, and fix the CRC.
        try patchFile(path) { bytes in
            let second = 32 + 8 + Int(bytes[32])
            let bodyLength = Int(bytes[second])
            bytes[second + 8 + 19] = 2
            let crc = CRC32C.checksum(bytes[(second + 8)..<(second + 8 + bodyLength)])
            for i in 0..<4 { bytes[second + 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * i)) }
        }
        let (read, report) = try recoverAll(dir.path)
        #expect(read.map(\.sequence) == [1])
        #expect(report.issues.first?.reason.contains("frame") == true, "\(report.problems)")
    }

    @Test func segmentWithABadHeaderIsRenamedAndSkipped() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 300, seed: 17, segmentBytes: 16 << 10)
        let segments = try WALSegments.list(directory: dir.path)
        let bad = segments[1]
        let badSize = fileSize(bad.path)
        try patchFile(bad.path) { $0[3] = 0x58 }  // magic "VIGXEWAL"

        let (read, report) = try recoverAll(dir.path)
        let skipped = written.filter { $0.lsn >= bad.startLSN && $0.lsn < segments[2].startLSN }
        #expect(!skipped.isEmpty)
        #expect(read == written.filter { !skipped.contains($0) })
        #expect(!fileExists(bad.path))
        #expect(fileExists(bad.path + ".corrupt"))
        #expect(report.lostBytes == badSize)
        #expect(
            report.problems == [
                "\(bad.name):0: bad magic (not a Vigie WAL segment) (segment renamed to \(bad.name).corrupt, \(badSize) bytes not replayed)"
            ]
        )
        #expect(try WALSegments.list(directory: dir.path).count == segments.count - 1)

        // A header whose CRC does not match is treated the same way.
        let other = segments[3]
        try patchFile(other.path) { $0[17] ^= 0x01 }
        let (_, second) = try recoverAll(dir.path)
        #expect(second.problems.first?.hasPrefix("\(other.name):0: segment header CRC mismatch") == true)
        #expect(fileExists(other.path + ".corrupt"))
    }

    @Test func newerFormatVersionStopsRecovery() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try writeRandomLog(dir.path, count: 5, seed: 18)
        let first = try #require(try WALSegments.list(directory: dir.path).first)
        try patchFile(first.path) { bytes in
            bytes[8] = 2
            let crc = CRC32C.checksum(bytes[0..<24])
            for i in 0..<4 { bytes[24 + i] = UInt8(truncatingIfNeeded: crc >> (8 * i)) }
        }
        let error = try #require(throws: StoreError.self) { try recoverAll(dir.path) }
        #expect(error.detail.contains("format version 2"))
        #expect(fileExists(first.path), "a newer segment is never renamed away")
    }

    @Test func visitErrorsStopRecovery() throws {
        struct Stop: Error {}
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try writeRandomLog(dir.path, count: 20, seed: 19)
        var seen = 0
        #expect(throws: Stop.self) {
            try WALRecovery.recover(directory: dir.path) { _ in
                seen += 1
                if seen == 7 { throw Stop() }
            }
        }
        #expect(seen == 7)
    }
}
