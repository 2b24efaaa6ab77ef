#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one gate for the write-ahead log's system calls: retries `EINTR`, turns a
/// failure into a ``StoreError`` naming the file and the operation.
enum SystemCalls {
    static var errnoValue: Int32 { errno }

    /// Runs `call` until it does not fail with `EINTR`; throws on -1.
    @discardableResult
    static func retrying<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T) throws -> T {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw StoreError(path: path, operation: operation, code: code)
        }
    }

    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        try retrying("open", path) { open(path, flags | O_CLOEXEC, mode) }
    }

    static func closeFile(_ fd: Int32) {
        _ = close(fd)  // Linux: never retry close, the fd is gone either way.
    }

    /// Writes all of `count` bytes at `offset`, looping on partial writes.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, at offset: Int, path: String) throws {
        var done = 0
        while done < count {
            let n = try retrying("write", path) { pwrite(fd, bytes + done, count - done, off_t(offset + done)) }
            if n == 0 { throw StoreError(path: path, operation: "write", code: EIO, detail: "wrote 0 bytes") }
            done += n
        }
    }

    /// Reads up to `count` bytes at `offset`, stopping early only at end of file.
    static func readFully(
        _ fd: Int32,
        into buffer: UnsafeMutableRawPointer,
        _ count: Int,
        at offset: Int,
        path: String
    )
        throws -> Int
    {
        var done = 0
        while done < count {
            let n = try retrying("read", path) { pread(fd, buffer + done, count - done, off_t(offset + done)) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func fileSize(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        try retrying("fstat", path) { fstat(fd, &info) }
        return Int(info.st_size)
    }

    static func truncate(_ fd: Int32, to length: Int, path: String) throws {
        try retrying("ftruncate", path) { ftruncate(fd, off_t(length)) }
    }

    /// `fdatasync` (`fsync` where there is none). Never retried after a failure other
    /// than EINTR: the kernel may have dropped the dirty pages (fsyncgate).
    static func dataSync(_ fd: Int32, path: String) throws {
        #if os(Linux)
        try retrying("fdatasync", path) { fdatasync(fd) }
        #else
        try retrying("fsync", path) { fsync(fd) }
        #endif
    }

    static func fullSync(_ fd: Int32, path: String) throws {
        try retrying("fsync", path) { fsync(fd) }
    }

    /// Makes the directory entries of `path` durable (new, renamed or removed files).
    static func syncDirectory(_ path: String) throws {
        let fd = try retrying("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { closeFile(fd) }
        try fullSync(fd, path: path)
    }

    /// Creates `path` and missing parents (mode 0750); returns true if it created any.
    @discardableResult
    static func makeDirectories(_ path: String) throws -> Bool {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw StoreError(path: path, operation: "mkdir", code: ENOTDIR)
            }
            return false
        }
        let parent = parentDirectory(path)
        if parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o750) != 0, errno != EEXIST {
            throw StoreError(path: path, operation: "mkdir", code: errno)
        }
        return true
    }

    static func parentDirectory(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    /// The names in a directory (not `.` and `..`).
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw StoreError(path: path, operation: "opendir", code: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
