import Foundation
import Testing
import VigieCore
import VigieTesting

/// Matching, series, status and publishing.
@Suite("KPIEngine")
struct KPIEngineTests {
    @Test("group_by splits samples into one series per tag-value combination")
    func groupBy() {
        let engine = KPIEngine(
            kpis: [makeKPI(groupBy: ["site", "guichet"], aggregate: .count)],
            timeZone: utc,
            now: t0
        )
        var expected: [[String]: Int] = [:]
        var rng = SeededGenerator(seed: 31)
        for _ in 0..<600 {
            let site = ["nord", "sud", "centre"][Int.random(in: 0..<3, using: &rng)]
            let guichet = ["1", "2"][Int.random(in: 0..<2, using: &rng)]
            // Tag order on the wire does not matter; other tags are ignored.
            let tags =
                Bool.random(using: &rng)
                ? [("guichet", guichet), ("host", "h\(Int.random(in: 0..<9, using: &rng))"), ("site", site)]
                : [("site", site), ("guichet", guichet)]
            engine.feed(1, at: t0, now: t0, tags: tags)
            expected[[site, guichet], default: 0] += 1
        }
        // Missing tag = empty value.
        engine.feed(1, at: t0, now: t0, tags: [("site", "nord")])
        engine.feed(1, at: t0, now: t0, tags: [("site", "nord"), ("guichet", "")])
        expected[["nord", ""], default: 0] += 2
        let values = engine.snapshot(now: t0)
        #expect(values.count == expected.count)
        for value in values {
            #expect(value.group.map(\.key) == ["site", "guichet"])
            let key = value.group.map(\.value)
            #expect(value.value == Double(expected[key] ?? -1), "\(key)")
        }
        #expect(engine.counters.series == expected.count)
    }

    @Test("group values are not confused when their bytes run together")
    func groupBoundaries() {
        let engine = KPIEngine(kpis: [makeKPI(groupBy: ["a", "b"], aggregate: .count)], timeZone: utc, now: t0)
        engine.feed(1, at: t0, now: t0, tags: [("a", "x"), ("b", "yz")])
        engine.feed(1, at: t0, now: t0, tags: [("a", "xy"), ("b", "z")])
        engine.feed(1, at: t0, now: t0, tags: [("a", "xyz")])
        engine.feed(1, at: t0, now: t0, tags: [("b", "xyz")])
        #expect(engine.snapshot(now: t0).count == 4)
    }

    @Test("many series: the table grows and every series keeps its own count")
    func manySeries() {
        let engine = KPIEngine(
            kpis: [makeKPI(groupBy: ["id"], aggregate: .count, maxSeries: 10_000)],
            timeZone: utc,
            now: t0
        )
        for round in 1...3 {
            for i in 0..<2_000 { engine.feed(1, at: t0, now: t0, tags: [("id", "series-\(i)")]) }
            #expect(engine.counters.series == 2_000)
            #expect(engine.snapshot(now: t0).allSatisfy { $0.value == Double(round) })
        }
    }

    @Test(
        "where filters: every filter's tag must be present with the exact value",
        arguments: [
            ([("service", "etat-civil"), ("site", "a")], true),
            ([("site", "a"), ("service", "etat-civil")], true),
            ([("service", "etat-civil")], false),  // site missing
            ([("service", "etat-civile"), ("site", "a")], false),
            ([("service", "etat"), ("site", "a")], false),
            ([("service", "etat-civil"), ("site", "b")], false),
            ([("Service", "etat-civil"), ("site", "a")], false),  // keys are case-sensitive
            ([], false),
        ] as [([(String, String)], Bool)]
    )
    func whereFilters(tags: [(String, String)], matches: Bool) {
        let filters = [TagFilter(key: "service", value: "etat-civil"), TagFilter(key: "site", value: "a")]
        let engine = KPIEngine(kpis: [makeKPI(filters: filters, aggregate: .count)], timeZone: utc, now: t0)
        #expect(engine.feed(1, at: t0, now: t0, tags: tags) == (matches ? 1 : 0))
        #expect(engine.counters.unmatchedLines == (matches ? 0 : 1))
        #expect(engine.counters.lines == 1)
    }

