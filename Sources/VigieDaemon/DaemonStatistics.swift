import VigieCore

/// Monotonic counters of one daemon run (the `stats` control op and, later, `/metrics`).
///
/// Owned and written by the engine thread only.
public struct DaemonStatistics: Sendable, Equatable {
    /// Lines applied (acknowledged ingest and push).
    public var samplesAccepted: UInt64 = 0
    /// Configuration reloads applied, and refused (invalid file).
    public var reloads: UInt64 = 0
    public var reloadsRefused: UInt64 = 0
    /// Lines rejected by the parser or an ingest policy.
    public var samplesRejected: UInt64 = 0
    /// Of those, lines an authenticated key wrote outside its metric prefixes.
    public var samplesOutsidePrefixes: UInt64 = 0
    /// Times each configured limit was hit (lines, messages or producers refused).
    public var limitHits = LimitHits()
    /// (sample, KPI) placements refused because the sample was too old for the window.
    public var samplesLate: UInt64 = 0
    /// Batches acknowledged (fresh and duplicate).
    public var batchesAcked: UInt64 = 0
    /// Batches acknowledged as duplicates and not applied again.
    public var batchesDuplicate: UInt64 = 0
    /// Ingest requests answered with ERR (bad magic, bad sequence, too old, …).
    public var framesInvalid: UInt64 = 0
    /// Fire-and-forget messages received on the push endpoint.
    public var pushMessages: UInt64 = 0
    /// Replies (ACK/ERR) that could not be sent because the peer was gone or full.
    public var repliesDropped: UInt64 = 0
    /// Messages published on the feed.
    public var feedMessages: UInt64 = 0
    /// Control requests served.
    public var controlRequests: UInt64 = 0
    /// Control requests that were not valid JSON or named an unknown op.
    public var controlErrors: UInt64 = 0
    /// Batches refused with ERR because the write-ahead log could not be written (a
    /// full disk): nothing of them was applied; the producer retries.
    public var batchesRefusedStorage: UInt64 = 0
    /// Write-ahead-log writes that failed.
    public var walWriteErrors: UInt64 = 0
    /// Samples re-applied from the write-ahead log at startup.
    public var samplesReplayed: UInt64 = 0
    /// Write-ahead-log records replayed at startup.
    public var recordsReplayed: UInt64 = 0
    /// Logged records recovery could not carry out (an operator action refused by the
    /// current checks), skipped and logged.
    public var recordsSkipped: UInt64 = 0
    /// Producers forgotten: idle past `[ingest] producer_idle`, or to make room in a full
    /// table (least recently seen first).
    public var producersEvicted: UInt64 = 0
    /// Messages refused because their connection's CURVE key was removed by a reload.
    public var revokedKeyMessages: UInt64 = 0
    /// Checkpoints written since start.
    public var checkpointsWritten: UInt64 = 0
    /// Checkpoints that failed.
    public var checkpointErrors: UInt64 = 0

    public init() {}
}

/// How often each limit of SECURITY.md ("Limits") refused something. Series over a KPI's
/// `max_series` are counted by the engine (`seriesOverflow`).
public struct LimitHits: Sendable, Equatable {
    public var lineLength: UInt64 = 0
    public var tags: UInt64 = 0
    public var fields: UInt64 = 0
    public var nameLength: UInt64 = 0
    public var linesPerBatch: UInt64 = 0
    public var framesPerMessage: UInt64 = 0
    public var messageBytes: UInt64 = 0
    public var producers: UInt64 = 0
    public var producersPerKey: UInt64 = 0
    public var inFlight: UInt64 = 0

    public init() {}

    mutating func count(_ limit: LineLimit) {
        switch limit {
        case .lineLength: lineLength += 1
        case .tags: tags += 1
        case .fields: fields += 1
        case .nameLength: nameLength += 1
        }
    }
}
