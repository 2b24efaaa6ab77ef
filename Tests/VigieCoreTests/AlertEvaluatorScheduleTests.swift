import Foundation
import Testing
import VigieCore
import VigieTesting

/// Rules with a schedule, in Europe/Paris: opening, closing, midnight and DST nights.
/// Row starts are computed independently with Python's zoneinfo.
@Suite("Alert schedules in the state machine")
struct AlertEvaluatorScheduleTests {
    /// Weekdays 07:30–15:30.
    static let office = AlertSchedule(weekdays: Set(1...5), startMinute: 450, endMinute: 930)
    /// Monday 2026-03-02 07:00 CET.
    static let monday0700: Int64 = 1_772_431_200 * second

    static let rows: [AlertCase] = [
        AlertCase(
            label: "closed: nothing judged; opening judges the latest value; closing resolves",
            rule: rule(above: 30, schedule: office),
            steps: [
                .v(0, 35), .tick(1_799), .tick(1_800), .v(1_900, 36), .tick(30_599), .tick(30_600), .v(30_700, 40),
                .tick(88_199), .tick(88_200),
            ],
            expected: [
                "1800 centre inactive→firing threshold 35", "30600 centre firing→resolved schedule 36",
                "88200 centre resolved→firing threshold 40",
            ],
            zone: "Europe/Paris",
            start: monday0700
        ),
        AlertCase(
            label: "closing sends a pending alert back to inactive; for does not run while closed",
            rule: rule(above: 30, for: 600, schedule: office),
            steps: [.v(30_000, 35), .tick(30_599), .tick(30_600), .tick(31_000), .tick(88_199), .tick(88_200)],
            expected: [
                "30000 centre inactive→pending threshold 35", "30600 centre pending→inactive schedule 35",
                "88200 centre inactive→pending threshold 35",
            ],
            zone: "Europe/Paris",
            start: monday0700
        ),
        AlertCase(
            label: "a value after closing time closes the schedule before the tick does",
            rule: rule(above: 30, schedule: office),
            steps: [.v(30_000, 35), .v(30_600, 40), .tick(30_601)],
            expected: ["30000 centre inactive→firing threshold 35", "30600 centre firing→resolved schedule 35"],
            zone: "Europe/Paris",
            start: monday0700
        ),
        AlertCase(
            label: "deadman counts from the opening, per KPI and per series, not across the night",
            rule: rule(absent: 1_800, schedule: office),
            steps: [
                .tick(1_800), .tick(3_599), .tick(3_600), .v(3_700, 5), .tick(5_499), .v(28_800, 6), .tick(30_599),
                .tick(30_600), .tick(88_200), .tick(89_999), .tick(90_000),
            ],
            expected: [
                "3600 - inactive→firing absent nil", "3700 - firing→resolved sample nil",
                "90000 centre inactive→firing absent nil",
            ],
            zone: "Europe/Paris",
            start: monday0700
        ),
        AlertCase(
            label: "a window across midnight: Friday 22:00 to Saturday 06:00",
            rule: rule(
                above: 30,
                schedule: AlertSchedule(weekdays: [5], startMinute: 1_320, endMinute: 360)
            ),
            steps: [.v(0, 35), .tick(3_599), .tick(3_600), .tick(32_399), .tick(32_400)],
            expected: ["3600 centre inactive→firing threshold 35", "32400 centre firing→resolved schedule 35"],
            zone: "Europe/Paris",
            start: 1_792_782_000 * second  // Friday 2026-10-23 21:00 CEST
        ),
        AlertCase(
            label: "autumn DST night: 22:00–06:00 lasts nine wall-clock hours and ten real ones",
            rule: rule(
                above: 30,
                schedule: AlertSchedule(weekdays: [6, 7], startMinute: 1_320, endMinute: 360)
            ),
            steps: [.v(0, 35), .tick(3_600), .tick(35_999), .tick(36_000), .tick(93_599), .tick(93_600)],
            expected: [
                "3600 centre inactive→firing threshold 35", "36000 centre firing→resolved schedule 35",
                "93600 centre resolved→firing threshold 35",
            ],
            zone: "Europe/Paris",
            start: 1_792_868_400 * second  // Saturday 2026-10-24 21:00 CEST
        ),
        AlertCase(
            label: "spring DST: the Monday after opens at 07:30 CEST",
            rule: rule(above: 30, schedule: office),
            steps: [.v(0, 35), .tick(1_799), .tick(1_800), .tick(30_599), .tick(30_600)],
            expected: ["1800 centre inactive→firing threshold 35", "30600 centre firing→resolved schedule 35"],
            zone: "Europe/Paris",
            start: 1_774_846_800 * second  // Monday 2026-03-30 07:00 CEST
        ),
        AlertCase(
            label: "closing forgets flap history (the closing transition keeps its flag)",
            rule: rule(above: 30, flap: FlapDetection(window: 10, high: 50, low: 25), schedule: office),
            steps: [
                .v(1_800, 35), .v(1_801, 20), .v(1_802, 35), .v(1_803, 20), .v(1_804, 35), .v(1_805, 20),
                .v(1_806, 35), .tick(30_600), .tick(88_200),
            ],
            expected: [
                "1800 centre inactive→firing threshold 35", "1801 centre firing→resolved cleared 20",
                "1802 centre resolved→firing threshold 35", "1803 centre firing→resolved cleared 20",
                "1804 centre resolved→firing threshold 35", "1805 centre firing→firing flapping 20 flapping",
                "1805 centre firing→resolved cleared 20 flapping", "1806 centre resolved→firing threshold 35 flapping",
                "30600 centre firing→resolved schedule 35 flapping", "88200 centre resolved→firing threshold 35",
            ],
            zone: "Europe/Paris",
            start: monday0700
        ),
    ]

