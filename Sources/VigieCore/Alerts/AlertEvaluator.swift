import Foundation

/// The alert state machines of every rule: pure, driven by KPI values and `now`. The
/// engine thread calls `evaluate` right after a batch changes a series and `tick` once a
/// second, and carries out the `AlertTransition`s they return, in order. The semantics
/// (threshold, resolution, deadman, flapping, schedules): docs/architecture.md, "Alert
/// evaluation".
public final class AlertEvaluator {
    /// The rules, in configuration order.
    public let rules: [AlertRule]
    /// The calendar of schedules and `{since}`: Gregorian in the daemon's time zone.
    public let calendar: Calendar
    /// Per rule, in rule order (internal for `AlertEvaluator+State.swift`).
    var states: [AlertRuleState]
    private var rulesByKPI: [String: [Int]] = [:]

    /// An evaluator for `rules`, started at `now` (ns since the epoch), with local
    /// time in `timeZone`.
    public init(rules: [AlertRule], timeZone: TimeZone, now: Int64) {
        self.rules = rules
        calendar = CalendarPeriod.calendar(in: timeZone)
        var states: [AlertRuleState] = []
        for (position, rule) in rules.enumerated() {
            let open = rule.schedule?.isActive(at: now, calendar: calendar) ?? true
            states.append(AlertRuleState(rule: rule, open: open, now: now))
            rulesByKPI[rule.kpi, default: []].append(position)
        }
        self.states = states
    }

    /// True when some rule watches this KPI (the daemon only evaluates those).
    public func watches(kpi: String) -> Bool {
        rulesByKPI[kpi] != nil
    }

    /// A KPI series changed (its current value): evaluates every rule on its KPI for
    /// that series and returns the transitions, in rule order.
    public func evaluate(_ value: KPIValue, now: Int64) -> [AlertTransition] {
        guard let positions = rulesByKPI[value.kpi] else { return [] }
        var out: [AlertTransition] = []
        for position in positions {
            evaluate(rule: position, value, now: now, into: &out)
        }
        return out
    }

    /// Time conditions: `for`, `keep_firing_for`, `absent_for` (series and KPI) and
    /// schedules. Call every second; returns the transitions, in rule order, then
    /// series order.
    public func tick(now: Int64) -> [AlertTransition] {
        var out: [AlertTransition] = []
        for position in states.indices {
            syncSchedule(position, now: now, except: nil, into: &out)
            guard states[position].scheduleOpen else { continue }
            let rule = states[position].rule
            let openSince = states[position].openSince
            for slot in states[position].series.indices {
                var state = states[position].series[slot]
                if state.phase == .pending, elapsed(since: state.since, now) >= rule.forDuration {
                    move(&state, to: .firing, reason: "threshold", rule: rule, now: now, into: &out)
                } else if state.phase == .firing, let clearedAt = state.clearedAt,
                    elapsed(since: clearedAt, now) >= rule.keepFiringFor
                {
                    move(&state, to: .resolved, reason: "cleared", rule: rule, now: now, into: &out)
                }
                if let absentFor = rule.absentFor, state.phase != .firing {
                    let reference = max(state.lastSampleAt ?? state.firstSeen, openSince)
                    if elapsed(since: reference, now) >= absentFor {
                        state.value = nil
                        move(&state, to: .firing, reason: "absent", rule: rule, now: now, into: &out)
                    }
                }
                states[position].series[slot] = state
            }
            if let absentFor = rule.absentFor, !states[position].sawSeries,
                states[position].kpiLevel?.phase != .firing, elapsed(since: openSince, now) >= absentFor
            {
                var state = states[position].kpiLevel ?? AlertSeriesState(group: [], now: now, flap: nil)
                move(&state, to: .firing, reason: "absent", rule: rule, now: now, into: &out)
                states[position].kpiLevel = state
            }
        }
        return out
    }

