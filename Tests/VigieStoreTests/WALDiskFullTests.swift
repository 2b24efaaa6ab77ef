import Foundation
import Testing
import VigieStore
import VigieTesting

#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs mounted for one test, unmounted by `unmount()`.
private struct SmallFileSystem {
    let path: String
    let parent: TemporaryDirectory

    /// Mounts a tmpfs of `size`; throws a message saying why it could not.
    init(size: String) throws {
        parent = try TemporaryDirectory("tmpfs")
        path = parent.path
        let status = Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        guard status == 0 else {
            parent.remove()
            throw MountError(reason: "mount -t tmpfs exited with status \(status)")
        }
    }

    func unmount() {
        if Self.run("/bin/umount", [path]) != 0 { _ = Self.run("/bin/umount", ["-l", path]) }
        parent.remove()
    }

    struct MountError: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite struct WALDiskFullTests {
    @Test(.disabled(if: geteuid() != 0, "mounting a small tmpfs needs root"))
    func fullDiskFailsTheFlushCleanlyAndIngestResumesWhenSpaceReturns() throws {
        let fs: SmallFileSystem
        do {
            fs = try SmallFileSystem(size: "256k")
        } catch {
            withKnownIssue("cannot mount a tmpfs here (\(error)): the full-disk path is untested") {
                Issue.record("\(error)")
            }
            return
        }
        defer { fs.unmount() }
        let walDirectory = fs.path + "/wal"
        let writer = try WALWriter(directory: walDirectory, startLSN: 0, syncPolicy: .always)
        var closed = false
        defer { if !closed { try? writer.close() } }
        var rng = SeededGenerator(seed: 40)
        var written: [RecordValue] = []
        for _ in 0..<10 {
            var record = RecordValue.random(using: &rng, maxFrames: 2, maxFrameBytes: 500)
            try record.write(to: writer)
            written.append(record)
        }
        let flushed = try writer.flush()
        let segment = try #require(try WALSegments.list(directory: walDirectory).first)
        let goodSize = fileSize(segment.path)

        // Fill the file system.
        let filler = fs.path + "/filler"
        let fd = open(filler, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        #expect(fd >= 0)
        let chunk = [UInt8](repeating: 0xEE, count: 4_096)
        var fillerBytes = 0
        while true {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            fillerBytes += n
        }
        close(fd)
        #expect(fillerBytes > 100_000)

        // Records that do not fit: the flush fails, nothing of them stays on disk.
        for _ in 0..<30 {
            var record = RecordValue.random(using: &rng, maxFrames: 3, maxFrameBytes: 1_000)
            try record.write(to: writer)
        }
        let error = try #require(throws: StoreError.self) { try writer.flush() }
        #expect(error.isOutOfSpace, "\(error)")
        #expect(error.path == segment.path)
        #expect(writer.flushedLSN == flushed)
        #expect(writer.nextLSN == flushed, "the failed records were discarded")
        #expect(writer.bufferedBytes == 0)
        #expect(fileSize(segment.path) == goodSize, "the partial write was truncated away")
        let (duringOutage, outageReport) = try recoverAll(walDirectory)
        #expect(duringOutage == written)
        #expect(outageReport.issues.isEmpty)

        // A second attempt while still full fails the same way.
        try writer.append(
            kind: .ingest,
            receivedAt: 1,
            sequence: 1,
            producer: [1],
            frames: [.init(repeating: 1, count: 16_384)]
        )
        #expect(throws: StoreError.self) { try writer.flush() }
        #expect(fileSize(segment.path) == goodSize)

        // Space returns: ingest resumes at the same LSN.
        #expect(unlink(filler) == 0)
        var resumed: [RecordValue] = []
        for _ in 0..<5 {
            var record = RecordValue.random(using: &rng, maxFrames: 3, maxFrameBytes: 1_000)
            try record.write(to: writer)
            resumed.append(record)
        }
        #expect(resumed.first?.lsn == flushed)
        let after = try writer.flush()
        writer.requestSync()
        #expect(waitReadable(writer.notificationFD, milliseconds: 5_000))
        #expect(writer.syncFailure == nil)
        try writer.close()
        closed = true
        #expect(writer.durableLSN == after)
        let (all, report) = try recoverAll(walDirectory)
        #expect(all == written + resumed)
        #expect(report.issues.isEmpty)
    }
}