    @Test("fields: the selected field only; string fields ignored; bool, int and uint are numbers")
    func fields() {
        let kpis = [
            makeKPI("sum", field: "duree", aggregate: .sum), makeKPI("count", field: "duree", aggregate: .count),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        #expect(engine.feed(fields: [("value", 100), ("duree", 2.5)], at: t0, now: t0) == 2)
        #expect(engine.feed(fields: [("duree", .int(3))], at: t0, now: t0) == 2)
        #expect(engine.feed(fields: [("duree", .uint(4))], at: t0, now: t0) == 2)
        #expect(engine.feed(fields: [("duree", true)], at: t0, now: t0) == 2)
        #expect(engine.feed(fields: [("duree", false)], at: t0, now: t0) == 2)
        #expect(engine.feed(fields: [("duree", "longue")], at: t0, now: t0) == 0)
        #expect(engine.feed(fields: [("dureee", 1)], at: t0, now: t0) == 0)
        #expect(engine.feed(fields: [("duree", .float(.nan))], at: t0, now: t0) == 0)
        #expect(engine.feed(fields: [("duree", .float(.infinity))], at: t0, now: t0) == 0)
        #expect(engine.feed("autre", fields: [("duree", 1)], at: t0, now: t0) == 0)
        let values = engine.snapshot(now: t0)
        #expect(values[0].value == 10.5)  // 2.5 + 3 + 4 + 1 + 0
        #expect(values[1].value == 5)
        let counters = engine.counters
        #expect(counters.nonNumeric == 2)
        #expect(counters.nonFinite == 4)
        #expect(counters.unmatchedLines == 2)  // wrong field, wrong measurement
        #expect(counters.applied == 10)
        #expect(counters.lines == 10)
    }

    @Test("escaped names on the wire match the unescaped names of the config")
    func escapedNames() {
        let engine = KPIEngine(
            kpis: [
                makeKPI(
                    metric: "hotel de ville",
                    filters: [TagFilter(key: "lieu", value: "a,b")],
                    groupBy: ["lieu"],
                    aggregate: .count
                )
            ],
            timeZone: utc,
            now: t0
        )
        // measurement `hotel\ de\ ville`, tag `lieu=a\,b`, field `value=1`.
        let wire: [UInt8] = Array(#"hotel\ de\ villelieua\,bvalue"#.utf8)
        let applied = wire.withUnsafeBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return -1 }
            let measurement = ByteView(base: base, count: 16, escapes: .measurement)
            let tag = ParsedTag(
                key: ByteView(base: base + 16, count: 4, escapes: .key),
                value: ByteView(base: base + 20, count: 4, escapes: .key)
            )
            let field = ParsedField(key: ByteView(base: base + 24, count: 5, escapes: .key), value: .float(1))
            return withUnsafePointer(to: tag) { tagPointer in
                withUnsafePointer(to: field) { fieldPointer in
                    let line = ParsedLine(
                        lineNumber: 1,
                        measurement: measurement,
                        tags: UnsafeBufferPointer(start: tagPointer, count: 1),
                        fields: UnsafeBufferPointer(start: fieldPointer, count: 1),
                        timestamp: t0
                    )
                    return engine.apply(line, receivedAt: t0, now: t0)
                }
            }
        }
        #expect(applied == 1)
        #expect(engine.onlyValue(now: t0)?.group == [TagPair(key: "lieu", value: "a,b")])
        // The same series from an unescaped view.
        engine.feed("hotel de ville", tags: [("lieu", "a,b")], fields: [("value", 1)], at: t0, now: t0)
        #expect(engine.snapshot(now: t0).count == 1)
        #expect(engine.onlyValue(now: t0)?.value == 2)
    }

