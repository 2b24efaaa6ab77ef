#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The segment files of a write-ahead log directory, and their removal once a
/// checkpoint covers them.
public enum WALSegments {
    /// One segment file, known by its name.
    public struct Segment: Sendable, Equatable, CustomStringConvertible {
        /// The LSN of its first record, from the file name.
        public var startLSN: UInt64
        /// The full path.
        public var path: String
        /// The file name, e.g. `00000000000000000000.wal`.
        public var name: String { WALFormat.segmentFileName(startLSN: startLSN) }

        /// The file name.
        public var description: String { name }
    }

    /// The segments of `directory` in LSN order. Other files (`.corrupt` segments kept
    /// for inspection, names beyond ``WALFormat/maxLSN``, anything else) are ignored.
    ///
    /// - Throws: ``StoreError`` if the directory cannot be read.
    public static func list(directory: String) throws -> [Segment] {
        try SystemCalls.listDirectory(directory)
            .compactMap { name in
                WALFormat.startLSN(fileName: name).flatMap {
                    $0 <= WALFormat.maxLSN ? Segment(startLSN: $0, path: SystemCalls.join(directory, name)) : nil
                }
            }
            .sorted { $0.startLSN < $1.startLSN }
    }

    /// Removes the segments all of whose records end at or before `lsn` (those the next
    /// segment starts at or before), oldest first, never the segment starting at
    /// `current` (the writer's) nor any later one, and never the newest segment.
    ///
    /// Call after a checkpoint covering `lsn` is durable. A reader still holding a
    /// removed segment open keeps reading it (POSIX unlink semantics).
    ///
    /// - Returns: the segments removed.
    /// - Throws: ``StoreError`` if listing or unlinking fails (segments removed before
    ///   the failure stay removed).
    @discardableResult
    public static func deleteSegments(
        directory: String,
        before lsn: UInt64,
        keeping current: UInt64
    ) throws
        -> [Segment]
    {
        let segments = try list(directory: directory)
        var removed: [Segment] = []
        for (index, segment) in segments.enumerated().dropLast() {
            let next = segments[index + 1]
            guard next.startLSN <= lsn, segment.startLSN < current else { break }
            if unlink(segment.path) != 0, errno != ENOENT {
                throw StoreError(path: segment.path, operation: "unlink", code: errno)
            }
            removed.append(segment)
        }
        if !removed.isEmpty { try SystemCalls.syncDirectory(directory) }
        return removed
    }
}