    @Test("schedules open, close and survive DST", arguments: rows)
    func scheduleRows(_ row: AlertCase) throws {
        #expect(try run(row) == row.expected)
    }
}

/// What transitions and active alerts carry besides the phase.
@Suite("Alert evaluator")
struct AlertEvaluatorContentTests {
    @Test func transitionsCarryRenderedMessageAndRuleFields() throws {
        let rule = AlertRule(
            name: "attente_excessive",
            kpi: "etat_civil.attente_p90",
            comparison: .above(30),
            forDuration: 5 * minute,
            clearThreshold: 25,
            severity: "critical",
            message: "Attente p90 de {value} min au site {group.site} depuis {since} (seuil {threshold}, {severity})"
        )
        let clock = ManualClock(t0 + 7 * hour)  // 18:00 in Nouméa
        let evaluator = AlertEvaluator(rules: [rule], timeZone: try zone("Pacific/Noumea"), now: clock.now())
        let value = kpiValue(
            "etat_civil.attente_p90",
            site: "nord",
            value: 31.456,
            now: clock.now(),
            lastSampleAt: clock.now()
        )
        let pending = evaluator.evaluate(value, now: clock.now())
        #expect(
            pending == [
                AlertTransition(
                    rule: "attente_excessive",
                    kpi: "etat_civil.attente_p90",
                    group: [TagPair(key: "site", value: "nord")],
                    from: .inactive,
                    to: .pending,
                    value: 31.456,
                    threshold: 30,
                    severity: "critical",
                    message: "Attente p90 de 31.46 min au site nord depuis 18:00 (seuil 30, critical)",
                    since: t0 + 7 * hour,
                    at: t0 + 7 * hour,
                    flapping: false,
                    reason: "threshold"
                )
            ]
        )
        clock.advance(by: .seconds(305))
        let firing = evaluator.tick(now: clock.now())
        #expect(firing.count == 1)
        #expect(firing.first?.since == clock.now())
        #expect(firing.first?.message == "Attente p90 de 31.46 min au site nord depuis 18:05 (seuil 30, critical)")
    }

    @Test func activeListsPendingAndFiringOnly() throws {
        let rules = [
            AlertRule(
                name: "haut",
                kpi: "k",
                comparison: .above(30),
                forDuration: minute,
                message: "{group.site} {value}"
            ),
            AlertRule(name: "muet", kpi: "k", absentFor: 10 * minute, severity: "critical"),
            AlertRule(name: "autre", kpi: "autre", absentFor: minute),
        ]
        let evaluator = AlertEvaluator(rules: rules, timeZone: utc, now: t0)
        #expect(evaluator.rules == rules)
        #expect(evaluator.watches(kpi: "k"))
        #expect(evaluator.watches(kpi: "autre"))
        #expect(!evaluator.watches(kpi: "kk"))
        #expect(evaluator.evaluate(kpiValue("kk", value: 99, now: t0, lastSampleAt: t0), now: t0).isEmpty)

        _ = evaluator.evaluate(kpiValue(site: "nord", value: 35, now: t0, lastSampleAt: t0), now: t0)
        _ = evaluator.evaluate(kpiValue(site: "sud", value: 40, now: t0, lastSampleAt: t0), now: t0)
        _ = evaluator.evaluate(kpiValue(site: "est", value: 45, now: t0, lastSampleAt: t0), now: t0)
        let later = t0 + 2 * minute
        let ticked = evaluator.tick(now: later)
        #expect(ticked.map(\.rule) == ["haut", "haut", "haut", "autre"])
        #expect(ticked.last?.group == [])
        #expect(ticked.last?.threshold == nil)
        _ = evaluator.evaluate(kpiValue(site: "est", value: 10, now: later, lastSampleAt: later), now: later)
        _ = evaluator.evaluate(kpiValue(site: "ouest", value: 50, now: later, lastSampleAt: later), now: later)

        let active = evaluator.active(now: later)
        #expect(active.map(\.rule) == ["haut", "haut", "haut", "autre"])
        #expect(active.map { $0.group.first?.value ?? "-" } == ["nord", "sud", "ouest", "-"])
        #expect(active.map(\.phase) == [.firing, .firing, .pending, .firing])
        #expect(active.map(\.reason) == ["threshold", "threshold", "threshold", "absent"])
        #expect(
            active.first
                == ActiveAlert(
                    rule: "haut",
                    kpi: "k",
                    group: [TagPair(key: "site", value: "nord")],
                    phase: .firing,
                    severity: "warning",
                    value: 35,
                    threshold: 30,
                    since: later,
                    message: "nord 35",
                    flapping: false,
                    lastTransitionAt: later,
                    reason: "threshold"
                )
        )
        #expect(evaluator.isFiring(kpi: "k", group: [TagPair(key: "site", value: "nord")]))
        #expect(!evaluator.isFiring(kpi: "k", group: [TagPair(key: "site", value: "est")]))
        #expect(!evaluator.isFiring(kpi: "k", group: [TagPair(key: "site", value: "ouest")]))
        #expect(evaluator.isFiring(kpi: "autre", group: []))
        #expect(!evaluator.isFiring(kpi: "nope", group: []))
    }

    @Test func rulesOnOneKPIAreEvaluatedInOrder() {
        let rules = [
            AlertRule(name: "b", kpi: "k", comparison: .above(10)),
            AlertRule(name: "a", kpi: "k", comparison: .above(20), severity: "critical"),
            AlertRule(name: "c", kpi: "k", comparison: .below(5)),
        ]
        let evaluator = AlertEvaluator(rules: rules, timeZone: utc, now: t0)
        let transitions = evaluator.evaluate(kpiValue(value: 25, now: t0, lastSampleAt: t0), now: t0)
        #expect(transitions.map(\.rule) == ["b", "a"])
        #expect(transitions.map(\.severity) == ["warning", "critical"])
        #expect(transitions.map(\.message) == ["k 25 (seuil 10)", "k 25 (seuil 20)"])
    }

    @Test func ungroupedKPIDeadmanHandsOverToItsSeries() {
        let evaluator = AlertEvaluator(
            rules: [AlertRule(name: "r", kpi: "k", comparison: .above(30), absentFor: minute)],
            timeZone: utc,
            now: t0
        )
        let fired = evaluator.tick(now: t0 + minute)
        #expect(fired.map(\.to) == [.firing])
        let now = t0 + minute + second
        let handOver = evaluator.evaluate(kpiValue(site: "", value: 35, now: now, lastSampleAt: now), now: now)
        #expect(
            handOver.map { "\($0.from)→\($0.to) \($0.reason)" } == [
                "firing→resolved sample", "inactive→firing threshold",
            ]
        )
        #expect(handOver.allSatisfy { $0.group.isEmpty })
        #expect(evaluator.active(now: now).count == 1)
    }

    @Test func extremeSampleTimesDoNotTrap() {
        let evaluator = AlertEvaluator(
            rules: [AlertRule(name: "r", kpi: "k", comparison: .above(1), forDuration: minute, absentFor: minute)],
            timeZone: utc,
            now: t0
        )
        for sampleAt in [Int64.min + 1, Int64.max, -1] {
            _ = evaluator.evaluate(kpiValue(value: 5, now: t0, lastSampleAt: sampleAt), now: t0)
        }
        for now in [Int64.min, t0, Int64.max] {
            _ = evaluator.tick(now: now)
            _ = evaluator.evaluate(kpiValue(value: 5, now: now, lastSampleAt: now), now: now)
        }
        #expect(evaluator.active(now: Int64.max).count == 1)
    }
}
