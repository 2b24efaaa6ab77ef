#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-input reading and unbuffered writing on file descriptors.
enum StandardStreams {
    /// Why an input could not be read: the `strerror` text.
    struct ReadError: Error {
        var message: String
    }

    /// Every byte of `path`, or of standard input when `path` is `nil` or `-`.
    static func readAll(path: String?) throws(ReadError) -> [UInt8] {
        let fd: Int32
        if let path, path != "-" {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw ReadError(message: String(cString: strerror(errno))) }
        } else {
            fd = STDIN_FILENO
        }
        defer { if fd != STDIN_FILENO { close(fd) } }

        var bytes: [UInt8] = []
        let chunkSize = 1 << 16
        while true {
            let before = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: chunkSize))
            let n = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return read(fd, base + before, chunkSize)
            }
            if n < 0 {
                let code = errno
                bytes.removeLast(chunkSize)
                if code == EINTR { continue }
                throw ReadError(message: String(cString: strerror(code)))
            }
            bytes.removeLast(chunkSize - n)
            if n == 0 { return bytes }
        }
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and `EINTR`; gives up silently on other errors.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            guard var p = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                let n = write(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                p += n
                left -= n
            }
        }
    }

    /// Writes `text` to `fd`.
    static func writeAll(_ fd: Int32, _ text: String) {
        writeAll(fd, Array(text.utf8))
    }
}

/// Output collected in memory and written in large chunks.
struct BufferedOutput {
    let fd: Int32
    var bytes: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        bytes.reserveCapacity(1 << 16)
    }

    /// Writes the buffer out once it holds 64 KiB.
    mutating func flushIfFull() {
        if bytes.count >= 1 << 16 { flush() }
    }

    /// Writes the buffer out.
    mutating func flush() {
        if bytes.isEmpty { return }
        StandardStreams.writeAll(fd, bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
