extension ControlReply {
    /// `stats`: the daemon's counters and state. The members `vigie status` and `vigie
    /// bench` read are typed; ``members`` keeps every member as sent (`ok` aside), so
    /// those not typed here, and those a newer daemon adds, stay reachable.
    public struct Stats: Codable, Equatable, Sendable {
        public var epoch: String
        public var version: String
        /// Seconds since start (three decimals).
        public var uptimeSeconds: Double
        /// The configuration file (empty when none).
        public var configFile: String
        /// When the running configuration was loaded (RFC 3339).
        public var configLoadedAt: String
        /// Accepted samples per second over the last interval.
        public var ingestRate: Double
        public var samplesAccepted: UInt64
        public var samplesRejected: UInt64
        public var samplesLate: UInt64
        public var batchesDuplicate: UInt64
        public var batchesRefusedStorage: UInt64
        public var wal: WAL
        /// Endpoints as bound, by socket (`ingest`, `push`, `feed`, `control`).
        public var endpoints: [String: [String]]
        public var alertsFiring: Int
        public var alertsPending: Int
        public var alertLatency: AlertLatency
        /// Each limit's configured value and how often it refused something, by name.
        public var limits: [String: Limit]
        public var security: Security
        public var producersTotal: Int
        /// The producers most recently seen (at most 20), latest first.
        public var producers: [Producer]
        /// Every member of the reply but `ok`, as sent.
        public var members: [String: JSONValue]

        /// The write-ahead log and checkpoints.
        public struct WAL: Codable, Equatable, Sendable {
            /// `batch`, `always` or `off`.
            public var fsync: String
            public var durableLSN: UInt64
            /// Replies waiting for the log to be durable.
            public var repliesWaiting: Int
            /// Why the last sync failed; nil while syncs succeed.
            public var syncFailure: String?
            public var checkpointLSN: UInt64
            public var checkpointsWritten: UInt64
            public var checkpointErrors: UInt64
            /// The last checkpoint this run wrote; nil before the first.
            public var lastCheckpoint: Checkpoint?

            /// A checkpoint written.
            public struct Checkpoint: Codable, Equatable, Sendable {
                public var lsn: UInt64
                public var bytes: Int
                /// RFC 3339.
                public var at: String
            }

            enum CodingKeys: String, CodingKey {
                case fsync
                case durableLSN = "durable_lsn"
                case repliesWaiting = "replies_waiting"
                case syncFailure = "sync_failure"
                case checkpointLSN = "checkpoint_lsn"
                case checkpointsWritten = "checkpoints_written"
                case checkpointErrors = "checkpoint_errors"
                case lastCheckpoint = "last_checkpoint"
            }
        }

        /// Sample received → alert transition published, since start (ms; nil before
        /// the first transition).
        public struct AlertLatency: Codable, Equatable, Sendable {
            public var count: Int
            public var p50Milliseconds: Double?
            public var p99Milliseconds: Double?
            public var maxMilliseconds: Double?

            enum CodingKeys: String, CodingKey {
                case count
                case p50Milliseconds = "p50_ms"
                case p99Milliseconds = "p99_ms"
                case maxMilliseconds = "max_ms"
            }
        }

        /// A limit: its configured value, and how often it refused something (nil where
        /// libzmq enforces it without telling).
        public struct Limit: Codable, Equatable, Sendable {
            public var max: Int
            public var hits: UInt64?
        }

        /// CURVE and who was let in.
        public struct Security: Codable, Equatable, Sendable {
            public var curve: Bool
            public var authorizedKeys: Int
            public var handshakesAdmitted: UInt64
            public var handshakesDenied: UInt64
            public var samplesOutsidePrefixes: UInt64
            public var revokedKeyMessages: UInt64

            enum CodingKeys: String, CodingKey {
                case curve
                case authorizedKeys = "authorized_keys"
                case handshakesAdmitted = "handshakes_admitted"
                case handshakesDenied = "handshakes_denied"
                case samplesOutsidePrefixes = "samples_outside_prefixes"
                case revokedKeyMessages = "revoked_key_messages"
            }
        }