    /// Current pending and firing alerts (resolved ones are not kept), in rule order
    /// then series order, for the `alerts` control op and snapshots. `now` is the
    /// time of the listing; it changes nothing.
    public func active(now: Int64) -> [ActiveAlert] {
        var list: [ActiveAlert] = []
        for ruleState in states {
            let rule = ruleState.rule
            var candidates = ruleState.series
            if let kpiLevel = ruleState.kpiLevel { candidates.append(kpiLevel) }
            for state in candidates where state.isActive {
                list.append(
                    ActiveAlert(
                        rule: rule.name,
                        kpi: rule.kpi,
                        group: state.group,
                        phase: state.phase,
                        severity: rule.severity,
                        value: state.value,
                        threshold: rule.comparison?.threshold,
                        since: state.since,
                        message: render(rule, state),
                        flapping: state.isFlapping,
                        lastTransitionAt: state.lastTransitionAt,
                        reason: state.cause
                    )
                )
            }
        }
        return list
    }

    /// True when an alert on series `group` of `kpi` (or the KPI-level deadman of
    /// `kpi`) is firing: the KPI's status is then `critical` (DESIGN.md).
    public func isFiring(kpi: String, group: [TagPair]) -> Bool {
        guard let positions = rulesByKPI[kpi] else { return false }
        for position in positions {
            let ruleState = states[position]
            if let slot = ruleState.index[group], ruleState.series[slot].phase == .firing { return true }
            if ruleState.kpiLevel?.phase == .firing { return true }
        }
        return false
    }

    // MARK: Evaluation

    private func evaluate(rule position: Int, _ value: KPIValue, now: Int64, into out: inout [AlertTransition]) {
        syncSchedule(position, now: now, except: value.group, into: &out)
        let rule = states[position].rule
        if !states[position].sawSeries {
            states[position].sawSeries = true
            if var kpiLevel = states[position].kpiLevel, kpiLevel.phase == .firing {
                move(&kpiLevel, to: .resolved, reason: "sample", rule: rule, now: now, into: &out)
                states[position].kpiLevel = kpiLevel
            }
        }
        let slot: Int
        if let known = states[position].index[value.group] {
            slot = known
        } else {
            slot = states[position].series.count
            states[position].series.append(AlertSeriesState(group: value.group, now: now, flap: rule.flap))
            states[position].index[value.group] = slot
        }
        var state = states[position].series[slot]
        var freshSample = false
        if let sampleAt = value.lastSampleAt, sampleAt > (state.lastSampleAt ?? .min) {
            state.lastSampleAt = sampleAt
            freshSample = true
        }
        state.input = (value.value, value.samples)
        if states[position].scheduleOpen {
            if freshSample, state.phase == .firing, state.cause == "absent", let absentFor = rule.absentFor,
                let sampleAt = state.lastSampleAt, elapsed(since: sampleAt, now) < absentFor
            {
                state.value = value.value
                move(&state, to: .resolved, reason: "sample", rule: rule, now: now, into: &out)
            }
            judge(&state, value: value.value, samples: value.samples, rule: rule, now: now, into: &out)
        }
        states[position].series[slot] = state
    }

    /// Applies one verdict on `value` to `state`.
    private func judge(
        _ state: inout AlertSeriesState,
        value: Double?,
        samples: Int,
        rule: AlertRule,
        now: Int64,
        into out: inout [AlertTransition]
    ) {
        guard let comparison = rule.comparison, let value, samples >= rule.minSamples else { return }
        if state.phase == .firing, state.cause == "absent" { return }
        let breach =
            state.phase == .firing
            ? !comparison.isCleared(by: value, clearThreshold: rule.clearThreshold)
            : comparison.isBreached(by: value)
        state.value = value
        if let settings = rule.flap {
            var history = state.flap ?? FlapHistory(window: settings.window)
            let changed = history.record(breach, settings: settings)
            state.flap = history
            if changed {
                state.lastTransitionAt = now
                out.append(transition(rule, state, from: state.phase, reason: "flapping", now: now))
            }
        }
        switch state.phase {
        case .inactive, .resolved:
            guard breach else { return }
            let target: AlertPhase = rule.forDuration > 0 ? .pending : .firing
            move(&state, to: target, reason: "threshold", rule: rule, now: now, into: &out)
        case .pending:
            if !breach {
                move(&state, to: .inactive, reason: "cleared", rule: rule, now: now, into: &out)
            } else if elapsed(since: state.since, now) >= rule.forDuration {
                move(&state, to: .firing, reason: "threshold", rule: rule, now: now, into: &out)
            }
        case .firing:
            if breach {
                state.clearedAt = nil
                return
            }
            let clearedAt = state.clearedAt ?? now
            state.clearedAt = clearedAt
            if elapsed(since: clearedAt, now) >= rule.keepFiringFor {
                move(&state, to: .resolved, reason: "cleared", rule: rule, now: now, into: &out)
            }
        }
    }

