import Synchronization

/// The positions the spool (agent loop thread) and the forwarder (its own thread) share:
/// plain atomics, no lock on either hot path.
///
/// The spool publishes how far it is durable and where its oldest remaining segment
/// starts; the forwarder publishes how far the daemon has acknowledged.
public final class SpoolShared: Sendable {
    /// End LSN of the last spool record known durable (the forwarder reads no further).
    public let durableLSN = Atomic<UInt64>(0)
    /// Start LSN of the oldest segment still on disk: records below it were deleted by
    /// the size bound (or were acknowledged) and the forwarder skips them.
    public let oldestLSN = Atomic<UInt64>(0)
    /// End LSN of the highest contiguously acknowledged record (set by the forwarder).
    public let ackedLSN = Atomic<UInt64>(0)
    /// Sequence number of that record (set by the forwarder).
    public let ackedSequence = Atomic<UInt64>(0)
    /// Highest sequence number written to the spool (set by the spool).
    public let lastSequence = Atomic<UInt64>(0)
    /// The producer id the forwarder sends upstream: the configured one, followed by the
    /// spool's incarnation (``AgentSpoolState/incarnation``).
    public let upstreamProducer: String

    /// Positions as recovered at open.
    public init(
        durableLSN: UInt64,
        oldestLSN: UInt64,
        ackedLSN: UInt64,
        ackedSequence: UInt64,
        lastSequence: UInt64,
        upstreamProducer: String = ""
    ) {
        self.upstreamProducer = upstreamProducer
        self.durableLSN.store(durableLSN, ordering: .relaxed)
        self.oldestLSN.store(oldestLSN, ordering: .relaxed)
        self.ackedLSN.store(ackedLSN, ordering: .relaxed)
        self.ackedSequence.store(ackedSequence, ordering: .relaxed)
        self.lastSequence.store(lastSequence, ordering: .relaxed)
    }
}
