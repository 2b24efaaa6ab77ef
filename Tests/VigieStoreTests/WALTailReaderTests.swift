import Foundation
import Synchronization
import Testing
import VigieStore
import VigieTesting

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WALTailReaderTests {
    @Test func followsAWriterThatRotates() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, segmentBytes: 4_096, syncPolicy: .off)
        let reader = WALTailReader(directory: dir.path, from: 0)
        var rng = SeededGenerator(seed: 30)
        var written: [RecordValue] = []
        var read: [RecordValue] = []
        for round in 0..<200 {
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                var record = RecordValue.random(using: &rng)
                try record.write(to: writer)
                written.append(record)
            }
            let limit = try writer.flush()
            // Sometimes a little at a time, sometimes everything.
            let max = round % 3 == 0 ? 1 : .max
            let position = try reader.read(upTo: limit, maxRecords: max) { read.append(RecordValue($0)) }
            #expect(position == reader.position)
            #expect(position <= limit)
        }
        while reader.position < writer.flushedLSN {
            try reader.read(upTo: writer.flushedLSN) { read.append(RecordValue($0)) }
        }
        try writer.close()
        #expect(read == written)
        #expect(try WALSegments.list(directory: dir.path).count > 20)
    }

    @Test func readsNothingAtOrBeyondTheLimit() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 30, seed: 31, segmentBytes: 1 << 20)
        let reader = WALTailReader(directory: dir.path, from: 0)
        var seen: [RecordValue] = []
        // A limit inside record 10: records 0…9 only.
        try reader.read(upTo: written[10].lsn + 5) { seen.append(RecordValue($0)) }
        #expect(seen == Array(written[..<10]))
        #expect(reader.position == written[10].lsn)
        try reader.read(upTo: written[29].endLSN) { seen.append(RecordValue($0)) }
        #expect(seen == written)
    }

    @Test func recordsLargerThanTheReadChunk() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, segmentBytes: 1 << 20, syncPolicy: .off)
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try writer.append(kind: .ingest, receivedAt: 1, sequence: 1, producer: [9], frames: [[1], big])
        try writer.append(kind: .ingest, receivedAt: 2, sequence: 2, producer: [9], frames: [[2]])
        let end = try writer.flush()
        try writer.close()
        let reader = WALTailReader(directory: dir.path, from: 0)
        var frames: [[UInt8]] = []
        try reader.read(upTo: end) { record in
            frames.append(contentsOf: (0..<record.frameCount).map { Array(record.frame($0)) })
        }
        #expect(frames == [[1], big, [2]])
    }

    @Test func concurrentReaderOnAnotherThread() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, segmentBytes: 8_192, syncPolicy: .always)
        final class Shared: Sendable {
            let published = Atomic<UInt64>(0)
            let finished = Atomic<Bool>(false)
            let result = Mutex<(sequences: [UInt64], error: String?)>(([], nil))
            let done = DispatchSemaphore(value: 0)
        }
        let shared = Shared()
        let path = dir.path
        let thread = Thread {
            let reader = WALTailReader(directory: path, from: 0)
            var sequences: [UInt64] = []
            do {
                while true {
                    let over = shared.finished.load(ordering: .acquiring)
                    let limit = shared.published.load(ordering: .acquiring)
                    try reader.read(upTo: limit) { sequences.append($0.sequence) }
                    if over, reader.position == limit { break }
                    usleep(200)
                }
            } catch {
                shared.result.withLock { $0.error = "\(error)" }
            }
            shared.result.withLock { $0.sequences = sequences }
            shared.done.signal()
        }
        thread.start()
        var rng = SeededGenerator(seed: 32)
        for sequence in 1...2_000 as ClosedRange<UInt64> {
            var record = RecordValue.random(using: &rng, maxFrames: 3, maxFrameBytes: 64)
            record.sequence = sequence
            try record.write(to: writer)
            if sequence % 7 == 0 {
                try writer.flush()
                writer.requestSync()
                writer.drainNotification()
                shared.published.store(writer.durableLSN, ordering: .releasing)
            }
        }
        try writer.close()
        shared.published.store(writer.durableLSN, ordering: .releasing)
        shared.finished.store(true, ordering: .releasing)
        shared.done.wait()
        let outcome = shared.result.withLock { $0 }
        #expect(outcome.error == nil)
        #expect(outcome.sequences == Array(1...2_000))
    }

    @Test func segmentsDeletedBehindTheReader() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 300, seed: 33)
        let end = try #require(written.last).endLSN
        let segments = try WALSegments.list(directory: dir.path)

        // A reader with its segment open keeps reading it after it is deleted.
        let reader = WALTailReader(directory: dir.path, from: 0)
        var seen: [RecordValue] = []
        try reader.read(upTo: end, maxRecords: 1) { seen.append(RecordValue($0)) }
        let cut = written[150].endLSN
        let removed = try WALSegments.deleteSegments(directory: dir.path, before: cut, keeping: .max)
        #expect(removed.first == segments.first)
        try reader.read(upTo: end, maxRecords: 2) { seen.append(RecordValue($0)) }
        #expect(seen == Array(written[..<3]))
        // …but the segments it has not reached yet are gone.
        let error = try #require(throws: StoreError.self) {
            try reader.read(upTo: end) { seen.append(RecordValue($0)) }
        }
        #expect(error.detail.contains("missing"), "\(error)")

        // A reader starting in a deleted segment gets a clear error.
        let late = WALTailReader(directory: dir.path, from: written[2].endLSN)
        let lateError = try #require(throws: StoreError.self) { try late.read(upTo: end) { _ in } }
        #expect(lateError.detail.contains("no segment holds LSN \(written[2].endLSN)"), "\(lateError)")

        // A reader starting after the cut reads the rest.
        let fresh = WALTailReader(directory: dir.path, from: cut)
        var rest: [RecordValue] = []
        try fresh.read(upTo: end) { rest.append(RecordValue($0)) }
        #expect(rest == Array(written[151...]))
    }

    @Test func corruptionBelowTheLimitIsAnError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let written = try writeRandomLog(dir.path, count: 20, seed: 34, segmentBytes: 1 << 20)
        let (segment, offset) = try locate(written[5].lsn, in: dir.path)
        try patchFile(segment.path) { $0[offset + 8 + 10] ^= 0x04 }
        let reader = WALTailReader(directory: dir.path, from: 0)
        var count = 0
        let error = try #require(throws: StoreError.self) {
            try reader.read(upTo: written[19].endLSN) { _ in count += 1 }
        }
        #expect(count == 5)
        #expect(reader.position == written[5].lsn)
        #expect(error.detail.contains("\(segment.name):\(offset): CRC mismatch"), "\(error)")
    }
}
