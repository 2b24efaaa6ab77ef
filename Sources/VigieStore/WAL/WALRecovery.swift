#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replays the write-ahead log at startup and repairs its tail.
public enum WALRecovery {
    /// Reads every record ending after `lsn`, in LSN order, validating each (length,
    /// CRC-32C, body structure), and repairs what a crash or corruption left.
    ///
    /// - The last segment's torn or corrupt tail is cut (`ftruncate` + `fsync`) at the
    ///   end of its last valid record, and reported: that is a crash in the middle of a
    ///   write, or a bit flip; the records behind a flip cannot be trusted anyway.
    /// - Corruption in an earlier segment stops reading that segment at the bad record;
    ///   the rest of it is reported as lost and recovery continues with the next
    ///   segment, from its header's start LSN.
    /// - A segment with a bad header is renamed to `<name>.corrupt` (kept for
    ///   inspection) and reported. A last segment whose header was never completely
    ///   written (a crash while creating it) is removed.
    /// - Segments wholly before `lsn` (the next one starts at or before it) are skipped
    ///   unread.
    ///
    /// Each segment read is `fdatasync`ed first, and the directory after: records a
    /// crashed process left in the page cache are durable before they are replayed.
    ///
    /// Reads each segment whole into one reused buffer. Call before opening a
    /// ``WALWriter`` on the same directory, never while one runs.
    ///
    /// - Parameters:
    ///   - lsn: the checkpoint's LSN: records ending at or before it are not visited.
    ///   - visit: called for each record; the record is valid only during the call.
    ///     An error it throws stops recovery and is rethrown (nothing is repaired then).
    /// - Returns: what was read and repaired; a missing directory is an empty log.
    /// - Throws: ``StoreError`` on an I/O failure, or for a segment written by a newer
    ///   format version (move it away or upgrade); the visit closure's errors.
    public static func recover(
        directory: String,
        from lsn: UInt64 = 0,
        visit: (WALRecord) throws -> Void
    ) throws -> WALRecoveryReport {
        var report = WALRecoveryReport()
        report.endLSN = lsn
        var info = stat()
        if stat(directory, &info) != 0 {
            if errno == ENOENT { return report }
            throw StoreError(path: directory, operation: "stat", code: errno)
        }
        var directoryChanged = false
        let segments = try checkHeaders(directory: directory, report: &report, directoryChanged: &directoryChanged)
        let reader = SegmentBuffer()
        let frames = FrameIndex()
        var logEnd: UInt64 = 0
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            if !isLast, segments[index + 1].startLSN <= lsn { continue }
            report.endLSN = max(report.endLSN, segment.startLSN)
            // What a crashed vigied wrote may still be only in the page cache: make it
            // durable before anything read from it counts as durable (an ACK for a
            // resent batch, a checkpoint covering it).
            try syncSegment(segment.path)
            let size = try reader.load(segment.path)
            report.segments += 1
            let data = reader.bytes(size)
            var offset = WALFormat.segmentHeaderSize
            var failure: String?
            while offset < size {
                switch WALFormat.checkRecord(data, at: offset, frames: frames) {
                case .valid(let bodyLength):
                    let recordLSN = segment.startLSN + UInt64(offset - WALFormat.segmentHeaderSize)
                    let total = WALFormat.recordHeaderSize + bodyLength
                    if recordLSN + UInt64(total) > lsn {
                        let bodyStart = offset + WALFormat.recordHeaderSize
                        let body = UnsafeRawBufferPointer(rebasing: data[bodyStart..<(bodyStart + bodyLength)])
                        try visit(WALRecord(lsn: recordLSN, body: body, frames: frames))
                        report.records += 1
                        report.bytes += total
                    }
                    offset += total
                case .incomplete(let reason), .corrupt(let reason):
                    failure = reason
                }
                if failure != nil { break }
            }
            let end = segment.startLSN + UInt64(offset - WALFormat.segmentHeaderSize)
            report.endLSN = max(report.endLSN, end)
            logEnd = end
            guard let failure else { continue }
            let name = segment.name
            if isLast {
                try truncate(segment.path, to: offset)
                report.truncatedBytes += size - offset
                report.issues.append(
                    .init(file: name, offset: offset, reason: failure, bytes: size - offset, action: .truncated)
                )
            } else {
                report.lostBytes += size - offset
                report.issues.append(
                    .init(file: name, offset: offset, reason: failure, bytes: size - offset, action: .lost)
                )
                let next = segments[index + 1].startLSN
                if next != end {
                    report.issues.append(
                        .init(
                            file: segments[index + 1].name,
                            offset: 0,
                            reason: "LSN gap: segment starts at \(next), the previous one ends at \(end)",
                            bytes: 0,
                            action: .noted
                        )
                    )
                }
            }
        }
        if let last = segments.last, logEnd < lsn {
            report.issues.append(
                .init(
                    file: last.name,
                    offset: WALFormat.segmentHeaderSize + Int(logEnd - last.startLSN),
                    reason: "the log ends at LSN \(logEnd), before the requested start LSN \(lsn)"
                        + " (records the checkpoint covers were never synced?)",
                    bytes: 0,
                    action: .noted
                )
            )
        }
        // The segments' directory entries too (a crash right after a rotation).
        if directoryChanged || !segments.isEmpty { try SystemCalls.syncDirectory(directory) }
        return report
    }

    /// `fdatasync` of a segment through a read-only descriptor (Linux syncs the file's
    /// dirty pages whoever wrote them).
    private static func syncSegment(_ path: String) throws {
        let fd = try SystemCalls.openFile(path, O_RDONLY)
        defer { SystemCalls.closeFile(fd) }
        try SystemCalls.dataSync(fd, path: path)
    }

    /// Lists the segments and checks their headers; renames bad ones, removes a torn
    /// last one. Returns the segments to read.
    private static func checkHeaders(
        directory: String,
        report: inout WALRecoveryReport,
        directoryChanged: inout Bool
    ) throws -> [WALSegments.Segment] {
        let all = try WALSegments.list(directory: directory)
        var good: [WALSegments.Segment] = []
        for (index, segment) in all.enumerated() {
            report.endLSN = max(report.endLSN, segment.startLSN)
            let fd = try SystemCalls.openFile(segment.path, O_RDONLY)
            defer { SystemCalls.closeFile(fd) }
            let size = try SystemCalls.fileSize(fd, path: segment.path)
            var header = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            let got = try withUnsafeMutableBytes(of: &header) { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return try SystemCalls.readFully(fd, into: base, raw.count, at: 0, path: segment.path)
            }
            var check = withUnsafeBytes(of: header) {
                WALFormat.checkHeader(UnsafeRawBufferPointer(rebasing: $0[0..<got]))
            }
            if case .valid(let start) = check, start != segment.startLSN {
                check = .corrupt("header start LSN \(start) does not match the file name")
            }
            switch check {
            case .valid:
                good.append(segment)
            case .unsupported(let reason):
                throw StoreError(
                    path: segment.path,
                    operation: "recover WAL",
                    detail: "\(reason): written by a newer vigied? upgrade, or move the segment away"
                )
            case .torn where index == all.count - 1 && size <= WALFormat.segmentHeaderSize:
                // Created, header not (completely) written: a crash during rotation. Holds no record.
                if unlink(segment.path) != 0 { throw StoreError(path: segment.path, operation: "unlink", code: errno) }
                directoryChanged = true
                report.truncatedBytes += size
                report.issues.append(
                    .init(
                        file: segment.name,
                        offset: 0,
                        reason: "incomplete segment header (\(size) bytes), segment removed",
                        bytes: size,
                        action: .truncated
                    )
                )
            case .torn, .corrupt:
                let reason: String
                if case .corrupt(let why) = check { reason = why } else { reason = "zero-filled segment header" }
                if rename(segment.path, segment.path + ".corrupt") != 0 {
                    throw StoreError(path: segment.path, operation: "rename", code: errno)
                }
                directoryChanged = true
                report.lostBytes += size
                report.issues.append(
                    .init(file: segment.name, offset: 0, reason: reason, bytes: size, action: .renamed)
                )
            }
        }
        return good
    }

    private static func truncate(_ path: String, to length: Int) throws {
        let fd = try SystemCalls.openFile(path, O_WRONLY)
        defer { SystemCalls.closeFile(fd) }
        try SystemCalls.truncate(fd, to: length, path: path)
        try SystemCalls.fullSync(fd, path: path)
    }
}
