import Foundation
import Testing
import VigieCore
import VigieTesting

/// One input of the alert state tests: a KPI value or a tick.
private enum AlertInput {
    case value(KPIValue)
    case tick
}

/// Checkpoints of the alert state machines: a restored evaluator makes exactly the
/// transitions the original makes.
@Suite("Alert state")
struct AlertStateTests {
    /// Pending then firing with hysteresis, flapping, keep_firing_for, deadman per
    /// series and per KPI, and a schedule (00:20–01:00 UTC) that opens and closes.
    static let rules: [AlertRule] = [
        AlertRule(
            name: "attente",
            kpi: "k",
            comparison: .above(30),
            forDuration: 60 * second,
            clearThreshold: 25,
            minSamples: 5
        ),
        AlertRule(name: "flap", kpi: "k", comparison: .above(20), flap: FlapDetection(window: 8, high: 40, low: 20)),
        AlertRule(name: "keep", kpi: "k", comparison: .above(40), keepFiringFor: 90 * second),
        AlertRule(name: "absent", kpi: "k", absentFor: 120 * second),
        AlertRule(name: "vide", kpi: "vide", absentFor: 60 * second, severity: "critical"),
        AlertRule(
            name: "ouverture",
            kpi: "k",
            comparison: .below(8),
            forDuration: 30 * second,
            schedule: AlertSchedule(startMinute: 20, endMinute: 60)
        ),
    ]

    /// One input per second (a tick), plus values of three series: a slow wave across
    /// every threshold with noise; `sud` goes quiet for a while (deadman), `nord` has
    /// few samples at times (no verdict).
    private static func inputs(from: Int64, seconds: Range<Int>, seed: UInt64) -> [(Int64, AlertInput)] {
        var rng = SeededGenerator(seed: seed)
        var out: [(Int64, AlertInput)] = []
        for t in seconds {
            let now = from + Int64(t) * second
            out.append((now, .tick))
            for (i, site) in ["nord", "sud", "centre"].enumerated() {
                guard Int.random(in: 0..<3, using: &rng) == 0 else { continue }
                if site == "sud", (900..<1_300).contains(t) || (3_000..<3_400).contains(t) { continue }
                let wave = 24 + 22 * sin(Double(t) / 90 + Double(i) * 2)
                let value = wave + Double.random(in: -6...6, using: &rng)
                let samples = site == "nord" && t % 500 < 60 ? 2 : 10
                let sampleAt: Int64? = Int.random(in: 0..<10, using: &rng) == 0 ? nil : now - second
                out.append(
                    (
                        now,
                        .value(
                            kpiValue(
                                site: site,
                                value: Int.random(in: 0..<40, using: &rng) == 0 ? nil : value,
                                samples: samples,
                                now: now,
                                lastSampleAt: sampleAt
                            )
                        )
                    )
                )
            }
        }
        return out
    }

    private static func run(_ evaluator: AlertEvaluator, _ inputs: [(Int64, AlertInput)]) -> [AlertTransition] {
        var out: [AlertTransition] = []
        for (now, input) in inputs {
            switch input {
            case .tick: out += evaluator.tick(now: now)
            case .value(let value): out += evaluator.evaluate(value, now: now)
            }
        }
        return out
    }

    private static func encoded(_ evaluator: AlertEvaluator) -> [UInt8] {
        var writer = BinaryWriter()
        evaluator.encodeState(into: &writer)
        return writer.bytes
    }

