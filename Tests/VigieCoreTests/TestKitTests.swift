import Foundation
import Testing
import VigieCore
import VigieTesting

/// The test kit itself: `ManualClock` and the `ParsedLine` builders.
@Suite("Test kit")
struct TestKitTests {
    @Test("ManualClock moves only when told, also from many threads at once")
    func manualClock() async {
        let clock = ManualClock(t0)
        #expect(clock.now() == t0)
        clock.advance(by: 5 * second)
        #expect(clock.now() == t0 + 5 * second)
        clock.advance(by: .milliseconds(250))
        #expect(clock.now() == t0 + 5 * second + 250_000_000)
        clock.set(t0)
        #expect(clock.now() == t0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<1_000 { clock.advance(by: 1) }
                }
            }
        }
        #expect(clock.now() == t0 + 8_000)
    }

    @Test("withParsedLine builds the views the parser would")
    func builder() {
        let tags = [("site", "nord"), ("service", "état-civil")]
        let fields: [(String, SampleFieldValue)] = [
            ("a", 1.5), ("b", .int(-2)), ("c", .uint(3)), ("d", true), ("e", "texte"),
        ]
        withParsedLine(measurement: "guichet", tags: tags, fields: fields, timestamp: 42, lineNumber: 7) { line in
            #expect(line.lineNumber == 7)
            #expect(line.measurement.string == "guichet")
            #expect(line.timestamp == 42)
            #expect(
                line.tags.map { [$0.key.string, $0.value.string] } == [["site", "nord"], ["service", "état-civil"]]
            )
            #expect(line.fields.map(\.key.string) == ["a", "b", "c", "d", "e"])
            #expect(line.fields.map(\.value.numericValue) == [1.5, -2, 3, 1, nil])
            if case .string(let view) = line.fields[4].value {
                #expect(view.string == "texte")
            } else {
                Issue.record("field e should be a string")
            }
        }
        withParsedLine(measurement: "m", fields: ["value": 2], timestamp: nil) { line in
            #expect(line.tags.isEmpty)
            #expect(line.timestamp == nil)
            #expect(line.fields.first?.value.numericValue == 2)
        }
    }

    @Test("an engine driven by a ManualClock: prepared lines are reused without rebuilding")
    func engineWithClock() {
        let clock = ManualClock(t0)
        let engine = KPIEngine(
            kpis: [makeKPI(aggregate: .count, window: .sliding(nanoseconds: minute), buckets: 6)],
            timeZone: utc,
            now: clock.now()
        )
        let prepared = PreparedLine(measurement: "m", fields: [("value", 1)], timestamp: nil)
        for _ in 0..<30 {
            engine.apply(prepared.line, receivedAt: clock.now(), now: clock.now())
            clock.advance(by: 2 * second)
        }
        // 30 samples from t0 to t0 + 58 s; at t0 + 60 s the bucket [t0, t0 + 10 s) has left.
        #expect(engine.snapshot(now: clock.now() - 1).first?.value == 30)
        #expect(engine.snapshot(now: clock.now()).first?.value == 25)
        prepared.setTimestamp(clock.now() - 2 * minute)
        #expect(engine.apply(prepared.line, receivedAt: clock.now(), now: clock.now()) == 0)
        clock.advance(by: minute)
        #expect(engine.snapshot(now: clock.now()).first?.value == nil)
    }
}