    @Test("measurements, fields and filter values are told apart by their bytes, not by String equality")
    func namesByBytes() {
        let composed = "\u{E9}"  // é
        let decomposed = "e\u{301}"  // e + combining acute: == composed as a Swift String
        // Other windows for the decomposed spellings: separate window groups, so only the
        // selector plan could mix them up.
        let other = WindowSpec.sliding(nanoseconds: 2 * hour)
        let filter = { (value: String) in [TagFilter(key: "t", value: value)] }
        let engine = KPIEngine(
            kpis: [
                makeKPI("metric C", metric: composed, aggregate: .count),
                makeKPI("metric D", metric: decomposed, aggregate: .count, window: other),
                makeKPI("field C", field: composed, aggregate: .count),
                makeKPI("field D", field: decomposed, aggregate: .count, window: other),
                makeKPI("filter C", filters: filter(composed), aggregate: .count),
                makeKPI("filter D", filters: filter(decomposed), aggregate: .count, window: other),
            ],
            timeZone: utc,
            now: t0
        )
        engine.feed(composed, fields: [("value", 1)], at: t0, now: t0)
        for _ in 0..<2 {
            engine.feed(decomposed, fields: [("value", 1)], at: t0, now: t0)
            engine.feed(fields: [(decomposed, 1)], at: t0, now: t0)
            engine.feed(tags: [("t", decomposed)], fields: [("value", 1)], at: t0, now: t0)
        }
        engine.feed(fields: [(composed, 1)], at: t0, now: t0)
        engine.feed(tags: [("t", composed)], fields: [("value", 1)], at: t0, now: t0)
        let values = Dictionary(uniqueKeysWithValues: engine.snapshot(now: t0).map { ($0.kpi, $0.value) })
        #expect(values["metric C"] == 1)
        #expect(values["metric D"] == 2)
        #expect(values["field C"] == 1)
        #expect(values["field D"] == 2)
        #expect(values["filter C"] == 1)
        #expect(values["filter D"] == 2)
    }

    @Test("group_by keys are told apart by their bytes: each KPI's series carry its own spelling")
    func groupByKeysByBytes() {
        let composed = "\u{E9}"  // é
        let decomposed = "e\u{301}"  // == composed as a Swift String
        let engine = KPIEngine(
            kpis: [
                makeKPI("group C", groupBy: [composed], aggregate: .count),
                makeKPI("group D", groupBy: [decomposed], aggregate: .count, window: .sliding(nanoseconds: 2 * hour)),
            ],
            timeZone: utc,
            now: t0
        )
        engine.feed(tags: [(decomposed, "y")], fields: [("value", 1)], at: t0, now: t0)
        let d = engine.snapshot(now: t0).filter { $0.kpi == "group D" }
        #expect(d.count == 1)
        #expect(d.first?.group.map { Array($0.key.utf8) } == [Array(decomposed.utf8)])
        #expect(d.first?.group.first?.value == "y")
    }