    @discardableResult
    private static func restore(_ evaluator: AlertEvaluator, _ bytes: [UInt8]) throws -> AlertRestoreReport {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            return try evaluator.restoreState(from: &reader)
        }
    }

    /// Checkpoint time: 40 minutes in, the schedule open.
    static let checkpoint = t0 + 40 * minute

    /// An evaluator run for 40 minutes from `t0`, with its transitions.
    private static func original() -> (AlertEvaluator, [AlertTransition]) {
        let evaluator = AlertEvaluator(rules: rules, timeZone: utc, now: t0)
        let transitions = run(evaluator, inputs(from: t0, seconds: 0..<2_400, seed: 21))
        return (evaluator, transitions)
    }

    @Test("after a restore, the same inputs give the same transitions, alerts and firing series")
    func sameTransitions() throws {
        let (original, before) = Self.original()
        // The run went through every kind of state worth keeping.
        let reasons = Set(before.map { "\($0.rule) \($0.from.rawValue)→\($0.to.rawValue) \($0.reason)" })
        for expected in [
            "attente inactive→pending threshold", "attente pending→firing threshold", "flap firing→firing flapping",
            "keep firing→resolved cleared", "absent inactive→firing absent", "absent firing→resolved sample",
            "vide inactive→firing absent", "ouverture inactive→pending threshold",
        ] {
            #expect(reasons.contains(expected), "\(expected)")
        }
        #expect(before.contains { $0.flapping })
        let bytes = Self.encoded(original)
        let restored = AlertEvaluator(rules: Self.rules, timeZone: utc, now: Self.checkpoint)
        let report = try Self.restore(restored, bytes)
        #expect(report.restoredRules == Self.rules.map(\.name))
        #expect(report.droppedRules.isEmpty && report.emptyRules.isEmpty)
        #expect(report.seriesRestored == 5 * 3 + 1)
        #expect(restored.active(now: Self.checkpoint) == original.active(now: Self.checkpoint))
        #expect(Self.encoded(restored) == bytes)

        // An hour and 20 minutes more, across the schedule's close at 01:00.
        let later = Self.inputs(from: t0, seconds: 2_400..<7_200, seed: 22)
        var compared: [AlertTransition] = []
        for chunk in stride(from: 0, to: later.count, by: 500) {
            let part = Array(later[chunk..<Swift.min(later.count, chunk + 500)])
            let expected = Self.run(original, part)
            #expect(Self.run(restored, part) == expected)
            compared += expected
            let now = part[part.count - 1].0
            #expect(restored.active(now: now) == original.active(now: now))
            for site in ["nord", "sud", "centre"] {
                let group = [TagPair(key: "site", value: site)]
                #expect(restored.isFiring(kpi: "k", group: group) == original.isFiring(kpi: "k", group: group))
            }
        }
        #expect(compared.count > 50)
        #expect(compared.contains { $0.rule == "ouverture" && $0.reason == "schedule" })
    }

    @Test("edited or removed rules are dropped and reported; message and severity edits are not edits")
    func changedRules() throws {
        let (original, _) = Self.original()
        var rules = Self.rules.filter { $0.name != "flap" }
        for i in rules.indices {
            if rules[i].name == "keep" { rules[i].keepFiringFor = 60 * second }
            if rules[i].name == "attente" {
                rules[i].message = "autre message"
                rules[i].severity = "critical"
            }
        }
        rules.append(AlertRule(name: "nouvelle", kpi: "k", comparison: .above(1)))
        let restored = AlertEvaluator(rules: rules, timeZone: utc, now: Self.checkpoint)
        let report = try Self.restore(restored, Self.encoded(original))
        #expect(report.droppedRules == ["flap (no longer configured)", "keep (definition changed)"])
        #expect(report.emptyRules == ["keep", "nouvelle"])
        #expect(report.restoredRules == ["attente", "absent", "vide", "ouverture"])
        let kept = Set(report.restoredRules)
        let expected = original.active(now: Self.checkpoint).filter { kept.contains($0.rule) }
        let active = restored.active(now: Self.checkpoint)
        #expect(active.map(\.rule) == expected.map(\.rule))
        #expect(active.map(\.since) == expected.map(\.since))
        #expect(active.map(\.phase) == expected.map(\.phase))
    }

    @Test("truncated or corrupt alert state throws or restores something usable, never crashes")
    func corruptInput() throws {
        let (original, _) = Self.original()
        let bytes = Self.encoded(original)
        let after = Self.inputs(from: t0, seconds: 2_400..<2_460, seed: 23)
        func attempt(_ input: [UInt8]) -> Bool {
            let evaluator = AlertEvaluator(rules: Self.rules, timeZone: utc, now: Self.checkpoint)
            let threw = (try? Self.restore(evaluator, input)) == nil
            _ = Self.run(evaluator, after)
            _ = evaluator.active(now: Self.checkpoint + hour)
            _ = evaluator.tick(now: Self.checkpoint + day)
            return threw
        }
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            #expect(attempt(Array(bytes[..<cut])), "cut at \(cut)")
        }
        var rng = SeededGenerator(seed: 24)
        for _ in 0..<300 {
            var flipped = bytes
            let i = Int.random(in: 0..<flipped.count, using: &rng)
            flipped[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            _ = attempt(flipped)
        }
        var versioned = bytes
        versioned[1] = 9
        #expect(attempt(versioned))
    }
}
