import Foundation
import Testing
import VigieCore
import VigieTesting

/// One input of a table row: a KPI value for a series, or a tick. Times are seconds
/// after the row's start.
struct AlertStep: Sendable {
    var at: Int64
    var isTick = false
    var value: Double?
    var samples = 100
    var site = "centre"
    /// `KPIValue.lastSampleAt`, seconds after the start; `nil` for none.
    var sampleAt: Int64?

    /// A value of series `site`, with a sample at `at` unless `sampleAt` says otherwise.
    static func v(
        _ at: Int64,
        _ value: Double?,
        samples: Int = 100,
        site: String = "centre",
        sampleAt: Int64?? = .none
    ) -> AlertStep {
        AlertStep(at: at, value: value, samples: samples, site: site, sampleAt: sampleAt ?? at)
    }

    /// A tick of the 1 s timer.
    static func tick(_ at: Int64) -> AlertStep {
        AlertStep(at: at, isTick: true)
    }
}

/// A row: a rule, inputs, and the transitions expected, each written
/// `"<seconds> <site or -> <from>→<to> <reason> <value or nil>[ flapping]"`.
struct AlertCase: Sendable, CustomTestStringConvertible {
    let label: String
    var rule: AlertRule
    var steps: [AlertStep]
    var expected: [String]
    var zone = "UTC"
    /// Start of the row, ns since the epoch.
    var start = t0
    var testDescription: String { label }
}

/// `AlertRule` named `r` on KPI `k`, durations in seconds.
func rule(
    above: Double? = nil,
    below: Double? = nil,
    for forSeconds: Int64 = 0,
    clear: Double? = nil,
    keep: Int64 = 0,
    minSamples: Int = 0,
    absent: Int64? = nil,
    flap: FlapDetection? = nil,
    message: String = "{value}",
    schedule: AlertSchedule? = nil
) -> AlertRule {
    AlertRule(
        name: "r",
        kpi: "k",
        comparison: above.map { .above($0) } ?? below.map { .below($0) },
        forDuration: forSeconds * second,
        clearThreshold: clear,
        keepFiringFor: keep * second,
        minSamples: minSamples,
        absentFor: absent.map { $0 * second },
        flap: flap,
        severity: "warning",
        message: message,
        schedule: schedule
    )
}

/// A value of KPI `name` for series `site=<site>` (ungrouped when `site` is empty).
func kpiValue(
    _ name: String = "k",
    site: String = "centre",
    value: Double?,
    samples: Int = 100,
    now: Int64,
    lastSampleAt: Int64?
) -> KPIValue {
    KPIValue(
        kpi: name,
        title: name,
        group: site.isEmpty ? [] : [TagPair(key: "site", value: site)],
        value: value,
        unit: "min",
        window: "1h",
        samples: samples,
        target: nil,
        status: .unknown,
        direction: .below,
        aggregate: "p90",
        ts: now,
        lastSampleAt: lastSampleAt
    )
}

/// `"60 centre pending→firing threshold 35"`, times relative to `start`.
func describe(_ transition: AlertTransition, start: Int64) -> String {
    let site = transition.group.first?.value ?? "-"
    let value = transition.value.map(AlertMessage.format) ?? "nil"
    let flapping = transition.flapping ? " flapping" : ""
    return "\((transition.at - start) / second) \(site) \(transition.from.rawValue)→\(transition.to.rawValue) "
        + "\(transition.reason) \(value)\(flapping)"
}

/// Runs a row with a `ManualClock` and returns its transitions, described.
func run(_ row: AlertCase) throws -> [String] {
    let clock = ManualClock(row.start)
    let evaluator = AlertEvaluator(rules: [row.rule], timeZone: try zone(row.zone), now: clock.now())
    var seen: [String] = []
    for step in row.steps {
        clock.set(row.start + step.at * second)
        let now = clock.now()
        let transitions: [AlertTransition]
        if step.isTick {
            transitions = evaluator.tick(now: now)
        } else {
            let value = kpiValue(
                site: step.site,
                value: step.value,
                samples: step.samples,
                now: now,
                lastSampleAt: step.sampleAt.map { row.start + $0 * second }
            )
            transitions = evaluator.evaluate(value, now: now)
        }
        for transition in transitions {
            #expect(transition.at == now)
            #expect(transition.rule == "r")
            #expect(transition.kpi == "k")
            seen.append(describe(transition, start: row.start))
        }
    }
    return seen
}

