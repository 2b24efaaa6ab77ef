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
