import VigieCore

/// The `[ingest]` table: the bounds every incoming batch, line and series must respect.
public struct IngestConfiguration: Sendable, Equatable {
    /// Oldest accepted timestamp, as an age relative to the receive time, in nanoseconds.
    /// Default 400 days.
    public var maxAge: Int64
    /// Furthest accepted timestamp ahead of the receive time, in nanoseconds. Default 10 minutes.
    public var maxFuture: Int64
    /// Longest accepted line, in bytes. Default 65,536.
    public var maxLineLength: Int
    /// Most tags on one line. Default 32.
    public var maxTags: Int
    /// Most fields on one line. Default 64.
    public var maxFields: Int
    /// Longest measurement, tag or field name or tag value, in bytes. Default 256.
    public var maxNameLength: Int
    /// Most lines in one batch (one ingest request). Default 100,000.
    public var maxLinesPerBatch: Int
    /// Largest ZeroMQ message accepted (ZMQ_MAXMSGSIZE), in bytes. Default 16 MiB.
    public var maxMessageSize: Int64
    /// Default cardinality cap of a KPI (its `max_series`). Default 1,000.
    public var maxSeriesPerKPI: Int
    /// Most producers whose sequence state is kept. Default 10,000.
    public var maxProducers: Int
    /// Most batches of one producer waiting for their ACK (the log's group commit);
    /// beyond, a batch gets ERR "too many batches in flight" and is not applied.
    /// Default 1,024, the anti-replay window.
    public var maxInFlight = 1_024
    /// How long a producer may stay silent before the daemon forgets its sequence
    /// numbers (a returning producer then starts a new window). Default 24 hours. When the
    /// table is full, producers idle at least `producerEvictionFloor` are forgotten
    /// earlier, least recently seen first, so one-shot producers never exhaust it.
    public var producerIdle: Int64 = 86_400 * 1_000_000_000

    /// A producer heard from within this long is never forgotten to make room: 10 s
    /// (longer than a client's ACK timeout and first reconnect, so a batch resent after
    /// a lost ACK still finds its window), or `producerIdle` if shorter.
    public var producerEvictionFloor: Int64 { min(Self.evictionFloor, producerIdle) }

    /// The longest `producerEvictionFloor`: 10 s.
    public static let evictionFloor: Int64 = 10 * 1_000_000_000
    /// Most producers one CURVE key may have (its scoped producer ids). Default 1,000.
    public var maxProducersPerKey = 1_000
    /// Most series over all KPIs' window groups together; beyond, samples that would
    /// create one are counted and not applied. Default 200,000 (about 1 GB of windows
    /// at 60 buckets).
    public var maxSeriesTotal = 200_000

    /// Creates an `[ingest]` table; the defaults are those of an absent table.
    public init(
        maxAge: Int64 = 400 * 86_400 * 1_000_000_000,
        maxFuture: Int64 = 10 * 60 * 1_000_000_000,
        maxLineLength: Int = 65_536,
        maxTags: Int = 32,
        maxFields: Int = 64,
        maxNameLength: Int = 256,
        maxLinesPerBatch: Int = 100_000,
        maxMessageSize: Int64 = 16 * 1_024 * 1_024,
        maxSeriesPerKPI: Int = 1_000,
        maxProducers: Int = 10_000
    ) {
        self.maxAge = maxAge
        self.maxFuture = maxFuture
        self.maxLineLength = maxLineLength
        self.maxTags = maxTags
        self.maxFields = maxFields
        self.maxNameLength = maxNameLength
        self.maxLinesPerBatch = maxLinesPerBatch
        self.maxMessageSize = maxMessageSize
        self.maxSeriesPerKPI = maxSeriesPerKPI
        self.maxProducers = maxProducers
    }

    /// What admission of acknowledged batches enforces (``ProducerTable``).
    public var producerLimits: ProducerTable.Limits {
        ProducerTable.Limits(
            maxProducers: maxProducers,
            maxPerKey: maxProducersPerKey,
            maxInFlight: maxInFlight,
            idle: producerIdle,
            evictionFloor: producerEvictionFloor
        )
    }

    /// The checks on each parsed line that depend on its batch and receive time.
    public var policy: IngestPolicy {
        IngestPolicy(maxAge: maxAge, maxFuture: maxFuture, maxLinesPerBatch: maxLinesPerBatch)
    }

    /// The per-line limits the line-protocol parser enforces.
    public var lineProtocolLimits: LineProtocolLimits {
        LineProtocolLimits(
            maxLineLength: maxLineLength,
            maxTags: maxTags,
            maxFields: maxFields,
            maxNameLength: maxNameLength
        )
    }
}
