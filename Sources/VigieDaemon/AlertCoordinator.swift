import Foundation
import Logging
import VigieConfig
import VigieCore

/// Runs the alert rules on the engine thread: feeds changed KPI values and the 1 s tick
/// to the pure `AlertEvaluator`, and carries out its transitions — on the feed, then in
/// the log, then to the notifiers (a try-enqueue per notifier) — never blocking the
/// engine. Silenced alerts and flapping ones notify no one.
///
/// Also owns the operator actions (acknowledgments, silences) through an
/// `OperatorActionStore`.
final class AlertCoordinator {
    let evaluator: AlertEvaluator
    let store: any OperatorActionStore
    private let logger: Logger
    /// Transitions carried out since start, by target state.
    private(set) var transitions: [String: UInt64] = [:]
    /// Where transitions go after the feed and the log.
    let notifiers: NotifierDispatcher
    /// When each firing alert (by rule and group) began firing: the webhook's `startsAt`
    /// of its resolution.
    private var firingSince: [String: Int64] = [:]
    /// Transitions not handed to notifiers because the alert was silenced or flapping.
    private(set) var notificationsHeld: UInt64 = 0
    /// Called with each transition's feed message once published (the daemon logs it to
    /// the write-ahead log, for the history's event log).
    var onTransition: ((AlertFeedMessage) -> Void)?

    init(
        rules: [AlertRule],
        timeZone: TimeZone,
        now: Int64,
        logger: Logger,
        store: any OperatorActionStore,
        notifiers: NotifierDispatcher
    ) {
        evaluator = AlertEvaluator(rules: rules, timeZone: timeZone, now: now)
        self.store = store
        self.logger = logger
        self.notifiers = notifiers
    }

    /// True when no rule is configured (the daemon then skips all alert work).
    var isEmpty: Bool { evaluator.rules.isEmpty }

    /// Evaluates changed KPI values and publishes what changed.
    func evaluate(_ values: [KPIValue], now: Int64, feed: FeedPublisher) {
        for value in values {
            carryOut(evaluator.evaluate(value, now: now), now: now, feed: feed)
        }
    }

    /// The 1 s tick for time conditions, then `repeat_interval` reminders.
    func tick(now: Int64, feed: FeedPublisher) {
        carryOut(evaluator.tick(now: now), now: now, feed: feed)
        remind(now: now)
    }

    /// When each (notifier with a `repeat_interval`, firing alert) was last notified.
    private var lastReminded: [String: Int64] = [:]

    private static func alertKey(_ rule: String, _ group: [TagPair]) -> String {
        rule + "\u{1F}" + group.map { $0.key + "=" + $0.value }.joined(separator: "\u{1F}")
    }

    /// Re-sends still-firing alerts to the notifiers that have a `repeat_interval`, once
    /// per interval since the alert fired (or was last reminded). Silenced and flapping
    /// alerts are not reminded.
    private func remind(now: Int64) {
        let repeating = notifiers.notifiers.indices.filter {
            notifiers.notifiers[$0].configuration.repeatInterval != nil
        }
        guard !repeating.isEmpty else { return }
        var live = Set<String>()
        for message in activeMessages(now: now) where message.state == "firing" {
            let alert = Self.alertKey(message.rule, message.group)
            for i in repeating {
                let configuration = notifiers.notifiers[i].configuration
                guard let interval = configuration.repeatInterval,
                    configuration.route.accepts(kpi: message.kpi, severity: message.severity, state: "firing")
                else { continue }
                let key = "\(i)\u{1E}" + alert
                live.insert(key)
                let last = lastReminded[key] ?? firingSince[alert] ?? message.since
                guard now - last >= interval, message.silence == nil, !message.flapping else { continue }
                lastReminded[key] = now
                var reminder = message
                reminder.reason = "repeat"
                notifiers.notify(
                    NotifierEvent(message: reminder, startsAt: firingSince[alert] ?? message.since),
                    onlyTo: i
                )
            }
        }
        lastReminded = lastReminded.filter { live.contains($0.key) }
    }

    private func carryOut(_ list: [AlertTransition], now: Int64, feed: FeedPublisher) {
        for t in list {
            let state = Self.stateName(t.to)
            let ack = store.acknowledgment(rule: t.rule, group: t.group)
            let silence = store.silence(rule: t.rule, kpi: t.kpi, severity: t.severity, group: t.group, now: now)
            let message = AlertFeedMessage(
                rule: t.rule,
                kpi: t.kpi,
                group: t.group,
                state: state,
                severity: t.severity,
                value: t.value,
                threshold: t.threshold,
                since: t.since,
                message: t.message,
                reason: t.reason,
                flapping: t.flapping,
                acknowledgment: ack,
                silence: silence,
                ts: now
            )
            feed.publishAlert(message)
            onTransition?(message)
            if t.to == .resolved || t.to == .inactive {
                store.clearAcknowledgment(rule: t.rule, group: t.group)
            }
            transitions[state, default: 0] += 1
            var metadata: Logger.Metadata = [
                "rule": "\(t.rule)", "kpi": "\(t.kpi)", "state": "\(state)", "severity": "\(t.severity)",
                "reason": "\(t.reason)",
            ]
            for pair in t.group { metadata["group.\(pair.key)"] = "\(pair.value)" }
            if let value = t.value { metadata["value"] = "\(value)" }
            if silence != nil { metadata["silenced"] = "true" }
            if t.flapping { metadata["flapping"] = "true" }
            let level: Logger.Level = state == "firing" ? (t.severity == "critical" ? .error : .warning) : .notice
            logger.log(level: level, "alert \(state): \(t.message)", metadata: metadata)
            hand(message, transition: t)
        }
    }

