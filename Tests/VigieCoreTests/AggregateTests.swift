import Foundation
import Testing
import VigieCore
import VigieTesting

/// Every aggregate, fed random data through the engine, against a value computed
/// independently from the raw samples.
@Suite("Aggregates against exact values")
struct AggregateTests {
    /// Random samples with timestamps spread over the 50 minutes before `now`.
    struct Data {
        var values: [Double] = []
        var timestamps: [Int64] = []
        let now = t0 + 2 * hour

        init(count: Int, seed: UInt64, integers: Bool = false) {
            var rng = SeededGenerator(seed: seed)
            for _ in 0..<count {
                let v =
                    integers
                    ? Double(Int.random(in: 0...100, using: &rng))
                    : Double.random(in: -20...180, using: &rng)
                values.append(v)
                timestamps.append(now - Int64.random(in: 0..<(50 * minute), using: &rng))
            }
        }

        /// Value of the sample with the latest timestamp (the later one on a tie).
        var last: Double {
            var best = 0
            for i in values.indices where timestamps[i] >= timestamps[best] { best = i }
            return values[best]
        }
    }

    static func exact(_ aggregate: Aggregate, _ data: Data) -> Double? {
        let v = data.values
        switch aggregate {
        case .count: return Double(v.count)
        case .sum: return v.reduce(0, +)
        case .mean: return v.reduce(0, +) / Double(v.count)
        case .min: return v.min()
        case .max: return v.max()
        case .last: return data.last
        case .rate(let per): return Double(v.count) / 3_600 * per
        case .quantile(let q): return exactQuantile(v, q)
        case .share(let threshold, let below):
            return Double(v.filter { below ? $0 < threshold : $0 > threshold }.count) / Double(v.count)
        case .ratio: return nil
        }
    }

    static let scalarAggregates: [Aggregate] = [
        .count, .sum, .mean, .min, .max, .last, .rate(perSeconds: 1), .rate(perSeconds: 3_600),
        .share(threshold: 50, below: true), .share(threshold: 50, below: false),
    ]

