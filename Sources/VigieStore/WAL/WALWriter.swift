#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends records to the write-ahead log (format: ``WALFormat``) and makes them durable
/// with group commit: the engine thread appends a turn's records, `flush()`es them in one
/// `pwrite` and `requestSync()`s; the writer's syncer thread `fdatasync`s and publishes
/// the durable LSN on ``notificationFD``. Policies, failures and why the published
/// durable LSN is true: docs/durability.md, "Writing and group commit".
public final class WALWriter {
    /// The log's directory.
    public let directory: String
    /// A segment is rotated once it holds at least this many bytes (header included).
    public let segmentBytes: Int
    /// The sync policy.
    public let syncPolicy: WALSyncPolicy

    /// End LSN of the last record written to a segment by ``flush()``.
    public private(set) var flushedLSN: UInt64
    /// End LSN of the last record appended (buffered or flushed).
    public private(set) var nextLSN: UInt64
    /// Start LSN of the segment being written (pass it to ``WALSegments/deleteSegments(directory:before:keeping:)``).
    public private(set) var currentSegmentStartLSN: UInt64
    /// Why the last attempt to open a new segment failed (the writer keeps appending to
    /// the old one and retries at the next flush); nil once rotation succeeds.
    public private(set) var rotationError: StoreError?

    private let syncer: WALSyncer
    private var currentFD: Int32
    private var currentPath: String
    /// Bytes of the current segment on disk (header included).
    private var fileLength: Int
    /// A failed flush could not truncate its partial write: truncate before the next write.
    private var tailNeedsTruncation = false
    private var closed = false

    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var count = 0
    private var recordStart = -1
    private var frameCountOffset = 0
    private var frameCount: UInt32 = 0
    private var lastRequested: UInt64

    /// Opens a new log segment starting at `startLSN`.
    ///
    /// Creates `directory` (and parents) if needed, then a fresh segment file named by
    /// `startLSN` (`O_CREAT|O_EXCL`; an existing file of that name is replaced only if it
    /// is empty or holds only a header), writes its header and, unless `syncPolicy` is
    /// `.off`, syncs it and the directory. Starts the syncer thread (not for `.off`).
    ///
    /// - Parameters:
    ///   - startLSN: where the log continues: ``WALRecoveryReport/endLSN`` of the
    ///     recovery that ran before, or 0 for a new log.
    ///   - segmentBytes: rotation threshold; records are never split, so a segment can
    ///     exceed it by one flush.
    /// - Throws: ``StoreError`` if the directory or segment cannot be created, or if the
    ///   log already holds bytes at or past `startLSN` (recovery was skipped, or the
    ///   LSN is wrong): the writer never overwrites records.
    ///   - syncObserver: told the duration (ns) of each sync cycle, on the syncer thread.
    public init(
        directory: String,
        startLSN: UInt64,
        segmentBytes: Int = 64 << 20,
        syncPolicy: WALSyncPolicy,
        syncObserver: (@Sendable (UInt64) -> Void)? = nil
    ) throws {
        self.directory = directory
        self.segmentBytes = max(segmentBytes, WALFormat.segmentHeaderSize + 1)
        self.syncPolicy = syncPolicy
        flushedLSN = startLSN
        nextLSN = startLSN
        lastRequested = startLSN
        currentSegmentStartLSN = startLSN

        let created = try SystemCalls.makeDirectories(directory)
        try Self.checkNoRecordsAfter(startLSN, in: directory)
        let (fd, path) = try Self.createSegment(directory: directory, startLSN: startLSN)
        do {
            if syncPolicy != .off {
                try SystemCalls.dataSync(fd, path: path)
                try SystemCalls.syncDirectory(directory)
                if created { try SystemCalls.syncDirectory(SystemCalls.parentDirectory(directory)) }
            }
            syncer = try WALSyncer(
                policy: syncPolicy,
                directory: directory,
                startLSN: startLSN,
                current: .init(fd: fd, path: path),
                observer: syncObserver
            )
        } catch {
            SystemCalls.closeFile(fd)
            throw error
        }
        currentFD = fd
        currentPath = path
        fileLength = WALFormat.segmentHeaderSize
        capacity = 1 << 20
        buffer = .allocate(byteCount: capacity, alignment: 16)
        if syncPolicy != .off { syncer.start() }
    }

