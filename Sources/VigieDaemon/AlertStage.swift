import Logging
import VigieCore
import VigieStore

/// The engine thread's alert work: evaluates the rules on the series a batch changed
/// (right after it, so an alert reaches the feed within the same loop turn) and every
/// second, and carries out the effects `AlertCoordinator` decides, in order: publish
/// on the feed (measuring the latency when a received sample caused it), log to the WAL
/// and the journal, clear an acknowledgment, hand to the notifiers. Engine thread only.
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
    /// whether an alert went out on the feed.
    func evaluateChanges(receivedAt: UInt64) -> Bool {
        let alerts = state.alerts
        guard !alerts.isEmpty else { return false }
        let now = state.now()
        let changed = state.engine.takeChangedForAlerts(now: now)
        guard !changed.isEmpty else { return false }
        receipt = receivedAt
        defer { receipt = 0 }
        let before = feed.published
        carryOut(alerts.evaluate(changed, now: now))
        return feed.published != before
    }

    /// Once a second: the rules on what changed and on time alone, then reminders.
    func tickIfDue(now: Int64) {
        let alerts = state.alerts
        guard now >= nextTick, !alerts.isEmpty else { return }
        state.engine.advance(to: now)
        carryOut(alerts.evaluate(state.engine.takeChangedForAlerts(now: now), now: now))
        carryOut(alerts.tick(now: now))
        nextTick = now + 1_000_000_000
    }

    /// Carries out `effects` in order.
    func carryOut(_ effects: [AlertDispatch.Effect]) {
        for effect in effects {
            switch effect {
            case .publish(let message):
                feed.publishAlert(message)
                if receipt != 0 {
                    let nanoseconds = monotonicNanoseconds() &- receipt
                    latency.record(nanoseconds: nanoseconds)
                    metrics?.recordAlertLatency(nanoseconds: nanoseconds)
                }
            case .log(let message):
                journal(message)
                append(message)
            case .clearAcknowledgment(let key):
                state.alerts.store.clearAcknowledgment(rule: key.rule, group: key.group)
            case .notify(let message, let startsAt, let receiver):
                let event = NotifierEvent(message: message, startsAt: startsAt)
                if let receiver {
                    state.alerts.notifiers.notify(event, onlyTo: receiver)
                } else {
                    state.alerts.notifiers.notify(event)
                }
            case .hold:
                break  // counted by the coordinator, which decided it
            }
        }
    }

    /// The transition in the daemon's log: firing at warning (error when critical), the
    /// rest at notice.
    private func journal(_ m: AlertFeedMessage) {
        var metadata: Logger.Metadata = [
            "rule": "\(m.rule)", "kpi": "\(m.kpi)", "state": "\(m.state.rawValue)", "severity": "\(m.severity)",
            "reason": "\(m.reason)",
        ]
        for pair in m.group { metadata["group.\(pair.key)"] = "\(pair.value)" }
        if let value = m.value { metadata["value"] = "\(value)" }
        if m.silence != nil { metadata["silenced"] = "true" }
        if m.flapping { metadata["flapping"] = "true" }
        let level: Logger.Level = m.state == .firing ? (m.severity == "critical" ? .error : .warning) : .notice
        state.logger.log(level: level, "alert \(m.state.rawValue): \(m.message)", metadata: metadata)
    }

    /// The transition in the write-ahead log, for the history's event log; a failure is
    /// logged, not fatal (the transition was already published).
    private func append(_ message: AlertFeedMessage) {
        guard let wal else { return }
        var body = JSONWriter(capacity: 512)
        message.encode(seq: feed.sequence, epoch: feed.epoch, into: &body)
        do {
            _ = try wal.appendRecord(kind: .alertTransition, at: state.now()) { wal in
                try body.bytes.withUnsafeBytes { try wal.appendFrame($0) }
            }
        } catch {
            state.statistics.walWriteErrors += 1
            state.logger.warning("alert transition not logged to the WAL", metadata: ["error": "\(error)"])
        }
    }
}