@Suite("Alert state machine")
struct AlertEvaluatorTests {
    static let threshold: [AlertCase] = [
        AlertCase(
            label: "for = 0 fires at once and resolves when the value clears",
            rule: rule(above: 30),
            steps: [.v(0, 25), .v(10, 35), .v(20, 36), .v(30, 30), .v(40, 31)],
            expected: [
                "10 centre inactive→firing threshold 35", "30 centre firing→resolved cleared 30",
                "40 centre resolved→firing threshold 31",
            ]
        ),
        AlertCase(
            label: "below fires under the threshold, strictly",
            rule: rule(below: 0.8),
            steps: [.v(0, 0.8), .v(10, 0.79), .v(20, 0.85)],
            expected: ["10 centre inactive→firing threshold 0.79", "20 centre firing→resolved cleared 0.85"]
        ),
        AlertCase(
            label: "for: pending, then firing on the tick once for has elapsed",
            rule: rule(above: 30, for: 300),
            steps: [.v(0, 35), .tick(1), .tick(299), .tick(300), .tick(301), .v(400, 20)],
            expected: [
                "0 centre inactive→pending threshold 35", "300 centre pending→firing threshold 35",
                "400 centre firing→resolved cleared 20",
            ]
        ),
        AlertCase(
            label: "for: a value after for has elapsed fires without waiting for the tick",
            rule: rule(above: 30, for: 300),
            steps: [.v(0, 35), .v(299, 40), .v(300, 41), .tick(301)],
            expected: ["0 centre inactive→pending threshold 35", "300 centre pending→firing threshold 41"]
        ),
        AlertCase(
            label: "for: pending goes back to inactive if the value clears in time",
            rule: rule(above: 30, for: 300),
            steps: [.v(0, 35), .v(100, 20), .tick(300), .v(310, 35), .tick(609), .tick(610)],
            expected: [
                "0 centre inactive→pending threshold 35", "100 centre pending→inactive cleared 20",
                "310 centre inactive→pending threshold 35", "610 centre pending→firing threshold 35",
            ]
        ),
        AlertCase(
            label: "hysteresis (above): resolves only under clear_below",
            rule: rule(above: 30, clear: 25),
            steps: [.v(0, 35), .v(10, 28), .v(20, 31), .v(30, 25), .v(40, 24.9), .v(50, 28), .v(60, 30.5)],
            expected: [
                "0 centre inactive→firing threshold 35", "40 centre firing→resolved cleared 24.9",
                "60 centre resolved→firing threshold 30.5",
            ]
        ),
        AlertCase(
            label: "hysteresis (below): resolves only over clear_above",
            rule: rule(below: 0.8, clear: 0.85),
            steps: [.v(0, 0.7), .v(10, 0.82), .v(20, 0.85), .v(30, 0.86)],
            expected: ["0 centre inactive→firing threshold 0.7", "30 centre firing→resolved cleared 0.86"]
        ),
        AlertCase(
            label: "hysteresis does not hold a pending alert",
            rule: rule(above: 30, for: 60, clear: 25),
            steps: [.v(0, 35), .v(10, 28), .tick(60)],
            expected: ["0 centre inactive→pending threshold 35", "10 centre pending→inactive cleared 28"]
        ),
        AlertCase(
            label: "for + hysteresis: fires after for, holds between the thresholds, breaches again",
            rule: rule(above: 30, for: 60, clear: 25),
            steps: [.v(0, 35), .tick(60), .v(70, 28), .tick(200), .v(210, 24), .v(220, 35), .tick(279), .tick(280)],
            expected: [
                "0 centre inactive→pending threshold 35", "60 centre pending→firing threshold 35",
                "210 centre firing→resolved cleared 24", "220 centre resolved→pending threshold 35",
                "280 centre pending→firing threshold 35",
            ]
        ),
        AlertCase(
            label: "keep_firing_for: stays firing after clearing, resolves on the tick",
            rule: rule(above: 30, keep: 60),
            steps: [.v(0, 35), .v(10, 20), .tick(69), .v(69, 21), .tick(70), .tick(71)],
            expected: ["0 centre inactive→firing threshold 35", "70 centre firing→resolved cleared 21"]
        ),
        AlertCase(
            label: "keep_firing_for + re-breach: the wait restarts at the next clear value",
            rule: rule(above: 30, keep: 60),
            steps: [.v(0, 35), .v(10, 20), .v(40, 35), .tick(70), .v(80, 20), .tick(139), .tick(140)],
            expected: ["0 centre inactive→firing threshold 35", "140 centre firing→resolved cleared 20"]
        ),
        AlertCase(
            label: "keep_firing_for: a value after the wait resolves without the tick",
            rule: rule(above: 30, keep: 60),
            steps: [.v(0, 35), .v(10, 20), .v(80, 19)],
            expected: ["0 centre inactive→firing threshold 35", "80 centre firing→resolved cleared 19"]
        ),
        AlertCase(
            label: "keep_firing_for + hysteresis: the wait starts only under clear_below",
            rule: rule(above: 30, clear: 25, keep: 60),
            steps: [.v(0, 35), .v(10, 28), .tick(70), .v(80, 24), .tick(139), .tick(140)],
            expected: ["0 centre inactive→firing threshold 35", "140 centre firing→resolved cleared 24"]
        ),
        AlertCase(
            label: "for + keep_firing_for + hysteresis together",
            rule: rule(above: 30, for: 30, clear: 25, keep: 60),
            steps: [
                .v(0, 35), .v(20, 28), .v(25, 35), .tick(55), .v(60, 24), .v(90, 27), .v(100, 20), .tick(160),
            ],
            expected: [
                "0 centre inactive→pending threshold 35", "20 centre pending→inactive cleared 28",
                "25 centre inactive→pending threshold 35", "55 centre pending→firing threshold 35",
                "160 centre firing→resolved cleared 20",
            ]
        ),
        AlertCase(
            label: "min_samples: no verdict on a thin window, state unchanged",
            rule: rule(above: 30, minSamples: 10),
            steps: [
                .v(0, 35, samples: 3), .v(10, 35, samples: 10), .v(20, 20, samples: 2), .v(30, 20, samples: 9),
                .v(40, 20, samples: 10),
            ],
            expected: ["10 centre inactive→firing threshold 35", "40 centre firing→resolved cleared 20"]
        ),
        AlertCase(
            label: "a nil value gives no verdict: a firing alert stays firing",
            rule: rule(above: 30),
            steps: [.v(0, nil), .v(10, 35), .v(20, nil), .tick(1_000), .v(1_010, 10)],
            expected: ["10 centre inactive→firing threshold 35", "1010 centre firing→resolved cleared 10"]
        ),
        AlertCase(
            label: "min_samples keeps a pending alert pending (for still counts on the tick)",
            rule: rule(above: 30, for: 60, minSamples: 5),
            steps: [.v(0, 35, samples: 5), .v(30, 10, samples: 1), .tick(60)],
            expected: ["0 centre inactive→pending threshold 35", "60 centre pending→firing threshold 35"]
        ),
        AlertCase(
            label: "series are independent",
            rule: rule(above: 30, for: 60),
            steps: [.v(0, 35, site: "nord"), .v(30, 40, site: "sud"), .tick(60), .v(70, 10, site: "nord"), .tick(90)],
            expected: [
                "0 nord inactive→pending threshold 35", "30 sud inactive→pending threshold 40",
                "60 nord pending→firing threshold 35", "70 nord firing→resolved cleared 10",
                "90 sud pending→firing threshold 40",
            ]
        ),
    ]

