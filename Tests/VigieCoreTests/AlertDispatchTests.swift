import Testing
import VigieCore

/// The notify policy after the evaluator: effects in order, table-tested.
struct AlertDispatchTests {
    static let minute: Int64 = 60_000_000_000
    static let group = [TagPair(key: "site", value: "nord")]
    static let key = AlertKey(rule: "longue", group: group)

    static func transition(
        _ from: AlertPhase,
        _ to: AlertPhase,
        since: Int64,
        flapping: Bool = false
    )
        -> AlertTransition
    {
        AlertTransition(
            rule: "longue",
            kpi: "attente",
            group: group,
            from: from,
            to: to,
            value: 45,
            threshold: 30,
            severity: "warning",
            message: "attente 45",
            since: since,
            at: since,
            flapping: flapping,
            reason: to == .firing ? "threshold" : "cleared"
        )
    }

    /// A receiver taking everything, reminding every `repeatEvery` (nil: never).
    static func receiver(repeatEvery: Int64? = nil, onlyCritical: Bool = false) -> AlertDispatch.Receiver {
        AlertDispatch.Receiver(repeatInterval: repeatEvery) { _, severity, _ in !onlyCritical || severity == "critical"
        }
    }

    /// The effects' kinds, e.g. `publish log notify`.
    static func kinds(_ effects: [AlertDispatch.Effect]) -> String {
        effects.map { effect in
            switch effect {
            case .publish: "publish"
            case .log: "log"
            case .clearAcknowledgment: "clear"
            case .notify(_, _, let receiver): receiver.map { "remind\($0)" } ?? "notify"
            case .hold: "hold"
            }
        }.joined(separator: " ")
    }

    @Test func firingThenResolvedTellsTheReceiversWithTheFirstStart() {
        var dispatch = AlertDispatch(receivers: [Self.receiver()])
        let actions = InMemoryOperatorActionStore()
        let fired = dispatch.dispatch(
            Self.transition(.pending, .firing, since: 2 * Self.minute),
            now: 2 * Self.minute,
            actions: actions
        )
        #expect(Self.kinds(fired) == "publish log notify")
        #expect(dispatch.firingSince[Self.key] == 2 * Self.minute)
        let resolved = dispatch.dispatch(
            Self.transition(.firing, .resolved, since: 9 * Self.minute),
            now: 9 * Self.minute,
            actions: actions
        )
        #expect(Self.kinds(resolved) == "publish log clear notify")
        guard case .notify(let message, let startsAt, nil) = resolved.last else {
            Issue.record("no notification")
            return
        }
        #expect(message.state == .resolved)
        #expect(startsAt == 2 * Self.minute)
        #expect(dispatch.firingSince[Self.key] == nil)
    }

    @Test func aPendingAlertThatClearsIsPublishedButToldToNoOne() {
        var dispatch = AlertDispatch(receivers: [Self.receiver()])
        let actions = InMemoryOperatorActionStore()
        #expect(
            Self.kinds(dispatch.dispatch(Self.transition(.inactive, .pending, since: 0), now: 0, actions: actions))
                == "publish log notify"
        )
        let cleared = dispatch.dispatch(
            Self.transition(.pending, .inactive, since: Self.minute),
            now: Self.minute,
            actions: actions
        )
        #expect(Self.kinds(cleared) == "publish log clear")
        guard case .publish(let message) = cleared.first else { return }
        #expect(message.state == .resolved)
    }

    @Test func silencedAndFlappingAlertsAreHeld() {
        var dispatch = AlertDispatch(receivers: [Self.receiver()])
        let actions = InMemoryOperatorActionStore()
        let silence = actions.addSilence(
            matchers: [AlertMatcher(key: "site", value: "nord")],
            startsAt: 0,
            endsAt: 10 * Self.minute,
            by: "paul",
            comment: ""
        )
        let muted = dispatch.dispatch(
            Self.transition(.pending, .firing, since: Self.minute),
            now: Self.minute,
            actions: actions
        )
        #expect(Self.kinds(muted) == "publish log hold")
        guard case .publish(let message) = muted.first else { return }
        #expect(message.silence?.id == silence.id)
        // Past the silence, a flapping alert is held too.
        let flapping = dispatch.dispatch(
            Self.transition(.firing, .firing, since: 11 * Self.minute, flapping: true),
            now: 11 * Self.minute,
            actions: actions
        )
        #expect(Self.kinds(flapping) == "publish log hold")
    }

    @Test func anAcknowledgmentTravelsWithTheMessageAndIsClearedWhenTheAlertEnds() {
        var dispatch = AlertDispatch(receivers: [])
        let actions = InMemoryOperatorActionStore()
        actions.acknowledge(AlertAcknowledgment(rule: "longue", group: Self.group, by: "marie", comment: "vu", at: 0))
        let again = dispatch.dispatch(
            Self.transition(.firing, .firing, since: Self.minute),
            now: Self.minute,
            actions: actions
        )
        guard case .publish(let message) = again.first else { return }
        #expect(message.acknowledgment?.by == "marie")
        // No receivers: nothing to notify or hold.
        #expect(Self.kinds(again) == "publish log")
        let ended = dispatch.dispatch(
            Self.transition(.firing, .resolved, since: 2 * Self.minute),
            now: 2 * Self.minute,
            actions: actions
        )
        #expect(ended.contains(.clearAcknowledgment(Self.key)))
    }

    @Test func remindersGoToRepeatingReceiversOncePerInterval() {
        var dispatch = AlertDispatch(receivers: [
            Self.receiver(), Self.receiver(repeatEvery: 10 * Self.minute),
            Self.receiver(repeatEvery: Self.minute, onlyCritical: true),
        ])
        let actions = InMemoryOperatorActionStore()
        let fired = dispatch.dispatch(Self.transition(.pending, .firing, since: 0), now: 0, actions: actions)
        guard case .publish(var active) = fired.first else { return }
        active.reason = "active"
        #expect(dispatch.reminders(active: [active], now: 9 * Self.minute).isEmpty)
        let due = dispatch.reminders(active: [active], now: 10 * Self.minute)
        #expect(Self.kinds(due) == "remind1")
        guard case .notify(let reminder, let startsAt, _) = due.first else { return }
        #expect(reminder.reason == "repeat")
        #expect(startsAt == 0)
        #expect(dispatch.reminders(active: [active], now: 15 * Self.minute).isEmpty)
        #expect(Self.kinds(dispatch.reminders(active: [active], now: 20 * Self.minute)) == "remind1")
        // Silenced: no reminder.
        var silenced = active
        silenced.silence = AlertSilence(id: "s-1", matchers: [], startsAt: 0, endsAt: .max, createdBy: "a", comment: "")
        #expect(dispatch.reminders(active: [silenced], now: 40 * Self.minute).isEmpty)
    }
}