        /// A producer the daemon keeps the state of.
        public struct Producer: Codable, Equatable, Sendable {
            public var id: String
            /// RFC 3339.
            public var lastSeen: String
            /// The highest sequence number applied.
            public var sequence: UInt64

            enum CodingKeys: String, CodingKey {
                case id
                case lastSeen = "last_seen"
                case sequence
            }
        }

        enum CodingKeys: String, CodingKey {
            case epoch, version
            case uptimeSeconds = "uptime_s"
            case configFile = "config_file"
            case configLoadedAt = "config_loaded_at"
            case ingestRate = "ingest_rate"
            case samplesAccepted = "samples_accepted"
            case samplesRejected = "samples_rejected"
            case samplesLate = "samples_late"
            case batchesDuplicate = "batches_duplicate"
            case batchesRefusedStorage = "batches_refused_storage"
            case wal, endpoints
            case alertsFiring = "alerts_firing"
            case alertsPending = "alerts_pending"
            case alertLatency = "alert_latency"
            case limits, security
            case producersTotal = "producers_total"
            case producers
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            epoch = try c.decode(String.self, forKey: .epoch)
            version = try c.decode(String.self, forKey: .version)
            uptimeSeconds = try c.decode(Double.self, forKey: .uptimeSeconds)
            configFile = try c.decode(String.self, forKey: .configFile)
            configLoadedAt = try c.decode(String.self, forKey: .configLoadedAt)
            ingestRate = try c.decode(Double.self, forKey: .ingestRate)
            samplesAccepted = try c.decode(UInt64.self, forKey: .samplesAccepted)
            samplesRejected = try c.decode(UInt64.self, forKey: .samplesRejected)
            samplesLate = try c.decode(UInt64.self, forKey: .samplesLate)
            batchesDuplicate = try c.decode(UInt64.self, forKey: .batchesDuplicate)
            batchesRefusedStorage = try c.decode(UInt64.self, forKey: .batchesRefusedStorage)
            wal = try c.decode(WAL.self, forKey: .wal)
            endpoints = try c.decode([String: [String]].self, forKey: .endpoints)
            alertsFiring = try c.decode(Int.self, forKey: .alertsFiring)
            alertsPending = try c.decode(Int.self, forKey: .alertsPending)
            alertLatency = try c.decode(AlertLatency.self, forKey: .alertLatency)
            limits = try c.decode([String: Limit].self, forKey: .limits)
            security = try c.decode(Security.self, forKey: .security)
            producersTotal = try c.decode(Int.self, forKey: .producersTotal)
            producers = try c.decode([Producer].self, forKey: .producers)
            members = try decoder.singleValueContainer().decode([String: JSONValue].self)
            members["ok"] = nil
        }

        /// Writes ``members``: the reply as received, `ok` aside (a `Stats` is only
        /// made by decoding one).
        public func encode(to encoder: any Encoder) throws {
            try members.encode(to: encoder)
        }
    }

    /// `config`: the running configuration's KPIs and the endpoints as bound.
    public struct Config: Codable, Equatable, Sendable {
        /// The configuration file; nil when the daemon runs without one.
        public var path: String?
        public var timezone: String
        /// Duration text, e.g. `1s`.
        public var publishInterval: String
        /// Endpoints as bound, by socket (`ingest`, `push`, `feed`, `control`).
        public var endpoints: [String: [String]]
        public var kpis: [KPI]

        /// A configured KPI.
        public struct KPI: Codable, Equatable, Sendable {
            public var name: String
            public var title: String
            public var metric: String
            public var aggregate: String
            public var window: String
            public var groupBy: [String]
            public var unit: String?
            public var target: Double?
            public var direction: Direction

            enum CodingKeys: String, CodingKey {
                case name, title, metric, aggregate, window
                case groupBy = "group_by"
                case unit, target, direction
            }
        }

        enum CodingKeys: String, CodingKey {
            case path, timezone
            case publishInterval = "publish_interval"
            case endpoints, kpis
        }
    }
}
