import Logging
import VigieCore
import VigieStore

/// The engine thread's alert work: evaluates the rules on the series a batch changed
/// (right after it, so an alert reaches the feed within the same loop turn) and every
/// second; then, for each transition once it is on the feed, measures its latency
/// (when a received sample caused it) and appends it to the log for the history's
/// event log. Engine thread only.
final class AlertStage {
    private let state: EngineState
    private let feed: FeedPublisher
    private let metrics: DaemonMetrics?
    /// The log; nil until recovery opened it (transitions are then not logged).
    var wal: WALWriter?
    /// Monotonic time the message now being evaluated was received; 0 outside.
    private var receipt: UInt64 = 0
    /// When the rules are evaluated next without a batch (time-based rules: `for`,
    /// `absent_for`, schedules, reminders).
    private(set) var nextTick: Int64
    /// Receipt of a breaching sample → its alert on the feed (`stats`, `/metrics`).
    private(set) var latency = AlertLatency()

    init(state: EngineState, feed: FeedPublisher, metrics: DaemonMetrics?) {
        self.state = state
        self.feed = feed
        self.metrics = metrics
        self.nextTick = state.now() + 1_000_000_000
    }

    /// Evaluates the rules on every watched series the last message changed;
    /// `receivedAt` (monotonic) is when it was received, 0 when not measured. Returns
    /// whether a transition went out on the feed.
    func evaluateChanges(receivedAt: UInt64) -> Bool {
        let alerts = state.alerts
        guard !alerts.isEmpty else { return false }
        let now = state.now()
        let changed = state.engine.takeChangedForAlerts(now: now)
        guard !changed.isEmpty else { return false }
        receipt = receivedAt
        defer { receipt = 0 }
        let before = feed.published
        alerts.evaluate(changed, now: now, feed: feed)
        return feed.published != before
    }

    /// Once a second: the rules on what changed and on time alone.
    func tickIfDue(now: Int64) {
        let alerts = state.alerts
        guard now >= nextTick, !alerts.isEmpty else { return }
        state.engine.advance(to: now)
        alerts.evaluate(state.engine.takeChangedForAlerts(now: now), now: now, feed: feed)
        alerts.tick(now: now, feed: feed)
        nextTick = now + 1_000_000_000
    }

    /// Hands every transition of `coordinator` here.
    func wire(_ coordinator: AlertCoordinator) {
        coordinator.onTransition = { [unowned self] in record($0) }
    }

    private func record(_ message: AlertFeedMessage) {
        if receipt != 0 {
            let nanoseconds = monotonicNanoseconds() &- receipt
            latency.record(nanoseconds: nanoseconds)
            metrics?.recordAlertLatency(nanoseconds: nanoseconds)
        }
        guard let wal else { return }
        var body = JSONWriter(capacity: 512)
        message.encode(seq: feed.sequence, epoch: feed.epoch, into: &body)
        do {
            _ = try wal.appendRecord(kind: .alertTransition, at: state.now()) { wal in
                try body.bytes.withUnsafeBytes { try wal.appendFrame($0) }
            }
        } catch {
            // Not fatal: the transition was already published.
            state.statistics.walWriteErrors += 1
            state.logger.warning("alert transition not logged to the WAL", metadata: ["error": "\(error)"])
        }
    }
}
