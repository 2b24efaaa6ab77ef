import VigieCore

/// Publishes the KPI values that are due on the feed, in small slices under a time
/// budget: a second in which thousands of series changed does not stall ACKs or
/// alerts (the loop serves the sockets between slices). Engine thread only.
struct KPIPublisher {
    /// Series taken per slice.
    private static let slice = 16
    /// Time spent publishing per loop turn at most (then the sockets are served), ns.
    private static let timeBudget: UInt64 = 250_000

    /// When to look for due values next.
    private(set) var nextCheck: Int64

    init(now: Int64) {
        nextCheck = now
    }

    /// Publishes what is due at `now` (with its alert status) until the budget is spent.
    mutating func publishDue(now: Int64, state: EngineState, feed: FeedPublisher) {
        guard now >= nextCheck else { return }
        state.engine.advance(to: now)
        let interval = state.configuration.daemon.publishInterval
        // Small slices until the time budget is spent: a quantile value merges a
        // window's sketches (tens of µs), so a count budget alone could hold the
        // sockets for milliseconds.
        let started = monotonicNanoseconds()
        while true {
            let due = state.engine.takeDue(now: now, interval: interval, limit: Self.slice)
            for value in due { feed.publishKPI(state.alerts.withAlertStatus(value)) }
            guard due.count >= Self.slice else { break }
            if monotonicNanoseconds() - started >= Self.timeBudget {
                nextCheck = now  // more are due: come back at once, after the sockets
                return
            }
        }
        nextCheck = now + max(min(interval, 100_000_000), 10_000_000)
    }
}
