import Foundation

/// Polls `condition` every `pollMilliseconds` until it holds or `seconds` have passed;
/// returns its last value.
public func eventually(
    seconds: Double = 10,
    pollMilliseconds: UInt32 = 50,
    _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(pollMilliseconds * 1_000)
    }
    return try condition()
}

/// A TCP socket listening on 127.0.0.1 at a port the kernel chose (never accepting):
/// a peer that connects and then hears nothing, or, once closed, a free port number.
public struct LoopbackListener: ~Copyable {
    /// The socket's file descriptor.
    public let descriptor: Int32
    /// The port it listens on.
    public let port: Int

    /// Binds and listens, or throws with the errno.
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            let code = errno
            close(fd)
            throw HarnessError("no loopback listener: errno \(code)")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(descriptor)
    }
}