    /// Hands a carried-out transition to the notifiers unless it is silenced or flapping.
    private func hand(_ message: AlertFeedMessage, transition t: AlertTransition) {
        let key = Self.alertKey(t.rule, t.group)
        var startsAt = t.since
        switch t.to {
        case .firing:
            if let first = firingSince[key] { startsAt = first } else { firingSince[key] = t.since }
        case .resolved, .inactive:
            startsAt = firingSince.removeValue(forKey: key) ?? t.since
        case .pending:
            break
        }
        guard !notifiers.isEmpty else { return }
        // A pending alert that clears before `for` never fired: nobody was told it
        // started, so nobody is told it ended.
        if t.from == .pending, t.to == .resolved || t.to == .inactive { return }
        guard message.silence == nil, !t.flapping else {
            notificationsHeld += 1
            return
        }
        notifiers.notify(NotifierEvent(message: message, startsAt: startsAt))
    }

    /// `value` with status `critical` when an alert on its series is firing (DESIGN.md's
    /// KPI status), else unchanged.
    func withAlertStatus(_ value: KPIValue) -> KPIValue {
        guard !isEmpty, evaluator.isFiring(kpi: value.kpi, group: value.group) else { return value }
        var critical = value
        critical.status = .critical
        return critical
    }

    /// `pending`, `firing` or `resolved`: DESIGN.md's states (a pending alert that clears
    /// before `for` is reported as resolved).
    static func stateName(_ phase: AlertPhase) -> String {
        switch phase {
        case .pending: return "pending"
        case .firing: return "firing"
        case .resolved, .inactive: return "resolved"
        }
    }

    /// How many alerts are firing and pending (systemd status, `stats`).
    func stateCounts(now: Int64) -> (firing: Int, pending: Int) {
        var counts = (firing: 0, pending: 0)
        for a in evaluator.active(now: now) {
            switch a.phase {
            case .firing: counts.firing += 1
            case .pending: counts.pending += 1
            case .resolved, .inactive: break
            }
        }
        return counts
    }

    /// The active alerts with their acknowledgment and silence, for `alerts`/`snapshot`.
    func activeMessages(now: Int64) -> [AlertFeedMessage] {
        evaluator.active(now: now).map { a in
            AlertFeedMessage(
                rule: a.rule,
                kpi: a.kpi,
                group: a.group,
                state: Self.stateName(a.phase),
                severity: a.severity,
                value: a.value,
                threshold: a.threshold,
                since: a.since,
                message: a.message,
                reason: "active",
                flapping: a.flapping,
                acknowledgment: store.acknowledgment(rule: a.rule, group: a.group),
                silence: store.silence(rule: a.rule, kpi: a.kpi, severity: a.severity, group: a.group, now: now),
                ts: now
            )
        }
    }

    /// Acknowledges the active alerts of `rule` whose group has every tag of `group`;
    /// republishes them so feed subscribers see the acknowledgment. Returns how many.
    func acknowledge(
        rule: String,
        group: [String: String],
        by: String,
        comment: String,
        now: Int64,
        feed: FeedPublisher
    )
        -> Int
    {
        var count = 0
        for a in evaluator.active(now: now) where Self.matches(a, rule: rule, group: group) {
            store.acknowledge(AlertAcknowledgment(rule: a.rule, group: a.group, by: by, comment: comment, at: now))
            count += 1
        }
        republish(now: now, feed: feed) { $0.rule == rule }
        logger.notice("alert acknowledged", metadata: ["rule": "\(rule)", "by": "\(by)", "count": "\(count)"])
        return count
    }

    /// How many active alerts of `rule` carry every tag of `group` (what `acknowledge`
    /// would acknowledge); changes nothing.
    func countActive(rule: String, group: [String: String], now: Int64) -> Int {
        evaluator.active(now: now).count { Self.matches($0, rule: rule, group: group) }
    }

    private static func matches(_ alert: ActiveAlert, rule: String, group: [String: String]) -> Bool {
        alert.rule == rule
            && group.allSatisfy { key, value in alert.group.contains { $0.key == key && $0.value == value } }
    }

    /// Adds a silence and republishes the alerts it covers.
    func silence(
        matchers: [AlertMatcher],
        duration: Int64,
        by: String,
        comment: String,
        now: Int64,
        feed: FeedPublisher
    )
        -> AlertSilence
    {
        let s = store.addSilence(matchers: matchers, startsAt: now, endsAt: now + duration, by: by, comment: comment)
        republish(now: now, feed: feed) { $0.silence?.id == s.id }
        logger.notice(
            "silence added",
            metadata: [
                "id": "\(s.id)", "by": "\(by)", "matchers": "\(matchers.map(\.description).joined(separator: " "))",
            ]
        )
        return s
    }

    /// Removes a silence and republishes the alerts it covered.
    func unsilence(id: String, now: Int64, feed: FeedPublisher) -> AlertSilence? {
        let before = activeMessages(now: now).filter { $0.silence?.id == id }
        guard let removed = store.removeSilence(id: id) else { return nil }
        let keys = Set(before.map { $0.rule + "|" + $0.group.map { "\($0.key)=\($0.value)" }.joined(separator: ",") })
        republish(now: now, feed: feed) {
            keys.contains($0.rule + "|" + $0.group.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
        logger.notice("silence removed", metadata: ["id": "\(id)"])
        return removed
    }

    private func republish(now: Int64, feed: FeedPublisher, where include: (AlertFeedMessage) -> Bool) {
        for message in activeMessages(now: now) where include(message) {
            feed.publishAlert(message)
        }
    }
}
