/// What the forwarder reports about its link to the daemon, for `vigie agent status`
/// and the agent's health samples. A snapshot copied out under a mutex.
public struct ForwarderStatus: Sendable, Equatable {
    /// True between a WELCOME and the next disconnect.
    public var connected = false
    /// Wall-clock time of the last ACK, ns since the Unix epoch; nil before the first.
    public var lastAckAt: Int64?
    /// Highest sequence number acknowledged contiguously.
    public var ackedSequence: UInt64 = 0
    /// Batches sent and not yet acknowledged.
    public var inFlight = 0
    /// Sockets recreated (ACK timeouts, transient errors, ambiguous errors).
    public var reconnects = 0
    /// Entries in the dead-letter file (those of earlier runs included).
    public var deadLetters = 0
    /// Receive time of the oldest batch not yet acknowledged, ns since the Unix epoch;
    /// nil when the forwarder has nothing outstanding.
    public var oldestUnsentReceivedAt: Int64?
    /// Records never sent because they were more than the daemon's anti-replay window
    /// below the highest it reported (it would refuse them as too old): since start.
    public var skippedTooOld = 0
    /// The last error from the daemon or the spool, if any.
    public var lastError: String?

    /// A status before anything happened.
    public init() {}
}
