import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checkpoint files: the engine state as of a write-ahead-log position, written
/// atomically, so a restart replays only the log after it.
///
/// **File.** `<directory>/<20-digit decimal LSN>.checkpoint`: a 40-byte header — magic
/// `VIGIECKP`, u32 version (1), u32 flags (0), u64 LSN, u64 payload length, u32 CRC-32C
/// of the payload, u32 CRC-32C of the 36 bytes before it — then the payload (opaque
/// here; the daemon's sections). All integers little-endian.
///
/// **Atomicity.** `write` creates `.<name>.tmp`, writes and fsyncs it, renames it into
/// place and fsyncs the directory: a crash leaves either the previous set of
/// checkpoints or the new one complete, never a torn file under a checkpoint name. It
/// then deletes all but the newest `keep` checkpoints.
///
/// **Loading.** `loadNewest` tries checkpoints from the newest down and returns the
/// first whose header and CRCs check, listing every one it had to skip and why (an
/// unknown version written by a newer `vigied`, a corrupt file): recovery falls back to
/// the previous checkpoint and says so.
public struct CheckpointStore: Sendable {
    public static let magic: [UInt8] = Array("VIGIECKP".utf8)
    public static let version: UInt32 = 1
    static let headerSize = 40

    public let directory: String
    /// Checkpoints kept after a write (at least 1).
    public let keep: Int

    public init(directory: String, keep: Int = 2) {
        self.directory = directory
        self.keep = Swift.max(1, keep)
    }

    /// A checkpoint read back.
    public struct Loaded: Sendable {
        /// WAL position the state covers: replay the log from here.
        public var lsn: UInt64
        public var payload: [UInt8]
        public var path: String
    }

    /// File name of the checkpoint at `lsn`.
    public static func fileName(lsn: UInt64) -> String {
        let digits = String(lsn)
        return String(repeating: "0", count: Swift.max(0, 20 - digits.count)) + digits + ".checkpoint"
    }

    /// LSNs of the checkpoint files present, ascending.
    public func list() -> [UInt64] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.compactMap { name -> UInt64? in
            guard name.hasSuffix(".checkpoint"), !name.hasPrefix(".") else { return nil }
            return UInt64(name.dropLast(".checkpoint".count))
        }.sorted()
    }

    /// Writes a checkpoint of `payload` at `lsn` atomically, then prunes old ones.
    /// Returns the bytes written.
    @discardableResult
    public func write(lsn: UInt64, payload: [UInt8]) throws -> Int {
        // A directory created now must survive a power cut with the file in it: its
        // entry in the parent is synced too.
        if try SystemCalls.makeDirectories(directory) {
            try Self.syncDirectory(SystemCalls.parentDirectory(directory))
        }
        let name = Self.fileName(lsn: lsn)
        let final = directory + "/" + name
        let temp = directory + "/." + name + ".tmp"
        var header = [UInt8]()
        header.reserveCapacity(Self.headerSize)
        header += Self.magic
        Self.append(&header, Self.version)
        Self.append(&header, UInt32(0))
        Self.append(&header, lsn)
        Self.append(&header, UInt64(payload.count))
        payload.withUnsafeBytes { Self.append(&header, CRC32C.checksum($0)) }
        header.withUnsafeBytes { Self.append(&header, CRC32C.checksum($0)) }

        let fd = open(temp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw StoreError(path: temp, operation: "create checkpoint", code: errno) }
        do {
            try Self.writeAll(fd, header, path: temp)
            try Self.writeAll(fd, payload, path: temp)
            guard fsync(fd) == 0 else { throw StoreError(path: temp, operation: "fsync checkpoint", code: errno) }
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        close(fd)
        guard rename(temp, final) == 0 else {
            let code = errno
            unlink(temp)
            throw StoreError(path: final, operation: "rename checkpoint", code: code)
        }
        try Self.syncDirectory(directory)
        for old in list().dropLast(keep) {
            unlink(directory + "/" + Self.fileName(lsn: old))
        }
        return header.count + payload.count
    }

    /// The newest checkpoint that reads back intact, and a line per checkpoint skipped.
    public func loadNewest() -> (checkpoint: Loaded?, problems: [String]) {
        var problems: [String] = []
        for lsn in list().reversed() {
            let path = directory + "/" + Self.fileName(lsn: lsn)
            do {
                return (try load(path: path), problems)
            } catch {
                problems.append("\(error)")
            }
        }
        return (nil, problems)
    }

    /// Reads and checks one checkpoint file.
    public func load(path: String) throws -> Loaded {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(path: path, operation: "read checkpoint", code: errno)
        }
        let bytes = [UInt8](data)
        func corrupt(_ detail: String) -> StoreError {
            StoreError(path: path, operation: "read checkpoint", detail: detail)
        }
        guard bytes.count >= Self.headerSize else { throw corrupt("shorter than its header (\(bytes.count) bytes)") }
        guard Array(bytes[0..<8]) == Self.magic else { throw corrupt("not a checkpoint (bad magic)") }
        return try bytes.withUnsafeBytes { raw in
            let version = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
            let lsn = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian
            let length = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self).littleEndian
            let payloadCRC = raw.loadUnaligned(fromByteOffset: 32, as: UInt32.self).littleEndian
            let headerCRC = raw.loadUnaligned(fromByteOffset: 36, as: UInt32.self).littleEndian
            guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<36])) == headerCRC else {
                throw corrupt("header CRC mismatch")
            }
            guard version == Self.version else {
                throw corrupt("unknown checkpoint version \(version) (written by a newer vigied?)")
            }
            // No flag is defined: one set means a format this vigied does not know.
            let flags = raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian
            guard flags == 0 else { throw corrupt("unknown checkpoint flags \(flags) (written by a newer vigied?)") }
            guard length == UInt64(bytes.count - Self.headerSize) else {
                throw corrupt("payload is \(bytes.count - Self.headerSize) bytes, header says \(length)")
            }
            let payload = UnsafeRawBufferPointer(rebasing: raw[Self.headerSize...])
            guard CRC32C.checksum(payload) == payloadCRC else { throw corrupt("payload CRC mismatch") }
            // The log restarts after it: an LSN no log can reach would overflow the writer.
            guard lsn <= WALFormat.maxLSN else { throw corrupt("LSN \(lsn) is beyond any log") }
            return Loaded(lsn: lsn, payload: Array(payload), path: path)
        }
    }

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError(path: path, operation: "write checkpoint", code: errno)
                }
                offset += n
            }
        }
    }

    /// fsyncs a directory so a rename or a new file in it survives a power cut.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(path: path, operation: "open directory", code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError(path: path, operation: "fsync directory", code: errno) }
    }
}
