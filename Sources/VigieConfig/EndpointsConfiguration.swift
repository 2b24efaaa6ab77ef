import Foundation

/// The `[endpoints]` table: the ZeroMQ endpoints each daemon socket binds to.
///
/// Each is a list, so one socket can listen on loopback TCP and on an ipc path at once.
/// Accepted forms: `tcp://host:port` (host `*`, a name, an IPv4 address or `[IPv6]`;
/// port 1–65535 or `*` for an ephemeral port), `ipc://path` and `inproc://name`.
/// An empty list leaves that socket unbound.
public struct EndpointsConfiguration: Sendable, Equatable {
    /// ROUTER for acknowledged ingest. Default `tcp://127.0.0.1:7600`.
    public var ingest: [String]
    /// PULL for fire-and-forget pushes. Default `tcp://127.0.0.1:7601`.
    public var push: [String]
    /// PUB of the live feed. Default `tcp://127.0.0.1:7602`.
    public var feed: [String]
    /// ROUTER of JSON control requests. Default `tcp://127.0.0.1:7603`.
    public var control: [String]
    /// Messages queued per feed subscriber (`feed_hwm`, the PUB socket's high-water
    /// mark). A subscriber that falls this far behind loses messages (it sees the gap in
    /// `seq`); the engine never waits for it and memory stays bounded. Default 10,000.
    public var feedHighWaterMark = 10_000
    /// Largest control request, bytes (`control_max_request`, the control sockets'
    /// `ZMQ_MAXMSGSIZE`): libzmq drops a peer that sends more. Default 1 MiB.
    public var controlMaxRequest = 1 << 20

    /// Creates an `[endpoints]` table; the defaults bind to loopback only (DESIGN.md).
    public init(
        ingest: [String] = ["tcp://127.0.0.1:7600"],
        push: [String] = ["tcp://127.0.0.1:7601"],
        feed: [String] = ["tcp://127.0.0.1:7602"],
        control: [String] = ["tcp://127.0.0.1:7603"]
    ) {
        self.ingest = ingest
        self.push = push
        self.feed = feed
        self.control = control
    }

    /// Every endpoint of every socket, in the order ingest, push, feed, control.
    public var all: [String] { ingest + push + feed + control }
}

extension EndpointsConfiguration {
    /// For `ipc://path`: creates the socket's directory, mode 0750, if it is missing (an
    /// existing directory is left as it is: systemd's `RuntimeDirectory=` or the admin's).
    /// Only the owner and its group can then reach the socket.
    public static func prepareIPCDirectory(_ endpoint: String) throws {
        guard endpoint.hasPrefix("ipc://") else { return }
        let path = String(endpoint.dropFirst("ipc://".count))
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) else { return }
        try FileManager.default.createDirectory(
            atPath: parent,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o750]
        )
    }
}