    @Test("several KPIs on one measurement each get the sample; apply counts applications")
    func severalKPIs() {
        let kpis = [
            makeKPI("a", aggregate: .count),
            makeKPI("b", aggregate: .max, window: .today),
            makeKPI("c", metric: "other", aggregate: .count),
            makeKPI("d", filters: [TagFilter(key: "site", value: "x")], aggregate: .sum),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        #expect(engine.feed(3, at: t0, now: t0, tags: [("site", "x")]) == 3)
        #expect(engine.feed(4, at: t0, now: t0, tags: [("site", "y")]) == 2)
        #expect(engine.snapshot(now: t0).map(\.kpi) == ["a", "b", "d"])
        #expect(engine.counters.perKPI.map(\.applied) == [2, 2, 0, 1])
        #expect(engine.kpis.map(\.name) == ["a", "b", "c", "d"])
    }

    @Test("cardinality cap: samples for series beyond max_series are counted and dropped")
    func cardinalityCap() {
        let kpis = [
            makeKPI("capped", groupBy: ["site"], aggregate: .count, maxSeries: 2),
            makeKPI("open", groupBy: ["site"], aggregate: .count),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        for site in ["a", "b", "c", "d", "a", "c"] {
            engine.feed(1, at: t0, now: t0, tags: [("site", site)])
        }
        let counters = engine.counters
        #expect(counters.perKPI[0].seriesOverflow == 3)  // c, d, c
        #expect(counters.perKPI[0].series == 2)
        #expect(counters.perKPI[1].seriesOverflow == 0)
        #expect(counters.perKPI[1].series == 4)
        #expect(counters.seriesOverflow == 3)
        let capped = engine.snapshot(now: t0).filter { $0.kpi == "capped" }
        #expect(capped.map { $0.group.first?.value } == ["a", "b"])
        #expect(capped.map(\.value) == [2, 1])
        let none = KPIEngine(kpis: [makeKPI(aggregate: .count, maxSeries: 0)], timeZone: utc, now: t0)
        #expect(none.feed(1, at: t0, now: t0) == 0)
        #expect(none.counters.seriesOverflow == 1)
    }

    @Test("total cap: no window group gets a new series once all of them hold max_total_series")
    func totalSeriesCap() throws {
        let kpis = [
            makeKPI("by_site", groupBy: ["site"], aggregate: .count),
            makeKPI("by_desk", groupBy: ["desk"], aggregate: .count),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        engine.maxTotalSeries = 3
        // Each line feeds both groups: site a, desk 1 (2 series); site b, desk 1 (3);
        // site c: refused; desk 2: refused; site a, desk 1 again: both exist, applied.
        engine.feed(1, at: t0, now: t0, tags: [("desk", "1"), ("site", "a")])
        engine.feed(1, at: t0, now: t0, tags: [("desk", "1"), ("site", "b")])
        engine.feed(1, at: t0, now: t0, tags: [("desk", "2"), ("site", "c")])
        engine.feed(1, at: t0, now: t0, tags: [("desk", "1"), ("site", "a")])
        #expect(engine.totalSeries == 3)
        #expect(engine.totalSeriesOverflow == 2)
        #expect(engine.counters.seriesOverflow == 0, "the per-KPI caps were not hit")
        let values = engine.snapshot(now: t0).map { "\($0.kpi) \($0.group.first?.value ?? "") \($0.value ?? -1)" }
        #expect(values.sorted() == ["by_desk 1 3.0", "by_site a 2.0", "by_site b 1.0"])

        // A checkpoint restores the count: the cap still holds after a restart.
        var writer = BinaryWriter()
        engine.encodeState(into: &writer)
        let restored = KPIEngine(kpis: kpis, timeZone: utc, now: t0)
        restored.maxTotalSeries = 3
        try writer.bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            _ = try restored.restoreState(from: &reader)
        }
        #expect(restored.totalSeries == 3)
        restored.feed(1, at: t0, now: t0, tags: [("desk", "9"), ("site", "z")])
        #expect(restored.totalSeriesOverflow == 2)
    }

    @Test("min_samples: fewer samples in the window give no value and status unknown")
    func minSamples() {
        let engine = KPIEngine(kpis: [makeKPI(aggregate: .mean, target: 10, minSamples: 3)], timeZone: utc, now: t0)
        engine.feed(1, at: t0, now: t0)
        engine.feed(2, at: t0, now: t0)
        var value = engine.onlyValue(now: t0)
        #expect(value?.value == nil)
        #expect(value?.status == .unknown)
        #expect(value?.samples == 2)
        engine.feed(6, at: t0, now: t0)
        value = engine.onlyValue(now: t0)
        #expect(value?.value == 3)
        #expect(value?.status == .ok)
    }

    @Test(
        "status: ok when the value meets the target in its direction, else warning",
        arguments: [
            (Direction.below, 20.0 as Double?, 15.0, KPIStatus.ok),
            (.below, 20, 20, .ok),
            (.below, 20, 25, .warning),
            (.above, 0.85, 0.9, .ok),
            (.above, 0.85, 0.85, .ok),
            (.above, 0.85, 0.8, .warning),
            (.below, nil, 1e9, .ok),
            (.above, nil, -1e9, .ok),
        ]
    )
    func status(direction: Direction, target: Double?, value: Double, expected: KPIStatus) {
        let engine = KPIEngine(
            kpis: [makeKPI(aggregate: .last, target: target, direction: direction)],
            timeZone: utc,
            now: t0
        )
        engine.feed(value, at: t0, now: t0)
        let published = engine.onlyValue(now: t0)
        #expect(published?.status == expected)
        #expect(published?.target == target)
        #expect(published?.direction == direction)
        #expect(KPIStatus.of(value: nil, target: target, direction: direction) == .unknown)
    }

    @Test("a published value carries the KPI's description")
    func publishedFields() {
        let kpi = KPIDefinition(
            name: "etat_civil.attente_p90",
            title: "Attente au guichet état civil (p90)",
            selector: SampleSelector(
                metric: "guichet_attente",
                filters: [TagFilter(key: "service", value: "etat-civil")]
            ),
            groupBy: ["site"],
            aggregate: .quantile(0.9),
            window: .sliding(nanoseconds: hour),
            unit: "min",
            target: 20,
            direction: .below
        )
        let engine = KPIEngine(kpis: [kpi], timeZone: utc, now: t0)
        engine.feed(
            "guichet_attente",
            tags: [("service", "etat-civil"), ("site", "mairie")],
            fields: [("value", 12)],
            at: t0 - minute,
            now: t0
        )
        let value = engine.snapshot(now: t0 + second)
        #expect(
            value == [
                KPIValue(
                    kpi: "etat_civil.attente_p90",
                    title: "Attente au guichet état civil (p90)",
                    group: [TagPair(key: "site", value: "mairie")],
                    value: 12,
                    unit: "min",
                    window: "1h",
                    samples: 1,
                    target: 20,
                    status: .ok,
                    direction: .below,
                    aggregate: "p90",
                    ts: t0 + second,
                    lastSampleAt: t0 - minute
                )
            ]
        )
    }

    @Test("takeDue: every change with interval 0; at most once per interval otherwise")
    func takeDue() {
        let engine = KPIEngine(kpis: [makeKPI(groupBy: ["site"], aggregate: .count)], timeZone: utc, now: t0)
        #expect(engine.takeDue(now: t0, interval: 0).isEmpty)
        engine.feed(1, at: t0, now: t0, tags: [("site", "a")])
        engine.feed(1, at: t0, now: t0, tags: [("site", "b")])
        var due = engine.takeDue(now: t0, interval: second)
        #expect(due.map { $0.group.first?.value } == ["a", "b"])
        #expect(engine.takeDue(now: t0, interval: second).isEmpty, "nothing changed since")
        // A change within the interval waits until the interval has passed.
        engine.feed(1, at: t0, now: t0 + 100_000_000, tags: [("site", "a")])
        #expect(engine.takeDue(now: t0 + 500_000_000, interval: second).isEmpty)
        due = engine.takeDue(now: t0 + second, interval: second)
        #expect(due.map(\.value) == [2])
        #expect(due.first?.ts == t0 + second)
        // interval 0: every change, immediately.
        engine.feed(1, at: t0, now: t0 + second, tags: [("site", "b")])
        #expect(engine.takeDue(now: t0 + second, interval: 0).map(\.value) == [2])
        engine.feed(1, at: t0, now: t0 + second, tags: [("site", "b")])
        #expect(engine.takeDue(now: t0 + second, interval: 0).map(\.value) == [3])
        // snapshot does not consume pending changes.
        engine.feed(1, at: t0, now: t0 + second, tags: [("site", "a")])
        _ = engine.snapshot(now: t0 + 3 * second)
        #expect(engine.takeDue(now: t0 + 3 * second, interval: second).map(\.value) == [3])
    }

    @Test("takeDue with a limit spreads a large publish over several calls, losing none")
    func takeDueLimit() {
        let engine = KPIEngine(
            kpis: [
                makeKPI("a", groupBy: ["site"], aggregate: .count),
                makeKPI("b", groupBy: ["site"], aggregate: .sum),
            ],
            timeZone: utc,
            now: t0
        )
        for i in 0..<10 { engine.feed(1, at: t0, now: t0, tags: [("site", "s\(i)")]) }
        var seen: [String] = []
        var calls = 0
        while true {
            let due = engine.takeDue(now: t0, interval: second, limit: 4)
            if due.isEmpty { break }
            calls += 1
            // KPIs a and b share one window group: a limit of 4 series gives 8 values.
            #expect(due.count <= 8)
            seen += due.map { "\($0.kpi)/\($0.group.first?.value ?? "")" }
        }
        #expect(calls == 3)
        #expect(Set(seen).count == 20)
        #expect(seen.count == 20)
    }

    @Test("takeDue in slices keeps series not yet due, in order, for a later call")
    func takeDueSlicesKeepNotDue() {
        let engine = KPIEngine(kpis: [makeKPI("a", groupBy: ["site"], aggregate: .count)], timeZone: utc, now: t0)
        // s0…s9 published at t0; then s0, s2, s4 change again half a second later,
        // interleaved with ten new series that were never published.
        for i in 0..<10 { engine.feed(1, at: t0, now: t0, tags: [("site", "s\(i)")]) }
        #expect(engine.takeDue(now: t0, interval: second).count == 10)
        let half = t0 + second / 2
        for i in 0..<10 {
            if i % 2 == 0, i < 6 { engine.feed(1, at: half, now: half, tags: [("site", "s\(i)")]) }
            engine.feed(1, at: half, now: half, tags: [("site", "n\(i)")])
        }
        var seen: [String] = []
        while true {
            let due = engine.takeDue(now: half, interval: second, limit: 3)
            if due.isEmpty { break }
            #expect(due.count <= 3)
            seen += due.map { $0.group.first?.value ?? "" }
        }
        #expect(seen == (0..<10).map { "n\($0)" })
        // A second after their last publication the three changed series are due, in
        // the order they changed.
        #expect(
            engine.takeDue(now: t0 + second, interval: second, limit: 2).map { $0.group.first?.value } == ["s0", "s2"]
        )
        #expect(engine.takeDue(now: t0 + second, interval: second, limit: 2).map { $0.group.first?.value } == ["s4"])
    }