    static let absence: [AlertCase] = [
        AlertCase(
            label: "absent_for per series: fires when a series goes quiet, resolves on a fresh sample",
            rule: rule(absent: 120),
            steps: [.v(0, 5), .tick(60), .v(60, 6), .tick(179), .tick(180), .tick(181), .v(200, 7), .tick(320)],
            expected: [
                "180 centre inactive→firing absent nil", "200 centre firing→resolved sample 7",
                "320 centre resolved→firing absent nil",
            ]
        ),
        AlertCase(
            label: "absent_for per KPI: no series at all since start",
            rule: rule(absent: 120),
            steps: [.tick(119), .tick(120), .tick(121), .v(130, 5), .tick(200)],
            expected: ["120 - inactive→firing absent nil", "130 - firing→resolved sample nil"]
        ),
        AlertCase(
            label: "absent_for per KPI is silent once a series was seen",
            rule: rule(absent: 120),
            steps: [.v(10, 5), .tick(120), .tick(129), .tick(130)],
            expected: ["130 centre inactive→firing absent nil"]
        ),
        AlertCase(
            label: "a recomputed value without a newer sample does not end an absence",
            rule: rule(absent: 120),
            steps: [.v(0, 5), .tick(120), .v(130, nil, sampleAt: 0), .v(140, nil, sampleAt: .some(nil)), .v(150, 4)],
            expected: ["120 centre inactive→firing absent nil", "150 centre firing→resolved sample 4"]
        ),
        AlertCase(
            label: "a newer sample that is itself older than absent_for does not end an absence",
            rule: rule(absent: 120),
            steps: [.v(0, 5), .tick(300), .v(310, 5, sampleAt: 100), .v(320, 5, sampleAt: 250)],
            expected: ["300 centre inactive→firing absent nil", "320 centre firing→resolved sample 5"]
        ),
        AlertCase(
            label: "a series without sample times counts from when it was first seen",
            rule: rule(absent: 120),
            steps: [.v(10, 5, sampleAt: .some(nil)), .tick(129), .tick(130)],
            expected: ["130 centre inactive→firing absent nil"]
        ),
        AlertCase(
            label: "threshold + absent_for: a firing alert stays firing when quiet; absence then breach",
            rule: rule(above: 30, absent: 120),
            steps: [.v(0, 35), .tick(200), .v(210, 20), .tick(330), .v(340, 35)],
            expected: [
                "0 centre inactive→firing threshold 35", "210 centre firing→resolved cleared 20",
                "330 centre resolved→firing absent nil", "340 centre firing→resolved sample 35",
                "340 centre resolved→firing threshold 35",
            ]
        ),
        AlertCase(
            label: "threshold + absent_for: a pending alert fires for absence",
            rule: rule(above: 30, for: 600, absent: 120),
            steps: [.v(0, 35), .tick(120), .v(130, 10)],
            expected: [
                "0 centre inactive→pending threshold 35", "120 centre pending→firing absent nil",
                "130 centre firing→resolved sample 10",
            ]
        ),
    ]

