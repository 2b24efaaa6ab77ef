#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows the write-ahead log while a ``WALWriter`` appends to it: for a thread other
/// than the engine's (the history writer), reading only what the engine reports durable.
///
/// Opens segments read-only, reads in chunks into a reused buffer, moves to the next
/// segment when one is exhausted. A segment deleted (by
/// ``WALSegments/deleteSegments(directory:before:keeping:)``) while open is still read
/// to its end; one deleted before the reader got to it is an error. Not thread-safe:
/// create and use it on one thread.
public final class WALTailReader {
    /// The log's directory.
    public let directory: String
    /// The LSN of the next record to read.
    public private(set) var position: UInt64
    private var fd: Int32 = -1
    private var segmentStart: UInt64 = 0
    private var segmentPath = ""
    private let buffer = SegmentBuffer(capacity: 1 << 20)
    private var chunk = 1 << 20
    private let frames = FrameIndex()

    /// A reader positioned at `lsn`, which must be a record boundary (a record's end
    /// LSN, or the start of the log). Opens nothing until the first read.
    public init(directory: String, from lsn: UInt64) {
        self.directory = directory
        position = lsn
    }

    deinit { close() }

    /// Closes the open segment; a later read reopens where it left off.
    public func close() {
        if fd >= 0 { SystemCalls.closeFile(fd) }
        fd = -1
    }

    /// Moves to `lsn` (a record boundary): to read again after a failed consumer write,
    /// or past a gap.
    public func seek(to lsn: UInt64) {
        close()
        position = lsn
    }

    /// The start of the first segment after ``position``, if any: where to resume when
    /// the records at ``position`` are gone (deleted, or cut short by recovery).
    public func nextSegmentStart() throws -> UInt64? {
        try WALSegments.list(directory: directory).first { $0.startLSN > position }?.startLSN
    }

    /// Visits the complete records in [``position``, `limit`), at most `maxRecords` of
    /// them, and advances past them.
    ///
    /// - Parameters:
    ///   - limit: read nothing at or beyond this LSN: the writer's ``WALWriter/durableLSN``
    ///     (or its flushed LSN), so every record below it is complete on disk.
    ///   - visit: called for each record; the record is valid only during the call. If it
    ///     throws, the error is rethrown and ``position`` stays at that record.
    /// - Returns: the new ``position``.
    /// - Throws: ``StoreError`` if the segment holding ``position`` is gone, a segment
    ///   header is bad, or a record below `limit` is corrupt (`file:offset: reason`).
    @discardableResult
    public func read(upTo limit: UInt64, maxRecords: Int = .max, visit: (WALRecord) throws -> Void) throws -> UInt64 {
        var delivered = 0
        while position < limit, delivered < maxRecords {
            if fd < 0 { try openSegment(containing: position) }
            let fileOffset = WALFormat.segmentHeaderSize + Int(position - segmentStart)
            let want = Int(min(limit - position, UInt64(chunk)))
            buffer.reserve(want)
            let got = try SystemCalls.readFully(fd, into: buffer.base, want, at: fileOffset, path: segmentPath)
            if got == 0 {
                guard try moveToNextSegment(limit: limit) else { break }
                continue
            }
            let data = buffer.bytes(got)
            var offset = 0
            records: while offset < got, delivered < maxRecords {
                switch WALFormat.checkRecord(data, at: offset, frames: frames) {
                case .valid(let bodyLength):
                    let bodyStart = offset + WALFormat.recordHeaderSize
                    let body = UnsafeRawBufferPointer(rebasing: data[bodyStart..<(bodyStart + bodyLength)])
                    try visit(WALRecord(lsn: position, body: body, frames: frames))
                    let total = WALFormat.recordHeaderSize + bodyLength
                    position += UInt64(total)
                    offset += total
                    delivered += 1
                case .incomplete(let reason):
                    guard offset == 0 else { break records }
                    // Not one whole record in the chunk: the record is larger than the
                    // chunk, crosses `limit`, or the file ends inside it.
                    let needed = got < WALFormat.recordHeaderSize ? WALFormat.recordHeaderSize : recordSize(data)
                    if position + UInt64(needed) > limit { return position }
                    if got < want {
                        throw corruption(fileOffset, "segment ends inside a record below the limit: \(reason)")
                    }
                    chunk = max(chunk, needed)
                    break records
                case .corrupt(let reason):
                    throw corruption(fileOffset + offset, reason)
                }
            }
        }
        return position
    }

    private func recordSize(_ data: UnsafeRawBufferPointer) -> Int {
        WALFormat.recordHeaderSize + Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
    }

    private func corruption(_ offset: Int, _ reason: String) -> StoreError {
        StoreError(
            path: segmentPath,
            operation: "read WAL",
            detail: "\(WALFormat.segmentFileName(startLSN: segmentStart)):\(offset): \(reason)"
        )
    }

    private func openSegment(containing lsn: UInt64) throws {
        let segments = try WALSegments.list(directory: directory)
        guard let index = segments.lastIndex(where: { $0.startLSN <= lsn }) else {
            let oldest =
                segments.first.map { "the oldest segment starts at LSN \($0.startLSN)" } ?? "there is no segment"
            throw StoreError(
                path: directory,
                operation: "read WAL",
                detail: "no segment holds LSN \(lsn) (deleted before it was read?); \(oldest)"
            )
        }
        try open(segments[index])
        let size = try SystemCalls.fileSize(fd, path: segmentPath)
        if index + 1 < segments.count, WALFormat.segmentHeaderSize + Int(lsn - segmentStart) > size {
            close()
            throw StoreError(
                path: directory,
                operation: "read WAL",
                detail: "the segment holding LSN \(lsn) is gone (\(segments[index].name) ends before it)"
            )
        }
    }

    /// At the end of the open segment: opens the next one if it exists and starts below
    /// `limit`. Returns false if there is none yet.
    private func moveToNextSegment(limit: UInt64) throws -> Bool {
        let segments = try WALSegments.list(directory: directory)
        guard let next = segments.first(where: { $0.startLSN > segmentStart }), next.startLSN < limit else {
            return false
        }
        guard next.startLSN == position else {
            throw StoreError(
                path: directory,
                operation: "read WAL",
                detail: "LSNs \(position)..<\(next.startLSN) are missing (a segment was deleted before it was read, "
                    + "or recovery cut one short); restart the reader at \(next.startLSN) to skip them"
            )
        }
        close()
        try open(next)
        return true
    }

    private func open(_ segment: WALSegments.Segment) throws {
        let newFD = try SystemCalls.openFile(segment.path, O_RDONLY)
        var header = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        do {
            let got = try withUnsafeMutableBytes(of: &header) { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return try SystemCalls.readFully(newFD, into: base, raw.count, at: 0, path: segment.path)
            }
            let check = withUnsafeBytes(of: header) {
                WALFormat.checkHeader(UnsafeRawBufferPointer(rebasing: $0[0..<got]))
            }
            guard check == .valid(startLSN: segment.startLSN) else {
                throw StoreError(path: segment.path, operation: "read WAL", detail: "bad segment header: \(check)")
            }
        } catch {
            SystemCalls.closeFile(newFD)
            throw error
        }
        fd = newFD
        segmentStart = segment.startLSN
        segmentPath = segment.path
    }
}
