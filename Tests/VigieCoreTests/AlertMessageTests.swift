import Foundation
import Testing

@testable import VigieCore

/// Message templates and number formatting.
@Suite("Alert messages")
struct AlertMessageTests {
    static let numbers: [(Double, String)] = [
        (30, "30"), (31.456, "31.46"), (31.454, "31.45"), (0.8, "0.8"), (0.05, "0.05"), (0.999, "1"),
        (-2.5, "-2.5"), (0.001, "0"), (-0.001, "0"), (0, "0"), (1_234_567.891, "1234567.89"), (12.10, "12.1"),
        (1e300, "1e+300"),
    ]

    @Test("numbers: two decimals at most, no trailing zeros", arguments: numbers)
    func format(value: Double, expected: String) {
        #expect(AlertMessage.format(value) == expected)
    }

    static let context = AlertMessage.Context(
        rule: "attente_excessive",
        kpi: "etat_civil.attente_p90",
        severity: "warning",
        value: 31.456,
        threshold: 30,
        // 2026-06-01T07:05:00Z = 18:05 in Nouméa (UTC+11).
        since: t0 + 7 * hour + 5 * minute,
        group: [TagPair(key: "site", value: "nord"), TagPair(key: "service", value: "état civil")]
    )

    static let templates: [(String, String)] = [
        ("Attente p90 de {value} min au site {group.site}", "Attente p90 de 31.46 min au site nord"),
        ("{rule} {severity} {kpi} seuil {threshold}", "attente_excessive warning etat_civil.attente_p90 seuil 30"),
        ("depuis {since}", "depuis 18:05"),
        ("{group.service}/{group.site}", "état civil/nord"),
        ("inconnu {valeur}, tag absent {group.quartier}", "inconnu {valeur}, tag absent —"),
        ("accolades { seules }, {} et {{value}}", "accolades { seules }, {} et {31.46}"),
        ("ouverte {value", "ouverte {value"),
        ("fermée value}", "fermée value}"),
        ("", ""),
        ("{value}{value}", "31.4631.46"),
    ]

    @Test("placeholders are replaced, anything else is kept", arguments: templates)
    func render(template: String, expected: String) throws {
        let calendar = CalendarPeriod.calendar(in: try zone("Pacific/Noumea"))
        #expect(AlertMessage.render(template, Self.context, calendar: calendar) == expected)
    }

    @Test func missingValueAndThresholdShowADash() {
        var context = Self.context
        context.value = nil
        context.threshold = nil
        let calendar = CalendarPeriod.calendar(in: utc)
        #expect(AlertMessage.render("{value} / {threshold} à {since}", context, calendar: calendar) == "— / — à 07:05")
    }

    @Test func placeholderNamesAreListedInOrder() {
        #expect(
            AlertMessage.placeholderNames(in: "{value} { x } {group.site} {unclosed {kpi}")
                == ["value", " x ", "group.site", "kpi"]
        )
    }
}

/// The Nagios-style weighted percent of state change.
@Suite("Flap history")
struct FlapHistoryTests {
    /// Records `verdicts` (oldest first) and returns the final percent.
    static func percent(_ verdicts: [Bool], window: Int) -> Double {
        var history = FlapHistory(window: window)
        for verdict in verdicts { _ = history.record(verdict, settings: FlapDetection(window: window)) }
        return history.percentStateChange
    }

    @Test func steadyHistoryIsZero() {
        #expect(Self.percent([], window: 10) == 0)
        #expect(Self.percent([true], window: 10) == 0)
        #expect(Self.percent(Array(repeating: true, count: 30), window: 10) == 0)
    }

    @Test func everyEvaluationChangingIsHundredPercent() {
        let alternating = (0..<20).map { $0 % 2 == 0 }
        #expect(abs(Self.percent(alternating, window: 20) - 100) < 1e-9)
        #expect(abs(Self.percent(alternating, window: 10) - 100) < 1e-9)
    }

    @Test func newerChangesWeighMore() {
        // Window 10: nine possible changes weighing 0.8 (oldest) … 1.2 (newest), step 0.05.
        let newest = Self.percent(Array(repeating: false, count: 9) + [true], window: 10)
        #expect(abs(newest - 1.2 * 100 / 9) < 1e-9)
        let oldest = Self.percent([false, true] + Array(repeating: true, count: 8), window: 10)
        #expect(abs(oldest - 0.8 * 100 / 9) < 1e-9)
        // Fallen out of the window: no weight at all.
        #expect(Self.percent([false, true] + Array(repeating: true, count: 9), window: 10) == 0)
    }

    @Test func partialHistoryCountsMissingPastAsSteady() {
        // Three evaluations, two changes at weights 1.2 and 1.15 out of 19 possible.
        #expect(abs(Self.percent([true, false, true], window: 20) - (1.2 + 1.2 - 0.4 / 18) * 100 / 19) < 1e-9)
    }

    @Test func windowOf64UsesTheWholeWord() {
        let alternating = (0..<200).map { $0 % 2 == 0 }
        #expect(abs(Self.percent(alternating, window: 64) - 100) < 1e-9)
        #expect(FlapHistory(window: 500).window == 64)
        #expect(FlapHistory(window: 1).window == 3)
    }
}
