import Testing
import VigieConfig
import VigieCore

/// Parses one `[[kpi]]` table made of `lines` (plus `name`) and returns its definition.
func parseKPI(_ lines: String, preamble: String = "") throws -> KPIDefinition {
    let config = try ConfigLoader.parse(preamble + "\n[[kpi]]\nname = \"k\"\n" + lines)
    return try #require(config.kpis.first)
}

let hour: Int64 = 3_600_000_000_000

@Suite("[[kpi]] parsing")
struct KPIParsingTests {
    struct AggregateCase: Sendable, CustomTestStringConvertible {
        let toml: String
        let expected: Aggregate
        var testDescription: String { toml.replacingOccurrences(of: "\n", with: "; ") }
    }

    static let aggregateCases: [AggregateCase] = [
        .init(toml: "aggregate = \"count\"", expected: .count),
        .init(toml: "aggregate = \"sum\"", expected: .sum),
        .init(toml: "aggregate = \"mean\"", expected: .mean),
        .init(toml: "aggregate = \"min\"", expected: .min),
        .init(toml: "aggregate = \"max\"", expected: .max),
        .init(toml: "aggregate = \"last\"", expected: .last),
        .init(toml: "aggregate = \"rate\"", expected: .rate(perSeconds: 1)),
        .init(toml: "aggregate = \"rate\"\nper = \"1h\"", expected: .rate(perSeconds: 3_600)),
        .init(toml: "aggregate = \"rate\"\nper = \"500ms\"", expected: .rate(perSeconds: 0.5)),
        .init(toml: "aggregate = \"p50\"", expected: .quantile(0.5)),
        .init(toml: "aggregate = \"p90\"", expected: .quantile(0.9)),
        .init(toml: "aggregate = \"p95\"", expected: .quantile(0.95)),
        .init(toml: "aggregate = \"p99\"", expected: .quantile(0.99)),
        .init(toml: "aggregate = \"quantile\"\nquantile = 0.75", expected: .quantile(0.75)),
        .init(toml: "aggregate = \"share\"\nbelow = 15", expected: .share(threshold: 15, below: true)),
        .init(toml: "aggregate = \"share\"\nabove = 0.5", expected: .share(threshold: 0.5, below: false)),
    ]

    @Test(arguments: aggregateCases)
    func aggregate(_ testCase: AggregateCase) throws {
        let kpi = try parseKPI("metric = \"m\"\nwindow = \"1h\"\n" + testCase.toml)
        #expect(kpi.aggregate == testCase.expected)
        #expect(kpi.denominator == nil)
    }

    @Test func ratioTakesBothSelectors() throws {
        let kpi = try parseKPI(
            """
            aggregate = "ratio"
            numerator   = { metric = "appels", field = "decroche", where = { service = "accueil", site = "centre" } }
            denominator = { metric = "appels", field = "recu" }
            window = "today"
            """
        )
        #expect(kpi.aggregate == .ratio)
        #expect(
            kpi.selector
                == SampleSelector(
                    metric: "appels",
                    field: "decroche",
                    filters: [TagFilter(key: "service", value: "accueil"), TagFilter(key: "site", value: "centre")]
                )
        )
        #expect(kpi.denominator == SampleSelector(metric: "appels", field: "recu"))
    }

    /// Sub-tables under `[[kpi]]` work as well as inline tables.
    @Test func ratioSelectorFieldDefaultsToValue() throws {
        let kpi = try parseKPI(
            """
            aggregate = "ratio"
            window = "today"
            [kpi.numerator]
            metric = "a"
            [kpi.denominator]
            metric = "b"
            """
        )
        #expect(kpi.selector == SampleSelector(metric: "a"))
        #expect(kpi.denominator == SampleSelector(metric: "b"))
    }

    @Test(arguments: [
        ("\"15m\"", WindowSpec.sliding(nanoseconds: 15 * 60_000_000_000)),
        ("\"1h30m\"", .sliding(nanoseconds: hour * 3 / 2)),
        ("\"7d\"", .sliding(nanoseconds: 7 * 24 * hour)),
        ("\"today\"", .today),
        ("\"week\"", .week),
        ("\"month\"", .month),
    ])
    func window(_ text: String, _ expected: WindowSpec) throws {
        let kpi = try parseKPI("metric = \"m\"\naggregate = \"count\"\nwindow = \(text)")
        #expect(kpi.window == expected)
    }

    @Test func defaults() throws {
        let kpi = try parseKPI("metric = \"m\"\naggregate = \"mean\"\nwindow = \"1h\"")
        #expect(
            kpi
                == KPIDefinition(
                    name: "k",
                    title: "k",
                    selector: SampleSelector(metric: "m", field: "value"),
                    groupBy: [],
                    aggregate: .mean,
                    window: .sliding(nanoseconds: hour),
                    unit: nil,
                    target: nil,
                    direction: .below,
                    minSamples: 1,
                    lateness: nil,
                    buckets: 60,
                    maxSeries: 1_000
                )
        )
    }

    @Test func everyOption() throws {
        let kpi = try parseKPI(
            """
            title = "Délai de réparation — éclairage"
            metric = "eclairage"
            field = "delai_h"
            where = { quartier = "Magenta", type = "led" }
            group_by = ["quartier", "prestataire"]
            aggregate = "mean"
            window = "2h"
            unit = "h"
            target = 36.5
            direction = "above"
            min_samples = 0
            lateness = "30m"
            buckets = 120
            max_series = 50
            """
        )
        #expect(kpi.title == "Délai de réparation — éclairage")
        #expect(
            kpi.selector
                == SampleSelector(
                    metric: "eclairage",
                    field: "delai_h",
                    filters: [TagFilter(key: "quartier", value: "Magenta"), TagFilter(key: "type", value: "led")]
                )
        )
        #expect(kpi.groupBy == ["quartier", "prestataire"])
        #expect(kpi.window == .sliding(nanoseconds: 2 * hour))
        #expect(kpi.unit == "h")
        #expect(kpi.target == 36.5)
        #expect(kpi.direction == .above)
        #expect(kpi.minSamples == 0)
        #expect(kpi.lateness == hour / 2)
        #expect(kpi.buckets == 120)
        #expect(kpi.maxSeries == 50)
    }

    @Test func integerTargetIsANumber() throws {
        let kpi = try parseKPI("metric = \"m\"\naggregate = \"p90\"\nwindow = \"1h\"\ntarget = 20")
        #expect(kpi.target == 20)
    }

    @Test func maxSeriesDefaultsToIngestSetting() throws {
        let kpi = try parseKPI(
            "metric = \"m\"\naggregate = \"count\"\nwindow = \"1h\"",
            preamble: "[ingest]\nmax_series_per_kpi = 77"
        )
        #expect(kpi.maxSeries == 77)
    }

    @Test func kpisKeepFileOrder() throws {
        var text = ""
        for name in ["c", "a", "b"] {
            text += "[[kpi]]\nname = \"\(name)\"\nmetric = \"m\"\naggregate = \"count\"\nwindow = \"today\"\n"
        }
        #expect(try ConfigLoader.parse(text).kpis.map(\.name) == ["c", "a", "b"])
    }

    @Test func namesMayUseDotsColonsAndDashes() throws {
        let config = try ConfigLoader.parse(
            "[[kpi]]\nname = \"svc:collecte.retard-p95_x\"\nmetric = \"m\"\naggregate = \"count\"\nwindow = \"1h\""
        )
        #expect(config.kpis.first?.name == "svc:collecte.retard-p95_x")
    }
}
