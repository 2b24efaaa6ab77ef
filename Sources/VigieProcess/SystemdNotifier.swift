import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// systemd's readiness protocol without libsystemd: one `AF_UNIX` datagram per state
/// change to the socket named by `$NOTIFY_SOCKET` (a path, or `@name` in the abstract
/// namespace), as `sd_notify(3)` sends it.
///
/// vigied sends `READY=1` once its endpoints are bound and recovery is done, `STATUS=…`
/// with the ingest rate and alerts, `WATCHDOG=1` from the engine thread (so a stuck
/// engine stops the pings and systemd restarts the service), `RELOADING=1` with
/// `MONOTONIC_USEC` then `READY=1` around a reload, and `STOPPING=1` on stop; the agent
/// the same from its loop thread (no reload).
///
/// Sends never block (`MSG_DONTWAIT`): a full or vanished socket loses a notification,
/// never stalls the engine. Thread-safe (the descriptor is only written to).
public final class SystemdNotifier: Sendable {
    private let fd: Int32
    /// `sockaddr_un.sun_path` bytes (a leading 0 for the abstract namespace).
    private let path: [UInt8]
    /// Half of `$WATCHDOG_USEC` (how often to ping), in nanoseconds; nil when systemd
    /// does not watch this process.
    public let watchdogPingInterval: UInt64?

    /// The notifier `environment` asks for, or nil when `NOTIFY_SOCKET` is unset or
    /// unusable (not under systemd: nothing to notify).
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let name = environment["NOTIFY_SOCKET"], name.count > 1 else { return nil }
        var bytes = Array(name.utf8)
        if bytes.first == UInt8(ascii: "@") {
            bytes[0] = 0
        } else if bytes.first != UInt8(ascii: "/") {
            return nil  // vsock and other address forms: not supported
        }
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        guard bytes.count < capacity else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.fd = fd
        self.path = bytes
        watchdogPingInterval = Self.watchdogInterval(environment)
    }

    deinit { close(fd) }

    /// A ping schedule for a loop thread: call ``pingIfDue()`` every turn.
    public struct WatchdogClock: Sendable {
        private var next: UInt64 = 0
        public init() {}

        /// Sends `WATCHDOG=1` when half `WATCHDOG_USEC` has passed since the last ping.
        public mutating func pingIfDue(_ notifier: SystemdNotifier?) {
            guard let notifier, let interval = notifier.watchdogPingInterval else { return }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let ns = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
            guard ns >= next else { return }
            notifier.notify("WATCHDOG=1")
            next = ns + interval
        }
    }

    /// `WATCHDOG_USEC` halved, if it is meant for this process (`WATCHDOG_PID` unset or ours).
    static func watchdogInterval(_ environment: [String: String]) -> UInt64? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], Int32(pid) != getpid() { return nil }
        return usec * 1_000 / 2
    }

    /// Sends `state` (newline-separated `KEY=value` assignments). Returns false if the
    /// datagram could not be sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)  // sun_path follows sun_family
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { body in
                    sendto(fd, body.baseAddress, body.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        return sent == bytes.count
    }

    /// `RELOADING=1` with the monotonic time systemd expects alongside it.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        notify("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }
}
