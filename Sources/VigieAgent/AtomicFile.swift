import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small durable file helpers for the agent's state and dead-letter files.
enum AtomicFile {
    /// Replaces `path` with `data` atomically and durably: writes `path.tmp`, `fsync`s
    /// it, renames it over `path`, then `fsync`s the directory.
    static func replace(_ path: String, with data: Data) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AgentError("open \(temporary): \(String(cString: strerror(errno)))") }
        var failure: String?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "write \(temporary): \(String(cString: strerror(errno)))"
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = "fsync \(temporary): \(String(cString: strerror(errno)))" }
        close(fd)
        if let failure {
            unlink(temporary)
            throw AgentError(failure)
        }
        guard rename(temporary, path) == 0 else {
            throw AgentError("rename \(temporary): \(String(cString: strerror(errno)))")
        }
        syncDirectory(of: path)
    }

    /// Appends `bytes` to `path` (created 0640 if missing) and `fsync`s it.
    static func append(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_CREAT | O_APPEND | O_WRONLY | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw AgentError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AgentError("write \(path): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw AgentError("fsync \(path): \(String(cString: strerror(errno)))") }
    }

    /// `fsync`s the directory holding `path` (best effort: a rename is durable only then).
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
