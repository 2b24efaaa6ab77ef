/// What the daemon does with the evaluator's transitions, decided here and carried out
/// by the daemon in order: the notify policy in stages, as Alertmanager's (mute →
/// dedupe → send). Pure, table-tested with a manual clock.
///
/// For each transition: the feed message (with the alert's acknowledgment and the
/// silence covering it: *mute*), published and logged; an ended alert's acknowledgment
/// cleared; then the receivers told, unless the alert is silenced or flapping (held), or
/// was only ever pending (nobody heard it start: *dedupe*). On the tick, firing alerts
/// are re-sent to receivers with a `repeat_interval` (*send*). Keeps when each alert
/// began firing (a resolution's `startsAt`) and when each receiver was last reminded.
public struct AlertDispatch {
    /// A notifier as the policy sees it.
    public struct Receiver: Sendable {
        /// Re-send a still-firing alert this often (ns); nil: never.
        public var repeatInterval: Int64?
        /// Whether its route takes an alert of this KPI, severity and state.
        public var accepts: @Sendable (_ kpi: String, _ severity: String, _ state: AlertState) -> Bool

        public init(
            repeatInterval: Int64?,
            accepts: @escaping @Sendable (_ kpi: String, _ severity: String, _ state: AlertState) -> Bool
        ) {
            self.repeatInterval = repeatInterval
            self.accepts = accepts
        }
    }

    /// One thing to do, in order.
    public enum Effect: Equatable, Sendable {
        /// Send `alert.<rule>` on the feed.
        case publish(AlertFeedMessage)
        /// Append the transition to the write-ahead log (history's event log).
        case log(AlertFeedMessage)
        /// The alert ended: forget its acknowledgment.
        case clearAcknowledgment(AlertKey)
        /// Hand to every receiver whose route takes it (`receiver` nil), or to one.
        case notify(AlertFeedMessage, startsAt: Int64, receiver: Int?)
        /// Silenced or flapping: no receiver is told (counted).
        case hold(AlertFeedMessage)
    }

    public var receivers: [Receiver]
    /// When each firing alert began firing.
    public private(set) var firingSince: [AlertKey: Int64] = [:]
    /// When each (receiver, firing alert) was last sent, first or as a reminder.
    private var lastReminded: [ReminderKey: Int64] = [:]

    private struct ReminderKey: Hashable {
        var receiver: Int
        var alert: AlertKey
    }

    public init(receivers: [Receiver]) {
        self.receivers = receivers
    }

    /// The effects of `transition`, made at `now`, given the operator actions.
    public mutating func dispatch(
        _ t: AlertTransition,
        now: Int64,
        actions: any OperatorActionStore
    ) -> [Effect] {
        let key = AlertKey(rule: t.rule, group: t.group)
        // Mute: the acknowledgment and the silence travel with the message.
        let message = AlertFeedMessage(
            rule: t.rule,
            kpi: t.kpi,
            group: t.group,
            state: AlertState(t.to),
            severity: t.severity,
            value: t.value,
            threshold: t.threshold,
            since: t.since,
            message: t.message,
            reason: t.reason,
            flapping: t.flapping,
            acknowledgment: actions.acknowledgment(rule: t.rule, group: t.group),
            silence: actions.silence(rule: t.rule, kpi: t.kpi, severity: t.severity, group: t.group, now: now),
            ts: now
        )
        var effects: [Effect] = [.publish(message), .log(message)]
        let ended = t.to == .resolved || t.to == .inactive
        if ended { effects.append(.clearAcknowledgment(key)) }
        // Dedupe: a firing alert keeps its first start; a resolution reports it.
        var startsAt = t.since
        switch t.to {
        case .firing:
            if let first = firingSince[key] { startsAt = first } else { firingSince[key] = t.since }
        case .resolved, .inactive:
            startsAt = firingSince.removeValue(forKey: key) ?? t.since
        case .pending:
            break
        }
        guard !receivers.isEmpty else { return effects }
        // A pending alert that clears before `for` never fired: nobody was told it
        // started, so nobody is told it ended.
        if t.from == .pending, ended { return effects }
        guard message.silence == nil, !t.flapping else {
            effects.append(.hold(message))
            return effects
        }
        effects.append(.notify(message, startsAt: startsAt, receiver: nil))
        return effects
    }

    /// Reminders due at `now` for the `active` alerts (as `alerts` lists them): each
    /// firing alert not silenced or flapping goes again to each receiver with a
    /// `repeat_interval` whose route takes it, once per interval since it fired (or was
    /// last reminded).
    public mutating func reminders(active: [AlertFeedMessage], now: Int64) -> [Effect] {
        let repeating = receivers.indices.filter { receivers[$0].repeatInterval != nil }
        guard !repeating.isEmpty else { return [] }
        var effects: [Effect] = []
        var live = Set<ReminderKey>()
        for message in active where message.state == .firing {
            let alert = AlertKey(rule: message.rule, group: message.group)
            for i in repeating {
                guard let interval = receivers[i].repeatInterval,
                    receivers[i].accepts(message.kpi, message.severity, .firing)
                else { continue }
                let key = ReminderKey(receiver: i, alert: alert)
                live.insert(key)
                let last = lastReminded[key] ?? firingSince[alert] ?? message.since
                guard now - last >= interval, message.silence == nil, !message.flapping else { continue }
                lastReminded[key] = now
                var reminder = message
                reminder.reason = "repeat"
                effects.append(.notify(reminder, startsAt: firingSince[alert] ?? message.since, receiver: i))
            }
        }
        lastReminded = lastReminded.filter { live.contains($0.key) }
        return effects
    }
}