    /// Alternating breaches: 35, 20, 35, 20, 35, 20, then 20 for ever. Window 10,
    /// weights 1.2 … 0.8: after evaluation 6 the percent is 61 % (> 50, flapping
    /// starts), then 58, 56, 53, 50, 39, 28 (held, between the thresholds) and 18 %
    /// at evaluation 13 (< 25, flapping stops).
    static let flapInputs: [AlertStep] = [35.0, 20, 35, 20, 35, 20, 20, 20, 20, 20, 20, 20, 20, 20].enumerated().map {
        .v(Int64($0.offset), $0.element)
    }

    static let flapping: [AlertCase] = [
        AlertCase(
            label: "flapping starts over high, is held between high and low, stops under low",
            rule: rule(above: 30, flap: FlapDetection(window: 10, high: 50, low: 25)),
            steps: flapInputs,
            expected: [
                "0 centre inactive→firing threshold 35", "1 centre firing→resolved cleared 20",
                "2 centre resolved→firing threshold 35", "3 centre firing→resolved cleared 20",
                "4 centre resolved→firing threshold 35", "5 centre firing→firing flapping 20 flapping",
                "5 centre firing→resolved cleared 20 flapping", "12 centre resolved→resolved flapping 20",
            ]
        ),
        AlertCase(
            label: "flap detection off: the same input only changes phase",
            rule: rule(above: 30),
            steps: flapInputs,
            expected: [
                "0 centre inactive→firing threshold 35", "1 centre firing→resolved cleared 20",
                "2 centre resolved→firing threshold 35", "3 centre firing→resolved cleared 20",
                "4 centre resolved→firing threshold 35", "5 centre firing→resolved cleared 20",
            ]
        ),
        AlertCase(
            label: "a lower high threshold flaps sooner; transitions while flapping are flagged",
            rule: rule(above: 30, flap: FlapDetection(window: 10, high: 30, low: 25)),
            steps: flapInputs,
            expected: [
                "0 centre inactive→firing threshold 35", "1 centre firing→resolved cleared 20",
                "2 centre resolved→firing threshold 35", "3 centre firing→firing flapping 20 flapping",
                "3 centre firing→resolved cleared 20 flapping", "4 centre resolved→firing threshold 35 flapping",
                "5 centre firing→resolved cleared 20 flapping", "12 centre resolved→resolved flapping 20",
            ]
        ),
        AlertCase(
            label: "hysteresis makes the verdict steady: no flapping inside the band",
            rule: rule(above: 30, clear: 15, flap: FlapDetection(window: 10, high: 50, low: 25)),
            steps: flapInputs,
            expected: ["0 centre inactive→firing threshold 35"]
        ),
        AlertCase(
            label: "flapping of a pending alert (for > 0)",
            rule: rule(above: 30, for: 600, flap: FlapDetection(window: 10, high: 50, low: 25)),
            steps: flapInputs,
            expected: [
                "0 centre inactive→pending threshold 35", "1 centre pending→inactive cleared 20",
                "2 centre inactive→pending threshold 35", "3 centre pending→inactive cleared 20",
                "4 centre inactive→pending threshold 35", "5 centre pending→pending flapping 20 flapping",
                "5 centre pending→inactive cleared 20 flapping", "12 centre inactive→inactive flapping 20",
            ]
        ),
    ]

    @Test("threshold, for, hysteresis, keep_firing_for, min_samples", arguments: threshold)
    func thresholdRows(_ row: AlertCase) throws {
        #expect(try run(row) == row.expected)
    }

    @Test("absent_for per series and per KPI", arguments: absence)
    func absenceRows(_ row: AlertCase) throws {
        #expect(try run(row) == row.expected)
    }

    @Test("flap detection", arguments: flapping)
    func flappingRows(_ row: AlertCase) throws {
        #expect(try run(row) == row.expected)
    }
}
