import Foundation
import Testing
import VigieCore
import VigieTesting

extension RollupAccumulator {
    /// Adds one line built from Swift values.
    @discardableResult
    mutating func feed(
        _ metric: String = "m",
        tags: [(String, String)] = [],
        fields: [(String, SampleFieldValue)],
        at timestamp: Int64?,
        receivedAt: Int64 = t0,
        lineNumber: Int = 1
    ) -> Int {
        withParsedLine(
            measurement: metric,
            tags: tags,
            fields: fields,
            timestamp: timestamp,
            lineNumber: lineNumber
        ) { line in
            add(line, receivedAt: receivedAt)
        }
    }

    /// Adds every line of line-protocol `text`, parsed by the real parser.
    mutating func feed(lineProtocol text: String, receivedAt: Int64) {
        let parser = LineProtocolParser()
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { buffer in
            parser.parse(buffer, onLine: { add($0, receivedAt: receivedAt) }, onError: { _ in })
        }
    }
}

/// Every rollup of `kpi` merged per group (minutes ignored).
func merged(_ rollups: [KPIRollup], kpi: String) -> [[TagPair]: MinuteRollup] {
    var out: [[TagPair]: MinuteRollup] = [:]
    for r in rollups where r.kpi == kpi {
        var stats = out[r.group] ?? MinuteRollup(withSketch: r.stats.sketch != nil)
        stats.merge(r.stats)
        out[r.group] = stats
    }
    return out
}

@Suite("RollupAccumulator")
struct RollupAccumulatorTests {
    @Test("one minute's statistics: count, sum, min, max, last by timestamp")
    func values() throws {
        var acc = RollupAccumulator(kpis: [makeKPI(aggregate: .mean)])
        acc.feed(fields: [("value", 4)], at: t0 + 10 * second)
        acc.feed(fields: [("value", .int(-2))], at: t0 + 50 * second)
        acc.feed(fields: [("value", .uint(9))], at: t0 + 5 * second)  // older: not `last`
        acc.feed(fields: [("value", true)], at: t0 + 20 * second)  // true = 1
        acc.feed(fields: [("value", "text")], at: t0)  // strings feed nothing
        acc.feed(fields: [("other", 100)], at: t0)  // not the selected field
        #expect(acc.appliedSamples == 4)
        let rollups = acc.drain()
        try #require(rollups.count == 1)
        let r = rollups[0]
        #expect(r.kpi == "k")
        #expect(r.group == [])
        #expect(r.minute == t0)
        #expect(r.stats.count == 4)
        #expect(r.stats.sum == 12)
        #expect(r.stats.min == -2)
        #expect(r.stats.max == 9)
        #expect(r.stats.last == -2)
        #expect(r.stats.lastTimestamp == t0 + 50 * second)
        #expect(r.stats.sketch == nil)
        #expect(r.stats.value(of: .mean, rateSeconds: 60) == 3)
        #expect(r.stats.value(of: .rate(perSeconds: 60), rateSeconds: 60) == 4)
    }

    @Test("sample time: the timestamp, else the receive time; late samples of any age land in their minute")
    func sampleTime() {
        var acc = RollupAccumulator(kpis: [makeKPI(aggregate: .count)])
        acc.feed(fields: [("value", 1)], at: nil, receivedAt: t0 + 61 * second)
        acc.feed(fields: [("value", 1)], at: t0 + 119 * second, receivedAt: t0 + 10 * day)
        acc.feed(fields: [("value", 1)], at: t0 - 300 * day + 1, receivedAt: t0)
        acc.feed(fields: [("value", 1)], at: -1, receivedAt: t0)  // before the epoch: floor, not truncation
        // The extremes of Int64 do not trap.
        acc.feed(fields: [("value", 1)], at: .min, receivedAt: t0)
        acc.feed(fields: [("value", 1)], at: .max, receivedAt: t0)
        let minutes = acc.drain().map { ($0.minute, $0.stats.count) }
        let first = HistoryResolution.minute.start(of: .min)
        let last = HistoryResolution.minute.start(of: .max)
        #expect(minutes.map(\.0) == [first, -minute, t0 - 300 * day, t0 + minute, last])
        #expect(minutes.map(\.1) == [1, 1, 1, 2, 1])
        #expect(first > .min && first % minute == 0 && last <= .max && last % minute == 0)
    }