    deinit {
        if !closed {
            syncer.stopAndJoin()
            syncer.closeAll()
        }
        buffer.deallocate()
    }

    // MARK: - Appending

    /// Starts a record in the buffer. Follow with any number of ``appendFrame(_:)`` and
    /// one ``endRecord()``.
    ///
    /// - Parameter producer: the producer id, copied (at most 128 bytes).
    /// - Throws: ``StoreError`` if `producer` is longer than 128 bytes (nothing is
    ///   appended).
    public func beginRecord(
        kind: WALRecordKind,
        receivedAt: Int64,
        sequence: UInt64,
        producer: UnsafeRawBufferPointer
    ) throws {
        precondition(recordStart < 0, "WALWriter.beginRecord while a record is open")
        guard producer.count <= WALFormat.maxProducerLength else {
            throw StoreError(
                path: currentPath,
                operation: "append",
                detail: "producer id of \(producer.count) bytes exceeds \(WALFormat.maxProducerLength)"
            )
        }
        reserve(WALFormat.recordHeaderSize + WALFormat.minBodySize + producer.count)
        recordStart = count
        let p = buffer + count
        p.storeBytes(of: kind.rawValue, toByteOffset: 8, as: UInt8.self)
        p.storeBytes(of: receivedAt.littleEndian, toByteOffset: 9, as: Int64.self)
        p.storeBytes(of: sequence.littleEndian, toByteOffset: 17, as: UInt64.self)
        p.storeBytes(of: UInt8(producer.count), toByteOffset: 25, as: UInt8.self)
        if let base = producer.baseAddress, !producer.isEmpty {
            (p + 26).copyMemory(from: base, byteCount: producer.count)
        }
        frameCountOffset = count + 26 + producer.count
        frameCount = 0
        count = frameCountOffset + 4
    }

    /// Appends one frame (copied) to the open record.
    ///
    /// - Throws: ``StoreError`` if the body would exceed 256 MiB; the open record is
    ///   then discarded (do not call ``endRecord()``).
    public func appendFrame(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(recordStart >= 0, "WALWriter.appendFrame without beginRecord")
        let bodySoFar = count - recordStart - WALFormat.recordHeaderSize
        guard bytes.count <= WALFormat.maxBodySize - 4 - bodySoFar else {
            count = recordStart
            recordStart = -1
            throw StoreError(path: currentPath, operation: "append", detail: "record body exceeds 256 MiB")
        }
        reserve(4 + bytes.count)
        (buffer + count).storeBytes(of: UInt32(bytes.count).littleEndian, as: UInt32.self)
        if let base = bytes.baseAddress, !bytes.isEmpty {
            (buffer + count + 4).copyMemory(from: base, byteCount: bytes.count)
        }
        count += 4 + bytes.count
        frameCount += 1
    }

    /// Closes the open record: writes its length and CRC.
    ///
    /// - Returns: the record's end LSN; it is durable once ``durableLSN`` reaches it.
    @discardableResult
    public func endRecord() -> UInt64 {
        precondition(recordStart >= 0, "WALWriter.endRecord without beginRecord")
        let bodyLength = count - recordStart - WALFormat.recordHeaderSize
        (buffer + frameCountOffset).storeBytes(of: frameCount.littleEndian, as: UInt32.self)
        let body = UnsafeRawBufferPointer(start: buffer + recordStart + WALFormat.recordHeaderSize, count: bodyLength)
        (buffer + recordStart).storeBytes(of: UInt32(bodyLength).littleEndian, as: UInt32.self)
        (buffer + recordStart + 4).storeBytes(of: CRC32C.checksum(body).littleEndian, as: UInt32.self)
        recordStart = -1
        nextLSN += UInt64(WALFormat.recordHeaderSize + bodyLength)
        return nextLSN
    }

    /// Appends a whole record (copies; allocates): for tests and rare records (operator
    /// actions, alert transitions).
    ///
    /// - Returns: the record's end LSN.
    @discardableResult
    public func append(
        kind: WALRecordKind,
        receivedAt: Int64,
        sequence: UInt64,
        producer: [UInt8],
        frames: [[UInt8]]
    ) throws -> UInt64 {
        try producer.withUnsafeBytes {
            try beginRecord(kind: kind, receivedAt: receivedAt, sequence: sequence, producer: $0)
        }
        for frame in frames { try frame.withUnsafeBytes { try appendFrame($0) } }
        return endRecord()
    }