    @Test("scalar aggregates over a 1 h sliding window", arguments: scalarAggregates)
    func scalar(aggregate: Aggregate) {
        // Integers so that `share` meets values equal to its threshold (strictly below/above).
        let data = Data(count: 3_000, seed: 11, integers: aggregate.name == "share")
        let engine = KPIEngine(kpis: [makeKPI(aggregate: aggregate)], timeZone: utc, now: data.now)
        for i in data.values.indices {
            #expect(engine.feed(data.values[i], at: data.timestamps[i], now: data.now) == 1)
        }
        let value = engine.onlyValue(now: data.now)
        #expect(value?.samples == data.values.count)
        let expected = Self.exact(aggregate, data)
        #expect(
            close(value?.value, expected, 1e-9),
            "\(aggregate.name): \(String(describing: value?.value)) vs \(String(describing: expected))"
        )
    }

    @Test(
        "quantiles within 1 % of the exact sample quantile",
        arguments: [Aggregate.quantile(0.5), .quantile(0.9), .quantile(0.95), .quantile(0.99), .quantile(0.75)]
    )
    func quantile(aggregate: Aggregate) {
        let data = Data(count: 5_000, seed: 12)
        let engine = KPIEngine(kpis: [makeKPI(aggregate: aggregate)], timeZone: utc, now: data.now)
        for i in data.values.indices {
            engine.feed(data.values[i], at: data.timestamps[i], now: data.now)
        }
        let value = engine.onlyValue(now: data.now)?.value ?? .nan
        let expected = Self.exact(aggregate, data) ?? .nan
        #expect(relativeError(value, expected) <= 0.01, "\(aggregate): \(value) vs \(expected)")
    }

    @Test("quantiles over a calendar window are within 1 % too")
    func quantileCalendar() {
        let data = Data(count: 2_000, seed: 13)
        let engine = KPIEngine(
            kpis: [makeKPI(aggregate: .quantile(0.9), window: .today)],
            timeZone: utc,
            now: data.now
        )
        for i in data.values.indices {
            engine.feed(data.values[i], at: data.timestamps[i], now: data.now)
        }
        let value = engine.onlyValue(now: data.now)?.value ?? .nan
        #expect(relativeError(value, exactQuantile(data.values, 0.9) ?? .nan) <= 0.01)
    }

    @Test("rate over a sliding window: samples ÷ window length, per hour")
    func rateSliding() {
        let engine = KPIEngine(
            kpis: [
                makeKPI(aggregate: .rate(perSeconds: 3_600), window: .sliding(nanoseconds: 15 * minute), buckets: 15)
            ],
            timeZone: utc,
            now: t0
        )
        let now = t0 + hour
        // Within the last 14 minutes: on a bucket boundary the window holds the 14
        // full buckets before `now` and the (empty) current one.
        for i in 0..<90 { engine.feed(1, at: now - Int64(i) * 9 * second, now: now) }
        // 90 samples in a 15-minute window = 360 per hour.
        #expect(close(engine.onlyValue(now: now)?.value, 360))
    }

    @Test("rate over a calendar window: samples ÷ time since the period began, per hour")
    func rateCalendar() {
        let start = t0  // UTC midnight
        let engine = KPIEngine(
            kpis: [makeKPI(aggregate: .rate(perSeconds: 3_600), window: .today)],
            timeZone: utc,
            now: start
        )
        let now = start + 6 * hour
        var rng = SeededGenerator(seed: 14)
        for _ in 0..<1_234 { engine.feed(2, at: start + Int64.random(in: 0..<(6 * hour), using: &rng), now: now) }
        #expect(close(engine.onlyValue(now: now)?.value, 1_234.0 / 6))
        // Later, with no new sample, the rate falls.
        #expect(close(engine.onlyValue(now: start + 12 * hour)?.value, 1_234.0 / 12))
    }

    @Test("ratio: Σ numerator ÷ Σ denominator of the same series, from one line or two")
    func ratio() {
        let kpi = makeKPI(
            metric: "appels",
            field: "decroche",
            filters: [TagFilter(key: "service", value: "accueil")],
            groupBy: ["site"],
            aggregate: .ratio,
            window: .today,
            denominator: SampleSelector(
                metric: "appels",
                field: "recu",
                filters: [TagFilter(key: "service", value: "accueil")]
            )
        )
        let engine = KPIEngine(kpis: [kpi], timeZone: utc, now: t0)
        let now = t0 + hour
        var rng = SeededGenerator(seed: 15)
        var num: [String: Double] = [:]
        var den: [String: Double] = [:]
        for i in 0..<500 {
            let site = ["nord", "sud"][i % 2]
            let received = Double(Int.random(in: 1...30, using: &rng))
            let answered = Double(Int.random(in: 0...Int(received), using: &rng))
            let tags = [("service", "accueil"), ("site", site)]
            if i % 5 == 0 {
                // Numerator and denominator on separate lines.
                #expect(
                    engine.feed("appels", tags: tags, fields: [("decroche", .float(answered))], at: now, now: now) == 1
                )
                #expect(
                    engine.feed("appels", tags: tags, fields: [("recu", .int(Int64(received)))], at: now, now: now) == 1
                )
            } else {
                let fields: [(String, SampleFieldValue)] = [("recu", .float(received)), ("decroche", .float(answered))]
                #expect(engine.feed("appels", tags: tags, fields: fields, at: now, now: now) == 2)
            }
            num[site, default: 0] += answered
            den[site, default: 0] += received
        }
        // Another service is filtered out.
        engine.feed(
            "appels",
            tags: [("service", "voirie"), ("site", "nord")],
            fields: [("recu", 1000), ("decroche", 0)],
            at: now,
            now: now
        )
        let values = engine.snapshot(now: now)
        #expect(values.count == 2)
        for value in values {
            let site = value.group.first?.value ?? ""
            #expect(close(value.value, (num[site] ?? 0) / (den[site] ?? 1)), "site \(site)")
            #expect(value.samples == 250, "ratio samples count the denominator's")
        }
    }

    @Test("ratio with an empty denominator is unknown")
    func ratioZeroDenominator() {
        let kpi = makeKPI(
            metric: "appels",
            field: "decroche",
            aggregate: .ratio,
            denominator: SampleSelector(metric: "appels", field: "recu")
        )
        let engine = KPIEngine(kpis: [kpi], timeZone: utc, now: t0)
        engine.feed("appels", fields: [("decroche", 3)], at: t0, now: t0)
        #expect(engine.onlyValue(now: t0)?.value == nil)
        #expect(engine.onlyValue(now: t0)?.status == .unknown)
        engine.feed("appels", fields: [("recu", 0)], at: t0, now: t0)
        #expect(engine.onlyValue(now: t0)?.value == nil)
        engine.feed("appels", fields: [("recu", 4)], at: t0, now: t0)
        #expect(engine.onlyValue(now: t0)?.value == 0.75)
    }

    @Test("aggregates with no sample: count, sum and rate are 0 with min_samples 0; others unknown")
    func emptyWindow() {
        let aggregates: [Aggregate] = [.count, .sum, .rate(perSeconds: 1), .mean, .min, .max, .last, .quantile(0.9)]
        let kpis = aggregates.enumerated().map { i, a in makeKPI("k\(i)", aggregate: a, minSamples: 0) }
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        engine.feed(5, at: t0, now: t0)
        let later = t0 + 2 * hour  // the sample has left every window
        let values = engine.snapshot(now: later)
        #expect(values.map(\.value) == [0, 0, 0, nil, nil, nil, nil, nil])
        #expect(values.allSatisfy { $0.samples == 0 })
    }
}
