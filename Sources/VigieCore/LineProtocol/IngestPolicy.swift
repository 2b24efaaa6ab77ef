/// The checks a parsed line must pass at ingest besides its syntax, which depend on the
/// batch and on the receive time (`[ingest]` `max_age`, `max_future`,
/// `max_lines_per_batch`).
///
/// Pure: the daemon applies it when a batch arrives, and again with the recorded
/// receive time when it replays the write-ahead log or rolls history up, so a line is
/// judged the same way every time.
public struct IngestPolicy: Sendable, Equatable {
    /// Oldest accepted timestamp, as an age relative to the receive time, ns.
    public var maxAge: Int64
    /// Furthest accepted timestamp ahead of the receive time, ns.
    public var maxFuture: Int64
    /// Most lines in one batch.
    public var maxLinesPerBatch: Int

    public init(maxAge: Int64, maxFuture: Int64, maxLinesPerBatch: Int) {
        self.maxAge = maxAge
        self.maxFuture = maxFuture
        self.maxLinesPerBatch = maxLinesPerBatch
    }

    /// Why a line is refused.
    public enum Rejection: Sendable, Equatable {
        case tooManyLines(limit: Int)
        case tooOld
        case tooFarInFuture

        /// The reason reported in the ACK (allocates: rejections only).
        public var reason: String {
            switch self {
            case .tooManyLines(let limit): "too many lines in batch (limit \(limit))"
            case .tooOld: "timestamp older than max_age"
            case .tooFarInFuture: "timestamp too far in the future (max_future)"
            }
        }
    }

    /// `nil` when line number `lineNumber` (1-based in its batch) with `timestamp`
    /// received at `receivedAt` (ns) is accepted. O(1), no allocation.
    @inlinable
    public func rejection(lineNumber: Int, timestamp: Int64?, receivedAt: Int64) -> Rejection? {
        if lineNumber > maxLinesPerBatch { return .tooManyLines(limit: maxLinesPerBatch) }
        guard let ts = timestamp else { return nil }
        if ts < receivedAt &- maxAge { return .tooOld }
        if ts > receivedAt &+ maxFuture { return .tooFarInFuture }
        return nil
    }
}