    /// Bytes appended and not yet flushed.
    public var bufferedBytes: Int { recordStart >= 0 ? recordStart : count }

    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let newCapacity = max(capacity * 2, count + extra)
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        grown.copyMemory(from: buffer, byteCount: count)
        buffer.deallocate()
        buffer = grown
        capacity = newCapacity
    }

    // MARK: - Flushing and syncing

    /// Writes the buffered records to the current segment and rotates it if full.
    ///
    /// - Returns: ``flushedLSN``.
    /// - Throws: ``StoreError`` (``StoreError/isOutOfSpace`` for a full disk) if the write
    ///   failed: the segment is truncated back to its length before this flush, the
    ///   buffered records are discarded (``nextLSN`` returns to ``flushedLSN``) and
    ///   ``flushedLSN`` is unchanged. A later flush retries normally.
    @discardableResult
    public func flush() throws -> UInt64 {
        precondition(recordStart < 0, "WALWriter.flush while a record is open")
        guard !closed else { throw StoreError(path: currentPath, operation: "flush", detail: "WAL writer closed") }
        if count > 0 {
            do {
                if tailNeedsTruncation {
                    try SystemCalls.truncate(currentFD, to: fileLength, path: currentPath)
                    tailNeedsTruncation = false
                }
                try SystemCalls.writeAll(currentFD, buffer, count, at: fileLength, path: currentPath)
            } catch {
                if (try? SystemCalls.truncate(currentFD, to: fileLength, path: currentPath)) == nil {
                    tailNeedsTruncation = true
                }
                count = 0
                nextLSN = flushedLSN
                throw error
            }
            fileLength += count
            count = 0
            flushedLSN = nextLSN
            syncer.flushed.store(flushedLSN, ordering: .releasing)
            if syncPolicy == .off { syncer.durable.store(flushedLSN, ordering: .releasing) }
        }
        if fileLength >= segmentBytes, !tailNeedsTruncation { rotate() }
        return flushedLSN
    }

    /// Opens the next segment at ``flushedLSN`` and hands the old descriptor to the syncer.
    private func rotate() {
        let path: String
        let fd: Int32
        do {
            (fd, path) = try Self.createSegment(directory: directory, startLSN: flushedLSN)
        } catch {
            rotationError = error as? StoreError ?? StoreError(path: directory, operation: "rotate", detail: "\(error)")
            return
        }
        rotationError = nil
        let old = syncer.segments.withLock { state -> WALSyncer.SegmentFiles.File in
            let old = state.current
            state.current = .init(fd: fd, path: path)
            if syncPolicy != .off {
                state.retired.append(old)
                state.directoryDirty = true
            }
            return old
        }
        if syncPolicy == .off { SystemCalls.closeFile(old.fd) }
        currentFD = fd
        currentPath = path
        currentSegmentStartLSN = flushedLSN
        fileLength = WALFormat.segmentHeaderSize
    }

    /// Asks the syncer to make everything flushed durable. Cheap: an atomic store, plus
    /// one pipe write only when the syncer may be asleep. With `.off`, signals
    /// ``notificationFD`` at once (``durableLSN`` already equals ``flushedLSN``).
    public func requestSync() {
        guard flushedLSN > lastRequested else { return }
        lastRequested = flushedLSN
        if syncPolicy == .off {
            syncer.notify()
            return
        }
        syncer.requested.store(flushedLSN, ordering: .sequentiallyConsistent)
        syncer.wakeIfSleeping()
    }

    /// End LSN of the last record known durable under the sync policy. Thread-safe.
    public var durableLSN: UInt64 { syncer.durable.load(ordering: .acquiring) }

    /// The first `fdatasync` failure, or nil. Sticky: once set, ``durableLSN`` stops
    /// advancing for good (restart and recover). Thread-safe; takes a mutex.
    public var syncFailure: StoreError? { syncer.segments.withLock { $0.failure } }

    /// A non-blocking descriptor that becomes readable when ``durableLSN`` advances or a
    /// sync fails: add it to the engine's poll set, then ``drainNotification()``. Valid
    /// until ``close()`` (remove it from the poll set first).
    ///
    /// The read end of a pipe (Swift's Glibc module does not export `eventfd`); it
    /// behaves the same under `poll` and `zmq_poll`.
    public var notificationFD: Int32 { syncer.notifyRead }

    /// Clears ``notificationFD``'s readiness. Call before reading ``durableLSN``, so an
    /// advance after the read signals again.
    public func drainNotification() { syncer.drainNotification() }

    /// Flushes, syncs everything (unless `.off`), stops the syncer thread and closes
    /// every descriptor. Idempotent; the writer is unusable afterwards.
    ///
    /// - Throws: the flush's or the final sync's ``StoreError`` (the descriptors are
    ///   closed all the same).
    public func close() throws {
        guard !closed else { return }
        var firstError: (any Error)?
        do { try flush() } catch { firstError = error }
        syncer.stopAndJoin()
        if syncPolicy != .off {
            let target = syncer.flushed.load(ordering: .acquiring)
            if !syncer.syncCovering(target: target), firstError == nil {
                firstError = syncFailure
            }
        }
        syncer.closeAll()
        closed = true
        if let firstError { throw firstError }
    }

    // MARK: - Segment files

    /// Throws if the log already holds bytes at or after `startLSN` (a writer started
    /// without recovery, or at the wrong LSN, would overwrite or fork the log).
    private static func checkNoRecordsAfter(_ startLSN: UInt64, in directory: String) throws {
        guard let last = try WALSegments.list(directory: directory).last else { return }
        let hint = "run recovery and start the writer at its end LSN"
        guard last.startLSN <= startLSN else {
            throw StoreError(
                path: last.path,
                operation: "open WAL",
                detail: "segment starts after LSN \(startLSN); \(hint)"
            )
        }
        let fd = try SystemCalls.openFile(last.path, O_RDONLY)
        defer { SystemCalls.closeFile(fd) }
        let size = try SystemCalls.fileSize(fd, path: last.path)
        let end = UInt64(max(0, size - WALFormat.segmentHeaderSize)) + last.startLSN
        guard end <= startLSN else {
            throw StoreError(
                path: last.path,
                operation: "open WAL",
                detail: "the log holds bytes up to LSN \(end), past the start LSN \(startLSN); \(hint)"
            )
        }
    }

    /// Creates the segment file for `startLSN` and writes its header (no sync).
    static func createSegment(directory: String, startLSN: UInt64) throws -> (Int32, String) {
        let path = SystemCalls.join(directory, WALFormat.segmentFileName(startLSN: startLSN))
        let flags = O_CREAT | O_EXCL | O_WRONLY
        var fd: Int32
        do {
            fd = try SystemCalls.openFile(path, flags)
        } catch let error as StoreError where error.code == EEXIST {
            try replaceIfEmpty(path: path, startLSN: startLSN)
            fd = try SystemCalls.openFile(path, flags)
        }
        let header = WALFormat.header(startLSN: startLSN)
        do {
            try header.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                try SystemCalls.writeAll(fd, base, raw.count, at: 0, path: path)
            }
        } catch {
            SystemCalls.closeFile(fd)
            unlink(path)
            throw error
        }
        return (fd, path)
    }

    /// Unlinks an existing segment file that holds no record (empty, or a header only).
    private static func replaceIfEmpty(path: String, startLSN: UInt64) throws {
        let fd = try SystemCalls.openFile(path, O_RDONLY)
        defer { SystemCalls.closeFile(fd) }
        let size = try SystemCalls.fileSize(fd, path: path)
        var holdsRecords = size > WALFormat.segmentHeaderSize
        if size == WALFormat.segmentHeaderSize {
            var header = [UInt8](repeating: 0, count: size)
            let read = try header.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return try SystemCalls.readFully(fd, into: base, size, at: 0, path: path)
            }
            let check = header.withUnsafeBytes { WALFormat.checkHeader(UnsafeRawBufferPointer(rebasing: $0[0..<read])) }
            holdsRecords = !(check == .valid(startLSN: startLSN) || check == .torn)
        }
        guard !holdsRecords else {
            throw StoreError(
                path: path,
                operation: "create WAL segment",
                code: EEXIST,
                detail: "the segment already holds records; start the writer at the recovery's end LSN"
            )
        }
        if unlink(path) != 0 { throw StoreError(path: path, operation: "unlink", code: errno) }
    }
}
