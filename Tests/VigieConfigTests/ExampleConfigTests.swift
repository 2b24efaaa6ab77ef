import Foundation
import Testing
import VigieConfig
import VigieCore

/// The repository's `config/vigie.toml`, found from this file's path.
let exampleConfigPath: String = {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/vigie.toml").path
}()

@Suite("config/vigie.toml")
struct ExampleConfigTests {
    @Test func loadsWithManyKPIs() throws {
        let config = try ConfigLoader.load(path: exampleConfigPath)
        #expect(config.kpis.count >= 14)
        #expect(config.sourcePath == exampleConfigPath)
        #expect(config.daemon.timezone == "Pacific/Noumea")
        #expect(config.daemon.timeZone.identifier == "Pacific/Noumea")
        #expect(config.daemon.stateDir == "/var/lib/vigie")
        #expect(config.daemon.publishInterval == 1_000_000_000)
        #expect(config.endpoints == EndpointsConfiguration())
        #expect(config.ingest == IngestConfiguration())
    }

    @Test func frenchTitlesSurviveIntact() throws {
        let config = try ConfigLoader.load(path: exampleConfigPath)
        let titles = config.kpis.map(\.title)
        #expect(titles.contains("Attente au guichet état civil (p90)"))
        #expect(titles.contains("Taux de décroché du standard"))
        #expect(titles.filter { $0.contains("é") }.count >= 5)
        #expect(config.kpis.contains { $0.unit == "°C" })
    }

    @Test func coversEveryAggregateAndWindowKind() throws {
        let config = try ConfigLoader.load(path: exampleConfigPath)
        let aggregates = Set(config.kpis.map(\.aggregate.name))
        for name in [
            "count", "sum", "mean", "min", "max", "last", "rate", "p90", "p95", "p99", "quantile", "share", "ratio",
        ] {
            #expect(aggregates.contains(name), "no KPI uses \(name)")
        }
        let windows = Set(config.kpis.map(\.window.label))
        for label in ["today", "week", "month", "1h", "15m"] {
            #expect(windows.contains(label), "no KPI uses window \(label)")
        }
    }

    @Test func designExampleKPIsAreAsDocumented() throws {
        let config = try ConfigLoader.load(path: exampleConfigPath)
        let attente = try #require(config.kpis.first { $0.name == "etat_civil.attente_p90" })
        #expect(
            attente
                == KPIDefinition(
                    name: "etat_civil.attente_p90",
                    title: "Attente au guichet état civil (p90)",
                    selector: SampleSelector(
                        metric: "guichet_attente",
                        field: "value",
                        filters: [TagFilter(key: "service", value: "etat-civil")]
                    ),
                    groupBy: ["site"],
                    aggregate: .quantile(0.9),
                    window: .sliding(nanoseconds: 3_600_000_000_000),
                    unit: "min",
                    target: 20,
                    direction: .below,
                    minSamples: 5
                )
        )
        let decroche = try #require(config.kpis.first { $0.name == "accueil.taux_decroche" })
        #expect(decroche.aggregate == .ratio)
        #expect(
            decroche.selector
                == SampleSelector(
                    metric: "appels",
                    field: "decroche",
                    filters: [.init(key: "service", value: "accueil")]
                )
        )
        #expect(
            decroche.denominator
                == SampleSelector(metric: "appels", field: "recu", filters: [.init(key: "service", value: "accueil")])
        )
        #expect(decroche.window == .today)
        #expect(decroche.direction == .above)
        // The alerts' KPI exists, so the deadman alert of DESIGN.md has something to watch.
        #expect(config.kpis.contains { $0.name == "collecte.tournees_jour" })
    }
}
