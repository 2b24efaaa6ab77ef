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

@Suite("config/vigie.toml notifiers")
struct ExampleNotifierTests {
    /// The exec notifier writes where systemd and `make demo` both let it (not /tmp,
    /// private to the unit); the webhook, whose receiver is site-specific, is only shown
    /// commented out, so a fresh install does not fail every critical alert.
    @Test func notifiersWorkOnAFreshMachine() throws {
        let config = try ConfigLoader.load(path: exampleConfigPath)
        #expect(config.notifiers.map(\.name) == ["journal_alertes"])
        guard case .exec(let exec) = config.notifiers.first?.kind else {
            Issue.record("journal_alertes is not an exec notifier")
            return
        }
        let script = exec.command.joined(separator: " ")
        #expect(script.contains("${LOGS_DIRECTORY:-$VIGIE_STATE_DIR}/alertes.log"))
        #expect(!script.contains("/tmp"))
        let text = try String(contentsOfFile: exampleConfigPath, encoding: .utf8)
        #expect(text.contains("# [[notifier]]\n# name = \"astreinte\"\n# type = \"webhook\""))
        #expect(!text.contains("127.0.0.1:9095"))
    }
}

@Suite("config/vigie.toml alert rules")
struct ExampleAlertTests {
    @Test func hasRealisticRulesOnItsKPIs() throws {
        let config = try ConfigLoader.load(path: exampleConfigPath)
        #expect(config.alerts.count >= 6)
        let kpiNames = Set(config.kpis.map(\.name))
        for rule in config.alerts {
            #expect(kpiNames.contains(rule.kpi), "\(rule.name) watches an unknown KPI")
            #expect(["info", "warning", "critical"].contains(rule.severity))
        }
        #expect(Set(config.alerts.map(\.name)).count == config.alerts.count)
        // Every option is used by at least one rule.
        #expect(config.alerts.contains { $0.forDuration > 0 && $0.clearThreshold != nil && $0.schedule != nil })
        #expect(config.alerts.contains { $0.keepFiringFor > 0 })
        #expect(config.alerts.contains { $0.minSamples > 0 })
        #expect(config.alerts.contains { $0.comparison == nil && $0.absentFor != nil })
        #expect(config.alerts.contains { $0.flap != nil })
        #expect(config.alerts.contains { $0.severity == "critical" })
    }

    @Test func designExampleRulesAreKept() throws {
        let config = try ConfigLoader.load(path: exampleConfigPath)
        let attente = try #require(config.alerts.first { $0.name == "attente_excessive" })
        #expect(attente.kpi == "etat_civil.attente_p90")
        #expect(attente.comparison == .above(30))
        #expect(attente.forDuration == 300_000_000_000)
        #expect(attente.clearThreshold == 25)
        #expect(attente.minSamples == 10)
        #expect(attente.severity == "warning")
        #expect(attente.schedule == AlertSchedule(weekdays: Set(1...5), startMinute: 450, endMinute: 930))
        let silence = try #require(config.alerts.first { $0.name == "collecte_silencieuse" })
        #expect(silence.kpi == "collecte.tournees_jour")
        #expect(silence.comparison == nil)
        #expect(silence.absentFor == 7_200_000_000_000)
        #expect(silence.severity == "critical")
        let portail = try #require(config.alerts.first { $0.name == "portail_indisponible" })
        #expect(portail.comparison == .below(0.99))
        #expect(portail.forDuration == 600_000_000_000)
        let decroche = try #require(config.alerts.first { $0.name == "decroche_faible" })
        #expect(decroche.comparison == .below(0.8))
        let collecte = try #require(config.alerts.first { $0.name == "collecte_tournees_manquees" })
        #expect(collecte.comparison == .below(0.95))
        let piscine = try #require(config.alerts.first { $0.name == "piscine_eau_froide" })
        #expect(piscine.comparison == .below(25))
        #expect(piscine.clearThreshold == 26)
    }

    @Test func messagesRenderInFrench() throws {
        let config = try ConfigLoader.load(path: exampleConfigPath)
        let attente = try #require(config.alerts.first { $0.name == "attente_excessive" })
        let context = AlertMessage.Context(
            rule: attente.name,
            kpi: attente.kpi,
            severity: attente.severity,
            value: 34.5,
            threshold: 30,
            since: 1_780_272_000_000_000_000,  // 2026-06-01T00:00Z = 11:00 in Nouméa
            group: [TagPair(key: "site", value: "nord")]
        )
        let calendar = CalendarPeriod.calendar(in: config.daemon.timeZone)
        #expect(
            AlertMessage.render(attente.message, context, calendar: calendar)
                == "Attente p90 de 34.5 min au site nord (seuil 30 min, depuis 11:00)"
        )
    }
}
