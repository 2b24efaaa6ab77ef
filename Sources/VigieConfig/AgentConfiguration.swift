/// An agent's configuration (`vigie agent --config agent.toml`): where it spools, where
/// it forwards, what it listens on, which tags it adds and what it collects.
///
/// Every value has been validated by `ConfigLoader.loadAgent` (errors name file:line
/// and key), so the agent can use it as is.
public struct AgentConfiguration: Sendable, Equatable {
    /// `[agent]`: identity and upstream.
    public var name: String
    /// Producer id towards the daemon (stable across restarts). Default `agent-<name>`.
    public var producerID: String
    /// The daemon's acknowledged ingest endpoint. Default `tcp://127.0.0.1:7600`.
    public var upstream: String
    /// Batches in flight to the daemon (credit window). Default 64.
    public var window: Int
    /// Longest wait for an ACK before the connection is recreated and unacknowledged
    /// batches resent, ns. Default 5 s.
    public var ackTimeout: Int64
    /// Reconnect backoff: first and longest delay, ns. Defaults 500 ms and 30 s.
    public var backoffInitial: Int64
    public var backoffMax: Int64
    /// Tags added to every line that lacks them (`site`, `department`, `host`…), in
    /// this order.
    public var tags: [TagDefault]
    /// `server_key` and `key_file`: CURVE towards the daemon (SECURITY.md); nil: plain.
    public var upstreamCurve: CurveClientCredentials?

    /// `[spool]`
    public var spool: AgentSpoolConfiguration
    /// `[listen]`
    public var listen: AgentListenConfiguration
    /// `[[collector]]` tables, in file order.
    public var collectors: [CollectorConfiguration]
    /// The file it was loaded from, if any.
    public var sourcePath: String?

    /// A tag added to lines that do not carry it.
    public struct TagDefault: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(
        name: String = "agent",
        producerID: String? = nil,
        upstream: String = "tcp://127.0.0.1:7600",
        window: Int = 64,
        ackTimeout: Int64 = 5_000_000_000,
        backoffInitial: Int64 = 500_000_000,
        backoffMax: Int64 = 30_000_000_000,
        tags: [TagDefault] = [],
        spool: AgentSpoolConfiguration = AgentSpoolConfiguration(),
        listen: AgentListenConfiguration = AgentListenConfiguration(),
        collectors: [CollectorConfiguration] = [],
        sourcePath: String? = nil
    ) {
        self.name = name
        self.producerID = producerID ?? "agent-\(name)"
        self.upstream = upstream
        self.window = window
        self.ackTimeout = ackTimeout
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
        self.tags = tags
        self.spool = spool
        self.listen = listen
        self.collectors = collectors
        self.sourcePath = sourcePath
    }
}

/// `[spool]`: the agent's store-and-forward buffer on local disk.
public struct AgentSpoolConfiguration: Sendable, Equatable {
    /// Directory of the spool segments, the acknowledged position and the dead letters.
    /// Default `/var/lib/vigie-agent`.
    public var directory: String
    /// Most bytes kept; beyond, the oldest data is dropped and counted. Default 1 GiB.
    public var maxBytes: Int64
    /// Spool segment size (rotation), bytes. Default 16 MiB.
    public var segmentBytes: Int
    /// fsync policy of the spool (as the daemon's `fsync`): `batch` (default), `always`,
    /// `off`; `fsync_interval` default 5 ms.
    public var fsync: DaemonConfiguration.FsyncMode
    public var fsyncInterval: Int64

    public init(
        directory: String = "/var/lib/vigie-agent",
        maxBytes: Int64 = 1 << 30,
        segmentBytes: Int = 16 << 20,
        fsync: DaemonConfiguration.FsyncMode = .batch,
        fsyncInterval: Int64 = 5_000_000
    ) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        self.fsync = fsync
        self.fsyncInterval = fsyncInterval
    }
}

/// `[listen]`: where local scripts and producers reach the agent.
public struct AgentListenConfiguration: Sendable, Equatable {
    /// Acknowledged `VGI1` endpoints (ROUTER): an ipc socket in a 0750 runtime directory
    /// and loopback TCP. Defaults `ipc:///run/vigie-agent/ingest.sock`,
    /// `tcp://127.0.0.1:7700`.
    public var ingest: [String]
    /// Fire-and-forget endpoints (PULL). Default `tcp://127.0.0.1:7701`.
    public var push: [String]
    /// Status requests (ROUTER, JSON `{"op":"status"}`). Default `tcp://127.0.0.1:7703`.
    public var control: [String]

    public init(
        ingest: [String] = ["ipc:///run/vigie-agent/ingest.sock", "tcp://127.0.0.1:7700"],
        push: [String] = ["tcp://127.0.0.1:7701"],
        control: [String] = ["tcp://127.0.0.1:7703"]
    ) {
        self.ingest = ingest
        self.push = push
        self.control = control
    }
}

/// One `[[collector]]`: something the agent measures by itself every `interval`.
public struct CollectorConfiguration: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Runs `command` (argv); its stdout is line protocol. Killed after `timeout`.
        case exec(command: [String], timeout: Int64)
        /// Probes `url`: status, latency, TLS certificate days left (https).
        case http(url: String, timeout: Int64, expectStatus: Int?)
        /// Tails `path` (surviving rotation, remembering its offset): `format` `lines`
        /// (each line is line protocol) or `csv` mapped by `mapping`.
        case file(path: String, format: FileFormat)
    }

    /// How a tailed file's lines become samples.
    public enum FileFormat: Sendable, Equatable {
        /// Each line is line protocol.
        case lineProtocol
        /// CSV with a header row: `measurement` names the measurement; `tags` and
        /// `fields` list column names; `timestamp` names an optional column of RFC 3339
        /// or Unix seconds. `fieldNames` gives the field a column of `fields` is written
        /// as (`fields = { value = "attente_min" }`); a column not in it keeps its name.
        case csv(
            measurement: String,
            tags: [String],
            fields: [String],
            timestamp: String?,
            fieldNames: [String: String] = [:]
        )
    }

    /// Unique name: the `collector` tag of its health samples.
    public var name: String
    public var kind: Kind
    /// Time between two runs, ns (file collectors: between two reads). Default 60 s.
    public var interval: Int64

    public init(name: String, kind: Kind, interval: Int64 = 60_000_000_000) {
        self.name = name
        self.kind = kind
        self.interval = interval
    }
}