    @Test("takeDue reports series whose samples expired or whose period rolled over")
    func takeDueOnTime() {
        let kpis = [
            makeKPI(
                "sliding",
                aggregate: .count,
                window: .sliding(nanoseconds: 10 * minute),
                minSamples: 0,
                buckets: 10
            ),
            makeKPI("today", aggregate: .count, window: .today, minSamples: 0),
        ]
        let engine = KPIEngine(kpis: kpis, timeZone: utc, now: t0 + 23 * hour)
        engine.feed(1, at: t0 + 23 * hour, now: t0 + 23 * hour)
        #expect(engine.takeDue(now: t0 + 23 * hour, interval: 0).count == 2)
        engine.advance(to: t0 + 23 * hour + 5 * minute)
        #expect(engine.takeDue(now: t0 + 23 * hour + 5 * minute, interval: 0).isEmpty)
        engine.advance(to: t0 + 23 * hour + 10 * minute)
        let expired = engine.takeDue(now: t0 + 23 * hour + 10 * minute, interval: 0)
        #expect(expired.map(\.kpi) == ["sliding"])
        #expect(expired.first?.value == 0)
        let rolled = engine.takeDue(now: t0 + day, interval: 0)
        #expect(rolled.map(\.kpi) == ["today"])
        #expect(rolled.first?.value == 0)
        #expect(engine.takeDue(now: t0 + day + hour, interval: 0).isEmpty)
    }

    @Test("calendar rate series are re-published as time passes, at most once a second")
    func takeDueCalendarRate() {
        let engine = KPIEngine(
            kpis: [makeKPI(aggregate: .rate(perSeconds: 3_600), window: .today)],
            timeZone: utc,
            now: t0 + hour
        )
        engine.feed(1, at: t0 + hour, now: t0 + hour)
        #expect(engine.takeDue(now: t0 + hour, interval: 0).count == 1)
        #expect(engine.takeDue(now: t0 + hour + 500_000_000, interval: 0).isEmpty)
        let later = engine.takeDue(now: t0 + 2 * hour, interval: 0)
        #expect(close(later.first?.value, 0.5))
    }

    @Test("an engine with no KPI ignores everything")
    func noKPIs() {
        let engine = KPIEngine(kpis: [], timeZone: utc, now: t0)
        #expect(engine.feed(1, at: t0, now: t0) == 0)
        #expect(engine.snapshot(now: t0).isEmpty)
        #expect(engine.takeDue(now: t0, interval: 0).isEmpty)
        #expect(engine.counters.unmatchedLines == 1)
    }
}
