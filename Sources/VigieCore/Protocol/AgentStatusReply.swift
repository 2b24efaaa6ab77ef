/// The reply of `vigie-agent` to `{"op":"status"}` on its control socket: spool,
/// forwarding and collectors. The members `vigie agent status` reads are typed;
/// ``members`` keeps every member as sent (`ok` aside), which that command lists.
/// Read it with ``ControlReply/decode(_:from:)``, as a daemon's reply.
public struct AgentStatusReply: Codable, Equatable, Sendable {
    /// The agent's name (`[agent] name`).
    public var agent: String
    /// The producer id it forwards under.
    public var producer: String
    /// The daemon's ingest endpoint.
    public var upstream: String
    /// True while the forwarder holds a WELCOMEd connection to the daemon.
    public var connected: Bool
    /// Batches spooled and not yet acknowledged by the daemon.
    public var spoolUnsentRecords: UInt64
    /// When the daemon last acknowledged a batch (ISO 8601); nil before the first.
    public var lastAck: String?
    /// Each collector's state, by name.
    public var collectors: [String: Collector]
    /// Every member of the reply but `ok`, as sent.
    public var members: [String: JSONValue]

    /// A collector's state.
    public struct Collector: Codable, Equatable, Sendable {
        public var name: String
        /// `exec`, `http` or `file`.
        public var kind: String
        /// Time between two runs, ms.
        public var intervalMilliseconds: Int64
        /// Runs finished.
        public var runs: Int
        /// Lines the last run handed over, and since the agent started.
        public var lines: Int
        public var totalLines: Int
        /// Failed runs in a row.
        public var consecutiveFailures: Int
        /// Start of the last finished run (RFC 3339); nil before the first ends.
        public var lastRun: String?
        /// How long the last run took, ms.
        public var durationMilliseconds: Double?
        /// `ok`, `exit 3`, `timeout`…; nil before the first run ends.
        public var result: String?
        /// The start of the last run's stderr (`exec`), when it wrote any.
        public var stderr: String?

        enum CodingKeys: String, CodingKey {
            case name, kind
            case intervalMilliseconds = "interval_ms"
            case runs, lines
            case totalLines = "total_lines"
            case consecutiveFailures = "consecutive_failures"
            case lastRun = "last_run"
            case durationMilliseconds = "duration_ms"
            case result, stderr
        }
    }

    enum CodingKeys: String, CodingKey {
        case agent, producer, upstream, connected
        case spoolUnsentRecords = "spool_unsent_records"
        case lastAck = "last_ack"
        case collectors
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        agent = try c.decode(String.self, forKey: .agent)
        producer = try c.decode(String.self, forKey: .producer)
        upstream = try c.decode(String.self, forKey: .upstream)
        connected = try c.decode(Bool.self, forKey: .connected)
        spoolUnsentRecords = try c.decode(UInt64.self, forKey: .spoolUnsentRecords)
        lastAck = try c.decodeIfPresent(String.self, forKey: .lastAck)
        collectors = try c.decode([String: Collector].self, forKey: .collectors)
        members = try decoder.singleValueContainer().decode([String: JSONValue].self)
        members["ok"] = nil
    }

    /// Writes ``members``: the reply as received, `ok` aside (an `AgentStatusReply`
    /// is only made by decoding one).
    public func encode(to encoder: any Encoder) throws {
        try members.encode(to: encoder)
    }
}
