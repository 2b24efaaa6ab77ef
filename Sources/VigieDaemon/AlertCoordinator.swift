import Foundation
import Logging
import VigieConfig
import VigieCore

/// The alert rules of the running configuration: feeds changed KPI values and the 1 s
/// tick to the pure `AlertEvaluator`, and turns its transitions into effects with the
/// pure `AlertDispatch` (the notify policy); `AlertStage` carries them out. Also owns
/// the operator actions (acknowledgments, silences) through an `OperatorActionStore`.
/// Engine thread only.
final class AlertCoordinator {
    typealias Effect = AlertDispatch.Effect

    let evaluator: AlertEvaluator
    let store: any OperatorActionStore
    /// Where notifications go (`AlertStage` hands them over).
    let notifiers: NotifierDispatcher
    private var dispatch: AlertDispatch
    private let logger: Logger
    /// Transitions not handed to notifiers because the alert was silenced or flapping.
    private(set) var notificationsHeld: UInt64 = 0

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
        dispatch = AlertDispatch(
            receivers: notifiers.notifiers.map { notifier in
                let route = notifier.configuration.route
                return AlertDispatch.Receiver(repeatInterval: notifier.configuration.repeatInterval) {
                    route.accepts(kpi: $0, severity: $1, state: $2.rawValue)
                }
            }
        )
    }

    /// True when no rule is configured (the daemon then skips all alert work).
    var isEmpty: Bool { evaluator.rules.isEmpty }

    /// The effects of evaluating changed KPI values at `now`.
    func evaluate(_ values: [KPIValue], now: Int64) -> [Effect] {
        var effects: [Effect] = []
        for value in values {
            effects += dispatched(evaluator.evaluate(value, now: now), now: now)
        }
        return effects
    }

    /// The 1 s tick: time conditions (`for`, `absent_for`, schedules), then the
    /// `repeat_interval` reminders.
    func tick(now: Int64) -> [Effect] {
        dispatched(evaluator.tick(now: now), now: now) + dispatch.reminders(active: activeMessages(now: now), now: now)
    }

    private func dispatched(_ transitions: [AlertTransition], now: Int64) -> [Effect] {
        guard !transitions.isEmpty else { return [] }
        var effects: [Effect] = []
        for t in transitions {
            let decided = dispatch.dispatch(t, now: now, actions: store)
            notificationsHeld += UInt64(decided.count { if case .hold = $0 { true } else { false } })
            effects += decided
        }
        return effects
    }

    /// `value` with status `critical` when an alert on its series is firing (DESIGN.md's
    /// KPI status), else unchanged.
    func withAlertStatus(_ value: KPIValue) -> KPIValue {
        guard !isEmpty, evaluator.isFiring(kpi: value.kpi, group: value.group) else { return value }
        var critical = value
        critical.status = .critical
        return critical
    }

    /// How many alerts are firing and pending (systemd status, `stats`).
    func stateCounts(now: Int64) -> (firing: Int, pending: Int) {
        var counts = (firing: 0, pending: 0)
        for a in evaluator.active(now: now) {
            switch AlertState(a.phase) {
            case .firing: counts.firing += 1
            case .pending: counts.pending += 1
            case .resolved: break
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
                state: AlertState(a.phase),
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

    /// Acknowledges the active alerts of `rule` whose group has every tag of `group`.
    /// Returns how many, and their messages to publish again (feed subscribers then
    /// see the acknowledgment).
    func acknowledge(
        rule: String,
        group: [String: String],
        by: String,
        comment: String,
        now: Int64
    )
        -> (count: Int, effects: [Effect])
    {
        var count = 0
        for a in evaluator.active(now: now) where Self.matches(a, rule: rule, group: group) {
            store.acknowledge(AlertAcknowledgment(rule: a.rule, group: a.group, by: by, comment: comment, at: now))
            count += 1
        }
        logger.notice("alert acknowledged", metadata: ["rule": "\(rule)", "by": "\(by)", "count": "\(count)"])
        return (count, republished(now: now) { $0.rule == rule })
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

    /// Adds a silence; returns it and the alerts it covers, to publish again.
    func silence(
        matchers: [AlertMatcher],
        duration: Int64,
        by: String,
        comment: String,
        now: Int64
    )
        -> (silence: AlertSilence, effects: [Effect])
    {
        let s = store.addSilence(matchers: matchers, startsAt: now, endsAt: now + duration, by: by, comment: comment)
        logger.notice(
            "silence added",
            metadata: [
                "id": "\(s.id)", "by": "\(by)", "matchers": "\(matchers.map(\.description).joined(separator: " "))",
            ]
        )
        return (s, republished(now: now) { $0.silence?.id == s.id })
    }

    /// Removes a silence; returns it and the alerts it covered, to publish again.
    func unsilence(id: String, now: Int64) -> (removed: AlertSilence?, effects: [Effect]) {
        let covered = Set(activeMessages(now: now).filter { $0.silence?.id == id }.map(\.key))
        guard let removed = store.removeSilence(id: id) else { return (nil, []) }
        logger.notice("silence removed", metadata: ["id": "\(id)"])
        return (removed, republished(now: now) { covered.contains($0.key) })
    }

    private func republished(now: Int64, where include: (AlertFeedMessage) -> Bool) -> [Effect] {
        activeMessages(now: now).filter(include).map { .publish($0) }
    }
}
