import VigieCore

/// Uptime and ingest rate, measured at each heartbeat (`stats`, `/metrics`, systemd's
/// status line, the feed's `hb`).
struct EngineVitals {
    /// Wall-clock start (the daemon clock's).
    let startedAt: Int64
    private let startedMonotonic = monotonicNanoseconds()
    /// Samples accepted per second over the last heartbeat interval.
    private(set) var ingestRate: Double = 0
    private var lastRateAt: Int64
    private var lastRateAccepted: UInt64 = 0

    /// When the next heartbeat is due.
    private(set) var nextHeartbeat: Int64

    init(now: Int64, heartbeatInterval: Int64) {
        startedAt = now
        lastRateAt = now
        nextHeartbeat = now + heartbeatInterval
    }

    /// Measures the rate and publishes `hb` when a heartbeat is due; returns whether one was.
    mutating func heartbeatIfDue(now: Int64, state: EngineState, feed: FeedPublisher) -> Bool {
        guard now >= nextHeartbeat else { return false }
        measure(now: now, accepted: state.statistics.samplesAccepted)
        feed.publishHeartbeat(now: now, uptimeSeconds: uptimeSeconds, ingestRate: ingestRate)
        nextHeartbeat = now + state.configuration.daemon.heartbeatInterval
        return true
    }

    var uptimeSeconds: Double {
        Double(monotonicNanoseconds() - startedMonotonic) / 1e9
    }

    /// A heartbeat at `now`, with `accepted` samples accepted since start.
    private mutating func measure(now: Int64, accepted: UInt64) {
        let elapsed = Double(now - lastRateAt) / 1e9
        if elapsed > 0 { ingestRate = Double(accepted &- lastRateAccepted) / elapsed }
        lastRateAt = now
        lastRateAccepted = accepted
    }
}