    // MARK: Schedules

    /// Opens or closes the rule's schedule at `now`, resolving its alerts on closing
    /// and judging its series' latest values again on opening (except the series
    /// `except`, which the caller is about to judge).
    private func syncSchedule(_ position: Int, now: Int64, except: [TagPair]?, into out: inout [AlertTransition]) {
        guard let schedule = states[position].rule.schedule else { return }
        let minute = now / 60_000_000_000 - (now % 60_000_000_000 < 0 ? 1 : 0)
        let open: Bool
        if minute == states[position].cachedMinute {
            open = states[position].cachedOpen
        } else {
            open = schedule.isActive(at: now, calendar: calendar)
            states[position].cachedMinute = minute
            states[position].cachedOpen = open
        }
        guard open != states[position].scheduleOpen else { return }
        states[position].scheduleOpen = open
        let rule = states[position].rule
        if open {
            states[position].openSince = now
            for slot in states[position].series.indices where states[position].series[slot].group != except {
                var state = states[position].series[slot]
                if let input = state.input {
                    judge(&state, value: input.value, samples: input.samples, rule: rule, now: now, into: &out)
                }
                states[position].series[slot] = state
            }
            return
        }
        for slot in states[position].series.indices {
            var state = states[position].series[slot]
            close(&state, rule: rule, now: now, into: &out)
            states[position].series[slot] = state
        }
        if var kpiLevel = states[position].kpiLevel {
            close(&kpiLevel, rule: rule, now: now, into: &out)
            states[position].kpiLevel = kpiLevel
        }
    }

    private func close(_ state: inout AlertSeriesState, rule: AlertRule, now: Int64, into out: inout [AlertTransition])
    {
        switch state.phase {
        case .pending: move(&state, to: .inactive, reason: "schedule", rule: rule, now: now, into: &out)
        case .firing: move(&state, to: .resolved, reason: "schedule", rule: rule, now: now, into: &out)
        case .inactive, .resolved: break
        }
        state.flap?.reset()
    }

    /// `now − start`, saturated instead of trapping: sample times come from clients.
    private func elapsed(since start: Int64, _ now: Int64) -> Int64 {
        let (difference, overflow) = now.subtractingReportingOverflow(start)
        guard overflow else { return difference }
        return now < start ? .min : .max
    }

    // MARK: Transitions

    private func move(
        _ state: inout AlertSeriesState,
        to phase: AlertPhase,
        reason: String,
        rule: AlertRule,
        now: Int64,
        into out: inout [AlertTransition]
    ) {
        let from = state.phase
        state.phase = phase
        state.since = now
        state.lastTransitionAt = now
        state.clearedAt = nil
        if phase == .pending || phase == .firing { state.cause = reason }
        out.append(transition(rule, state, from: from, reason: reason, now: now))
    }

    private func transition(
        _ rule: AlertRule,
        _ state: AlertSeriesState,
        from: AlertPhase,
        reason: String,
        now: Int64
    ) -> AlertTransition {
        AlertTransition(
            rule: rule.name,
            kpi: rule.kpi,
            group: state.group,
            from: from,
            to: state.phase,
            value: state.value,
            threshold: rule.comparison?.threshold,
            severity: rule.severity,
            message: render(rule, state),
            since: state.since,
            at: now,
            flapping: state.isFlapping,
            reason: reason
        )
    }

    private func render(_ rule: AlertRule, _ state: AlertSeriesState) -> String {
        let context = AlertMessage.Context(
            rule: rule.name,
            kpi: rule.kpi,
            severity: rule.severity,
            value: state.value,
            threshold: rule.comparison?.threshold,
            since: state.since,
            group: state.group
        )
        return AlertMessage.render(rule.message, context, calendar: calendar)
    }
}