    @Test("group_by: one series per tag-value combination, missing tag = empty, tag order irrelevant")
    func grouping() {
        var acc = RollupAccumulator(kpis: [makeKPI(groupBy: ["site", "guichet"], aggregate: .count)])
        acc.feed(tags: [("site", "nord"), ("guichet", "1")], fields: [("value", 1)], at: t0)
        acc.feed(tags: [("guichet", "1"), ("host", "h1"), ("site", "nord")], fields: [("value", 1)], at: t0)
        acc.feed(tags: [("site", "nord")], fields: [("value", 1)], at: t0)
        acc.feed(tags: [("site", "nordg"), ("guichet", "")], fields: [("value", 1)], at: t0)
        acc.feed(tags: [("site", "nor"), ("guichet", "dg")], fields: [("value", 1)], at: t0)
        acc.feed(tags: [], fields: [("value", 1)], at: t0)
        let rollups = acc.drain()
        func group(_ site: String, _ guichet: String) -> [TagPair] {
            [TagPair(key: "site", value: site), TagPair(key: "guichet", value: guichet)]
        }
        #expect(
            rollups.map(\.group) == [
                group("nord", "1"), group("nord", ""), group("nordg", ""), group("nor", "dg"), group("", ""),
            ]
        )
        #expect(rollups.map(\.stats.count) == [2, 1, 1, 1, 1])
        #expect(acc.seriesCount(ofKPI: 0) == 5)
    }

    @Test(
        "where filters: every filter's tag present with the exact value",
        arguments: [
            ([("service", "etat-civil"), ("site", "a")], true),
            ([("site", "a"), ("service", "etat-civil")], true),
            ([("service", "etat-civil")], false),
            ([("service", "etat-civile"), ("site", "a")], false),
            ([("service", "etat"), ("site", "a")], false),
            ([("Service", "etat-civil"), ("site", "a")], false),
            ([], false),
        ] as [([(String, String)], Bool)]
    )
    func whereFilters(tags: [(String, String)], matches: Bool) {
        let filters = [TagFilter(key: "service", value: "etat-civil"), TagFilter(key: "site", value: "a")]
        var acc = RollupAccumulator(kpis: [makeKPI(filters: filters, aggregate: .count)])
        acc.feed(tags: tags, fields: [("value", 1)], at: t0)
        #expect(acc.drain().count == (matches ? 1 : 0))
    }

    @Test("measurement and field must match; NaN and infinities never reach a rollup")
    func selection() {
        var acc = RollupAccumulator(kpis: [makeKPI(metric: "appels", field: "recu", aggregate: .sum)])
        acc.feed("appels", fields: [("recu", 2)], at: t0)
        acc.feed("appel", fields: [("recu", 100)], at: t0)
        acc.feed("appelss", fields: [("recu", 100)], at: t0)
        acc.feed("appels", fields: [("decroche", 100)], at: t0)
        acc.feed("appels", fields: [("recu", .float(.nan))], at: t0)
        acc.feed("appels", fields: [("recu", .float(.infinity))], at: t0)
        acc.feed("appels", fields: [("decroche", 1), ("recu", 3)], at: t0)
        let rollups = acc.drain()
        #expect(rollups.count == 1)
        #expect(rollups.first?.stats.sum == 5)
    }

    @Test("names are told apart by their bytes: canonically equivalent spellings are different names")
    func namesByBytes() {
        let composed = "\u{E9}"  // é
        let decomposed = "e\u{301}"  // e + combining acute: == composed as a Swift String
        let kpis = [
            makeKPI("composed", metric: composed, groupBy: [composed], aggregate: .count),
            makeKPI("decomposed", metric: decomposed, groupBy: [decomposed], aggregate: .count),
            makeKPI("field", metric: composed, field: decomposed, aggregate: .count),
        ]
        var acc = RollupAccumulator(kpis: kpis)
        acc.feed(composed, tags: [(composed, "x")], fields: [("value", 1), (decomposed, 1)], at: t0)
        acc.feed(decomposed, tags: [(composed, "y")], fields: [("value", 1), (composed, 1)], at: t0)
        acc.feed(decomposed, tags: [(decomposed, "z")], fields: [("value", 1)], at: t0)
        let rollups = acc.drain()
        #expect(rollups.map(\.kpi) == ["composed", "decomposed", "decomposed", "field"])
        #expect(rollups.map { $0.group.first?.value } == ["x", "", "z", nil])
    }

    @Test("ratio: numerator and denominator from their own selectors, from one line or several")
    func ratio() throws {
        let kpi = KPIDefinition(
            name: "taux",
            selector: SampleSelector(
                metric: "appels",
                field: "decroche",
                filters: [TagFilter(key: "service", value: "accueil")]
            ),
            denominator: SampleSelector(
                metric: "appels",
                field: "recu",
                filters: [TagFilter(key: "service", value: "accueil")]
            ),
            aggregate: .ratio,
            window: .today
        )
        var acc = RollupAccumulator(kpis: [kpi])
        let tags = [("service", "accueil")]
        acc.feed("appels", tags: tags, fields: [("recu", .int(1)), ("decroche", .int(1))], at: t0)
        acc.feed("appels", tags: tags, fields: [("recu", .int(1)), ("decroche", .int(0))], at: t0 + second)
        acc.feed("appels", tags: tags, fields: [("recu", .int(2))], at: t0 + 2 * second)
        acc.feed("appels", tags: [("service", "voirie")], fields: [("recu", .int(5)), ("decroche", .int(5))], at: t0)
        #expect(acc.appliedSamples == 5)
        let r = try #require(acc.drain().first?.stats)
        #expect(r.count == 3)
        #expect(r.denominator == 4)
        #expect(r.numeratorCount == 2)
        #expect(r.numerator == 1)
        #expect(r.value(of: .ratio, rateSeconds: 60) == 0.25)
        // Denominator samples are not values: no min, max or last.
        #expect(r.min == .infinity)
        #expect(r.lastTimestamp == .min)
    }

    @Test("share: hits counted against the KPI's own threshold and side")
    func share() throws {
        let below = makeKPI("dans_les_delais", aggregate: .share(threshold: 5, below: true))
        let above = makeKPI("hors_delais", aggregate: .share(threshold: 5, below: false))
        var acc = RollupAccumulator(kpis: [below, above])
        for v in [1.0, 4.9, 5, 5.1, 12] { acc.feed(fields: [("value", .float(v))], at: t0) }
        let rollups = acc.drain()
        try #require(rollups.count == 2)
        #expect(rollups[0].kpi == "dans_les_delais")
        #expect(rollups[0].stats.hits == 2)
        #expect(rollups[0].stats.value(of: below.aggregate, rateSeconds: 60) == 0.4)
        #expect(rollups[1].stats.hits == 2)
        #expect(rollups[1].stats.count == 5)
    }

    @Test("quantile KPIs keep a sketch of each minute's values")
    func sketch() throws {
        var acc = RollupAccumulator(kpis: [makeKPI(aggregate: .quantile(0.9)), makeKPI("n", aggregate: .count)])
        var values: [Double] = []
        var rng = SeededGenerator(seed: 5)
        for i in 0..<500 {
            let v = Double.random(in: 0.5...60, using: &rng)
            values.append(v)
            acc.feed(fields: [("value", .float(v))], at: t0 + Int64(i) * 100_000_000)
        }
        let rollups = acc.drain()
        let minutes = rollups.filter { $0.kpi == "k" }
        #expect(minutes.map(\.minute) == [t0])
        let stats = try #require(minutes.first?.stats)
        let sketch = try #require(stats.sketch)
        #expect(sketch.count == 500)
        #expect(sketch.min == values.min())
        #expect(sketch.max == values.max())
        for q in [0.5, 0.9, 0.99] {
            let exact = try #require(exactQuantile(values, q))
            let estimate = try #require(stats.value(of: .quantile(q), rateSeconds: 60))
            #expect(relativeError(estimate, exact) <= 0.01, "q=\(q)")
        }
        // Only quantile KPIs pay for a sketch.
        #expect(rollups.first { $0.kpi == "n" }?.stats.sketch == nil)
    }

    @Test("max_series: later series are counted as overflow, admitted ones keep their data")
    func seriesCap() {
        var acc = RollupAccumulator(kpis: [makeKPI(groupBy: ["site"], aggregate: .count, maxSeries: 2)])
        for site in ["a", "b", "c", "a", "d", "b"] {
            acc.feed(tags: [("site", site)], fields: [("value", 1)], at: t0)
        }
        #expect(acc.seriesOverflow == [2])
        #expect(acc.drain().map(\.stats.count) == [2, 2])
        // The cap holds over the accumulator's life, not per drain.
        acc.feed(tags: [("site", "e")], fields: [("value", 1)], at: t0)
        acc.feed(tags: [("site", "b")], fields: [("value", 1)], at: t0)
        #expect(acc.seriesOverflow == [3])
        #expect(acc.drain().map(\.group.first?.value) == ["b"])
    }

    @Test("KPIs with the same group_by keep their own cap, overflow and series order")
    func sharedGroupBy() {
        let wide = makeKPI("wide", groupBy: ["site"], aggregate: .count, maxSeries: 3)
        let narrow = makeKPI("narrow", groupBy: ["site"], aggregate: .sum, maxSeries: 1)
        let filtered = makeKPI(
            "filtered",
            filters: [TagFilter(key: "kind", value: "x")],
            groupBy: ["site"],
            aggregate: .count
        )
        var acc = RollupAccumulator(kpis: [wide, narrow, filtered])
        acc.feed(tags: [("site", "a")], fields: [("value", 1)], at: t0)
        acc.feed(tags: [("site", "b"), ("kind", "x")], fields: [("value", 2)], at: t0)
        acc.feed(tags: [("site", "c")], fields: [("value", 3)], at: t0)
        acc.feed(tags: [("site", "d"), ("kind", "x")], fields: [("value", 4)], at: t0)
        acc.feed(tags: [("kind", "x"), ("site", "a")], fields: [("value", 5)], at: t0)
        #expect(acc.seriesOverflow == [1, 3, 0])
        #expect((0..<3).map { acc.seriesCount(ofKPI: $0) } == [3, 1, 3])
        let rollups = acc.drain()
        #expect(
            rollups.map { "\($0.kpi) \($0.group.first?.value ?? "-")" } == [
                "wide a", "wide b", "wide c", "narrow a", "filtered b", "filtered d", "filtered a",
            ]
        )
        #expect(rollups.map(\.stats.count) == [2, 1, 1, 2, 1, 1, 1])
        #expect(rollups[3].stats.sum == 6)
    }

    @Test("many minutes per series in any order, across drains: each sample lands in its (series, minute)")
    func manyMinutes() throws {
        var acc = RollupAccumulator(kpis: [
            makeKPI("k", groupBy: ["site"], aggregate: .sum), makeKPI("n", aggregate: .count, maxSeries: 1),
        ])
        var rng = SeededGenerator(seed: 11)
        var admitted: [String] = []
        for round in 0..<3 {
            // 40 sites × 90 minutes: thousands of pending rollups, most series hopping
            // between minutes from one sample to the next.
            var expected: [String: [Int64: (count: Int, sum: Double)]] = [:]
            var perMinute: [Int64: Int] = [:]
            let sites = round == 2 ? 50 : 40
            for _ in 0..<6_000 {
                let site = "s\(Int.random(in: 0..<sites, using: &rng))"
                let m = Int64.random(in: 0..<90, using: &rng)
                let v = Double(Int.random(in: 0..<100, using: &rng))
                let at = t0 + (m - 45) * minute + Int64.random(in: 0..<minute, using: &rng)
                acc.feed(tags: [("site", site)], fields: [("value", .float(v))], at: at)
                if !admitted.contains(site) { admitted.append(site) }
                let start = t0 + (m - 45) * minute
                let old = expected[site, default: [:]][start] ?? (0, 0)
                expected[site, default: [:]][start] = (old.count + 1, old.sum + v)
                perMinute[start, default: 0] += 1
            }
            let pairs = expected.values.reduce(0) { $0 + $1.count }
            #expect(acc.pendingCount == pairs + perMinute.count)
            let rollups = acc.drain()
            #expect(acc.pendingCount == 0)
            let k = rollups.filter { $0.kpi == "k" }
            // Series in order of admission over the accumulator's life, minutes increasing.
            var order: [String] = []
            for r in k where order.last != r.group.first?.value { order.append(r.group.first?.value ?? "") }
            #expect(order == admitted.filter { expected[$0] != nil })
            for (a, b) in zip(k, k.dropFirst()) where a.group == b.group {
                #expect(a.minute < b.minute)
            }
            #expect(k.count == pairs)
            for r in k {
                let want = try #require(expected[r.group.first?.value ?? ""]?[r.minute])
                #expect(r.stats.count == want.count && r.stats.sum == want.sum)
            }
            let n = rollups.filter { $0.kpi == "n" }
            #expect(n.map(\.minute) == perMinute.keys.sorted())
            #expect(n.map(\.stats.count) == perMinute.keys.sorted().map { perMinute[$0] ?? 0 })
        }
        #expect(acc.seriesCount(ofKPI: 0) == 50)
    }

    @Test("drain: KPI order, then series, then minute; it empties the accumulator")
    func drainOrder() {
        var acc = RollupAccumulator(kpis: [
            makeKPI("first", groupBy: ["s"], aggregate: .sum), makeKPI("second", aggregate: .max),
        ])
        acc.feed(tags: [("s", "y")], fields: [("value", 1)], at: t0 + 2 * minute)
        acc.feed(tags: [("s", "x")], fields: [("value", 1)], at: t0 + minute)
        acc.feed(tags: [("s", "y")], fields: [("value", 1)], at: t0)
        #expect(acc.pendingCount == 6)
        let rollups = acc.drain()
        #expect(rollups.map(\.kpi) == ["first", "first", "first", "second", "second", "second"])
        #expect(rollups.prefix(3).map { $0.group.first?.value } == ["y", "y", "x"])
        #expect(rollups.prefix(3).map(\.minute) == [t0, t0 + 2 * minute, t0 + minute])
        #expect(rollups.suffix(3).map(\.minute) == [t0, t0 + minute, t0 + 2 * minute])
        #expect(acc.pendingCount == 0)
        #expect(acc.drain().isEmpty)
    }

    @Test("an ingest policy skips the lines ingest would reject")
    func policy() {
        let policy = IngestPolicy(maxAge: day, maxFuture: minute, maxLinesPerBatch: 2)
        var acc = RollupAccumulator(kpis: [makeKPI(aggregate: .count)], policy: policy)
        acc.feed(fields: [("value", 1)], at: t0 - 2 * day, receivedAt: t0)
        acc.feed(fields: [("value", 1)], at: t0 + hour, receivedAt: t0)
        acc.feed(fields: [("value", 1)], at: t0, receivedAt: t0, lineNumber: 3)
        acc.feed(fields: [("value", 1)], at: t0 - hour, receivedAt: t0, lineNumber: 2)
        #expect(acc.rejectedLines == 3)
        #expect(acc.drain().map(\.stats.count) == [1])
    }

    @Test("lines from the parser: escaped names and tag values match their unescaped form")
    func parsedLines() {
        let kpi = makeKPI(
            metric: "guichet attente",
            field: "valeur, min",
            filters: [TagFilter(key: "service", value: "état civil")],
            groupBy: ["site"],
            aggregate: .sum
        )
        var acc = RollupAccumulator(kpis: [kpi])
        acc.feed(
            lineProtocol: """
                guichet\\ attente,service=état\\ civil,site=plein\\ air valeur\\,\\ min=3 \(t0)
                guichet\\ attente,site=plein\\ air,service=état\\ civil valeur\\,\\ min=4i \(t0 + 70 * second)
                guichet\\ attente,site=nord,service=état\\ civil valeur\\,\\ min=5
                guichet\\ attente,site=nord,service=etat\\ civil valeur\\,\\ min=50
                # a comment
                guichet\\ attente,site=nord,service=état\\ civil autre=1

                """,
            receivedAt: t0 + 10 * minute
        )
        let rollups = acc.drain()
        #expect(rollups.map { $0.group.first?.value } == ["plein air", "plein air", "nord"])
        #expect(rollups.map(\.minute) == [t0, t0 + minute, t0 + 10 * minute])
        #expect(rollups.map(\.stats.sum) == [3, 4, 5])
    }

    @Test("merged rollups give the engine's value for every aggregate over the same samples", arguments: 1...3)
    func agreesWithEngine(seed: UInt64) throws {
        let filters = [TagFilter(key: "service", value: "accueil")]
        let kpis: [KPIDefinition] = [
            makeKPI("count", filters: filters, groupBy: ["site"], aggregate: .count),
            makeKPI("sum", filters: filters, groupBy: ["site"], aggregate: .sum),
            makeKPI("mean", filters: filters, groupBy: ["site"], aggregate: .mean),
            makeKPI("min", filters: filters, groupBy: ["site"], aggregate: .min),
            makeKPI("max", filters: filters, groupBy: ["site"], aggregate: .max),
            makeKPI("last", filters: filters, groupBy: ["site"], aggregate: .last),
            makeKPI("p90", filters: filters, groupBy: ["site"], aggregate: .quantile(0.9)),
            makeKPI("share", filters: filters, groupBy: ["site"], aggregate: .share(threshold: 10, below: true)),
            makeKPI(
                "ratio",
                field: "decroche",
                filters: filters,
                groupBy: ["site"],
                aggregate: .ratio,
                denominator: SampleSelector(metric: "m", field: "recu", filters: filters)
            ),
        ]
        let now = t0 + hour
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        var acc = RollupAccumulator(kpis: kpis)
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<2_000 {
            let site = ["nord", "sud", "centre"][Int.random(in: 0..<3, using: &rng)]
            let service = Int.random(in: 0..<5, using: &rng) == 0 ? "voirie" : "accueil"
            let ts = now - Int64.random(in: 0..<(50 * minute), using: &rng)
            let tags = [("service", service), ("site", site)]
            let fields: [(String, SampleFieldValue)] = [
                ("value", .float(Double.random(in: -5...40, using: &rng).rounded())),
                ("recu", .int(1)), ("decroche", .int(Int64.random(in: 0...1, using: &rng))),
            ]
            withParsedLine(measurement: "m", tags: tags, fields: fields, timestamp: ts) { line in
                engine.apply(line, receivedAt: now, now: now)
                acc.add(line, receivedAt: now)
            }
        }
        let rollups = acc.drain()
        for value in engine.snapshot(now: now) {
            let kpi = try #require(kpis.first { $0.name == value.kpi })
            let stats = try #require(merged(rollups, kpi: kpi.name)[value.group])
            #expect(stats.count == value.samples, "\(kpi.name)")
            let ours = stats.value(of: kpi.aggregate, rateSeconds: 3_600)
            #expect(
                close(ours, value.value),
                "\(kpi.name) \(value.group): \(String(describing: ours)) vs \(String(describing: value.value))"
            )
        }
    }
}
