import Foundation
import Testing
import VigieStore
import VigieTesting

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WALSyncTests {
    static let policies: [WALSyncPolicy] = [.always, .batch(), .batch(intervalNanoseconds: 20_000_000)]

    /// Engine-style cycles: flush, requestSync, poll the notification descriptor, read durable.
    @Test(arguments: policies)
    func durableReachesFlushedAndSignals(policy: WALSyncPolicy) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, segmentBytes: 8_192, syncPolicy: policy)
        #expect(writer.durableLSN == 0)
        var rng = SeededGenerator(seed: 20)
        var written: [RecordValue] = []
        for _ in 0..<40 {
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                var record = RecordValue.random(using: &rng)
                try record.write(to: writer)
                written.append(record)
            }
            let flushed = try writer.flush()
            #expect(flushed == written.last?.endLSN)
            writer.requestSync()
            let deadline = Date().addingTimeInterval(5)
            while writer.durableLSN < flushed, Date() < deadline {
                _ = waitReadable(writer.notificationFD, milliseconds: 1_000)
                writer.drainNotification()
            }
            #expect(writer.durableLSN == flushed)
            #expect(writer.syncFailure == nil)
        }
        #expect(try WALSegments.list(directory: dir.path).count > 3, "rotations happened under the syncer")
        try writer.close()
        #expect(try recoverAll(dir.path).0 == written)
    }

    @Test func notificationFiresWithoutBusyWaiting() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, syncPolicy: .always)
        defer { try? writer.close() }
        #expect(!waitReadable(writer.notificationFD, milliseconds: 50), "nothing to sync yet")
        try writer.append(kind: .ingest, receivedAt: 1, sequence: 1, producer: [1], frames: [[1]])
        let flushed = try writer.flush()
        #expect(!waitReadable(writer.notificationFD, milliseconds: 50), "flush alone does not sync")
        writer.requestSync()
        #expect(waitReadable(writer.notificationFD, milliseconds: 5_000))
        writer.drainNotification()
        #expect(writer.durableLSN == flushed)
        #expect(!waitReadable(writer.notificationFD, milliseconds: 0), "drained")
        writer.requestSync()  // nothing new: no sync, no signal
        #expect(!waitReadable(writer.notificationFD, milliseconds: 50))
    }

    @Test func batchSyncsAtMostOncePerInterval() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let interval: UInt64 = 100_000_000
        let writer = try WALWriter(directory: dir.path, startLSN: 0, syncPolicy: .batch(intervalNanoseconds: interval))
        defer { try? writer.close() }
        try writer.append(kind: .ingest, receivedAt: 1, sequence: 1, producer: [1], frames: [[1]])
        let first = try writer.flush()
        let beforeFirstSync = Date()
        writer.requestSync()
        #expect(waitReadable(writer.notificationFD, milliseconds: 5_000))
        writer.drainNotification()
        #expect(writer.durableLSN == first)
        let start = Date()
        try writer.append(kind: .ingest, receivedAt: 2, sequence: 2, producer: [1], frames: [[2]])
        let second = try writer.flush()
        writer.requestSync()
        while writer.durableLSN < second, Date().timeIntervalSince(start) < 5 {
            _ = waitReadable(writer.notificationFD, milliseconds: 1_000)
            writer.drainNotification()
        }
        #expect(writer.durableLSN == second)
        // The first sync started after `beforeFirstSync`, the second one at least 100 ms later.
        #expect(Date().timeIntervalSince(beforeFirstSync) > 0.09, "the second sync waited for the interval")
    }

    @Test func offMakesFlushedDurableAtOnce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 100, segmentBytes: 4_096, syncPolicy: .off)
        var rng = SeededGenerator(seed: 21)
        for _ in 0..<200 {
            var record = RecordValue.random(using: &rng)
            try record.write(to: writer)
            #expect(writer.durableLSN < writer.nextLSN)
            let flushed = try writer.flush()
            #expect(writer.durableLSN == flushed)
        }
        writer.requestSync()
        #expect(waitReadable(writer.notificationFD, milliseconds: 0))
        writer.drainNotification()
        try writer.close()
        #expect(try recoverAll(dir.path).1.records == 200)
    }

    @Test func flushIsIdleWhenNothingIsBuffered() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try WALWriter(directory: dir.path, startLSN: 0, syncPolicy: .always)
        #expect(try writer.flush() == 0)
        try writer.close()
        try writer.close()
        #expect(throws: StoreError.self) { try writer.flush() }
    }

    @Test func deinitStopsTheSyncer() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for _ in 0..<20 {
            let writer = try WALWriter(directory: dir.path + "/\(UUID())", startLSN: 0, syncPolicy: .batch())
            try writer.append(kind: .push, receivedAt: 1, sequence: 0, producer: [], frames: [[1]])
            try writer.flush()
            writer.requestSync()
        }
        // Each writer was released without close(): deinit stopped and joined its thread
        // (a hang here would time the test out) and its records were flushed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 20)
    }
}
