import Testing
import VigieConfig
import VigieCore

/// Two KPIs for alerts to watch: lines 1–13; the text appended starts at line 14.
let alertKPIs = """
    [[kpi]]
    name = "etat_civil.attente_p90"
    metric = "guichet_attente"
    group_by = ["site"]
    aggregate = "p90"
    window = "1h"

    [[kpi]]
    name = "accueil.taux_decroche"
    aggregate = "ratio"
    numerator = { metric = "appels", field = "decroche" }
    denominator = { metric = "appels", field = "recu" }
    window = "today"

    """

/// The two KPIs and one `[[alert]]`: header at line 14, name 15, kpi 16, `extra` from 17.
func alertTOML(_ extra: String, name: String = "a", kpi: String = "etat_civil.attente_p90") -> String {
    alertKPIs + "[[alert]]\nname = \"\(name)\"\nkpi = \"\(kpi)\"\n" + extra
}

/// The only alert rule of `text`, which must load.
func onlyAlert(_ text: String) throws -> AlertRule {
    let config = try ConfigLoader.parse(text)
    #expect(config.alerts.count == 1)
    return try #require(config.alerts.first)
}

@Suite("[[alert]] parsing")
struct AlertParsingTests {
    @Test func everyKey() throws {
        let rule = try onlyAlert(
            alertTOML(
                """
                above = 30
                for = "5m"
                clear_below = 25
                keep_firing_for = "2m"
                min_samples = 10
                absent_for = "2h"
                flap = { window = 30, high = 60, low = 20 }
                severity = "critical"
                message = "Attente p90 de {value} min au site {group.site} depuis {since}"
                schedule = { days = "mon-fri", from = "07:30", to = "15:30" }
                """
            )
        )
        #expect(
            rule
                == AlertRule(
                    name: "a",
                    kpi: "etat_civil.attente_p90",
                    comparison: .above(30),
                    forDuration: 300_000_000_000,
                    clearThreshold: 25,
                    keepFiringFor: 120_000_000_000,
                    minSamples: 10,
                    absentFor: 7_200_000_000_000,
                    flap: FlapDetection(window: 30, high: 60, low: 20),
                    severity: "critical",
                    message: "Attente p90 de {value} min au site {group.site} depuis {since}",
                    schedule: AlertSchedule(weekdays: [1, 2, 3, 4, 5], startMinute: 450, endMinute: 930)
                )
        )
    }

    @Test func defaultsOfAThresholdRule() throws {
        let rule = try onlyAlert(alertTOML("below = 0.8", kpi: "accueil.taux_decroche"))
        #expect(rule == AlertRule(name: "a", kpi: "accueil.taux_decroche", comparison: .below(0.8)))
        #expect(rule.forDuration == 0)
        #expect(rule.clearThreshold == nil)
        #expect(rule.keepFiringFor == 0)
        #expect(rule.minSamples == 0)
        #expect(rule.absentFor == nil)
        #expect(rule.flap == nil)
        #expect(rule.severity == "warning")
        #expect(rule.message == "{kpi} {value} (seuil {threshold})")
        #expect(rule.schedule == nil)
    }

    @Test func deadmanRuleHasItsOwnDefaultMessage() throws {
        let rule = try onlyAlert(alertTOML("absent_for = \"30m\"\nseverity = \"info\""))
        #expect(rule.comparison == nil)
        #expect(rule.absentFor == 1_800_000_000_000)
        #expect(rule.severity == "info")
        #expect(rule.message == "Aucune donnée pour {kpi} depuis {since}")
    }

    @Test func hysteresisOfABelowRule() throws {
        let rule = try onlyAlert(alertTOML("below = 25\nclear_above = 26"))
        #expect(rule.comparison == .below(25))
        #expect(rule.clearThreshold == 26)
    }

    static let flapForms: [(String, FlapDetection?)] = [
        ("flap = true", FlapDetection(window: 20, high: 50, low: 25)),
        ("flap = false", nil),
        ("flap = {}", FlapDetection()),
        ("flap = { window = 10 }", FlapDetection(window: 10, high: 50, low: 25)),
        ("flap = { high = 40.5, low = 10 }", FlapDetection(window: 20, high: 40.5, low: 10)),
        ("[alert.flap]\nwindow = 64\nlow = 0\nhigh = 100", FlapDetection(window: 64, high: 100, low: 0)),
    ]

    @Test("flap = true, false or a table", arguments: flapForms)
    func flap(line: String, expected: FlapDetection?) throws {
        #expect(try onlyAlert(alertTOML("above = 30\n" + line)).flap == expected)
    }

    static let scheduleForms: [(String, AlertSchedule)] = [
        (
            "{ days = \"mon-fri\", from = \"07:30\", to = \"15:30\" }",
            AlertSchedule(weekdays: Set(1...5), startMinute: 450, endMinute: 930)
        ),
        ("{ days = \"sat,sun\" }", AlertSchedule(weekdays: [6, 7])),
        ("{ days = \"Sat, Sun\" }", AlertSchedule(weekdays: [6, 7])),
        ("{ days = [\"lun\", \"mercredi\", \"Friday\"] }", AlertSchedule(weekdays: [1, 3, 5])),
        ("{ days = \"fri-mon\" }", AlertSchedule(weekdays: [5, 6, 7, 1])),
        ("{ days = [\"mon-wed\", \"sat\"] }", AlertSchedule(weekdays: [1, 2, 3, 6])),
        ("{ days = \"sun\" }", AlertSchedule(weekdays: [7])),
        ("{ from = \"22:00\", to = \"06:00\" }", AlertSchedule(startMinute: 1_320, endMinute: 360)),
        ("{ from = \"7:05\" }", AlertSchedule(startMinute: 425, endMinute: 1_440)),
        ("{ to = \"24:00\", from = \"20:00\" }", AlertSchedule(startMinute: 1_200, endMinute: 1_440)),
        ("{}", AlertSchedule()),
    ]

    @Test("schedule days, from and to", arguments: scheduleForms)
    func schedule(table: String, expected: AlertSchedule) throws {
        #expect(try onlyAlert(alertTOML("above = 30\nschedule = " + table)).schedule == expected)
    }

    @Test func scheduleAsASubTable() throws {
        let rule = try onlyAlert(
            alertTOML("above = 30\n[alert.schedule]\ndays = \"mon-fri\"\nfrom = \"08:00\"\nto = \"12:00\"")
        )
        #expect(rule.schedule == AlertSchedule(weekdays: Set(1...5), startMinute: 480, endMinute: 720))
    }

    @Test func alertsMayComeBeforeTheirKPIAndKeepFileOrder() throws {
        let config = try ConfigLoader.parse(
            """
            [[alert]]
            name = "deux"
            kpi = "k"
            above = 1

            [[alert]]
            name = "un"
            kpi = "k"
            below = 0

            [[kpi]]
            name = "k"
            metric = "m"
            aggregate = "count"
            window = "1h"
            """
        )
        #expect(config.alerts.map(\.name) == ["deux", "un"])
    }

    @Test func placeholdersOtherThanNamesAreText() throws {
        let rule = try onlyAlert(alertTOML("above = 30\nmessage = \"JSON { \\\"a\\\": 1 } et {value}\""))
        #expect(rule.message == "JSON { \"a\": 1 } et {value}")
    }
}

@Suite("Invalid [[alert]] tables")
struct BadAlertTests {
    static let cases: [BadConfig] = [
        BadConfig(
            label: "missing name",
            toml: alertKPIs + "[[alert]]\nkpi = \"etat_civil.attente_p90\"\nabove = 30",
            line: 14,
            key: "alert #1: name",
            message: "missing name",
            hint: "name = \"attente_excessive\""
        ),
        BadConfig(
            label: "invalid name",
            toml: alertTOML("above = 30", name: "attente excessive"),
            line: 15,
            key: "alert #1: name",
            message: "is not a valid alert name",
            hint: "letters, digits"
        ),
        BadConfig(
            label: "duplicate name",
            toml: alertTOML("above = 30\n\n[[alert]]\nname = \"a\"\nkpi = \"etat_civil.attente_p90\"\nbelow = 1"),
            line: 20,
            key: "alert \"a\": name",
            message: "duplicate alert name \"a\"",
            hint: "already defined at line 15"
        ),
        BadConfig(
            label: "misspelt key, no pile-up about the missing condition",
            toml: alertTOML("abvoe = 30"),
            line: 17,
            key: "alert \"a\": abvoe",
            message: "unknown key in an [[alert]] table",
            hint: "did you mean \"above\"?"
        ),
        BadConfig(
            label: "flapping instead of flap",
            toml: alertTOML("above = 30\nflapping = true"),
            line: 18,
            key: "alert \"a\": flapping",
            message: "unknown key",
            hint: "did you mean \"flap\"?"
        ),
        BadConfig(
            label: "missing kpi",
            toml: alertKPIs + "[[alert]]\nname = \"a\"\nabove = 30",
            line: 14,
            key: "alert \"a\": kpi",
            message: "missing kpi",
            hint: "kpi = \"etat_civil.attente_p90\""
        ),
        BadConfig(
            label: "unknown KPI, did you mean",
            toml: alertTOML("above = 30", kpi: "etat_civil.attente_p95"),
            line: 16,
            key: "alert \"a\": kpi",
            message: "unknown KPI \"etat_civil.attente_p95\"",
            hint: "did you mean \"etat_civil.attente_p90\"?"
        ),
        BadConfig(
            label: "unknown KPI, list of KPIs",
            toml: alertTOML("above = 30", kpi: "piscine.temperature"),
            line: 16,
            key: "alert \"a\": kpi",
            message: "unknown KPI",
            hint: "configured KPIs: etat_civil.attente_p90, accueil.taux_decroche"
        ),
        BadConfig(
            label: "alert on a KPI with errors: only the KPI's error",
            toml: "[[kpi]]\nname = \"k\"\nmetric = \"m\"\naggregate = \"average\"\nwindow = \"1h\"\n"
                + "[[alert]]\nname = \"a\"\nkpi = \"k\"\nabove = 1",
            line: 4,
            key: "kpi \"k\": aggregate",
            message: "unknown aggregate",
            hint: "did you mean \"mean\"?"
        ),
        BadConfig(
            label: "kpi of the wrong type",
            toml: alertKPIs + "[[alert]]\nname = \"a\"\nkpi = 3\nabove = 30",
            line: 16,
            key: "alert \"a\": kpi",
            message: "expected a string",
            hint: "kpi = \"etat_civil.attente_p90\""
        ),
        BadConfig(
            label: "both above and below",
            toml: alertTOML("above = 30\nbelow = 10"),
            line: 18,
            key: "alert \"a\": below",
            message: "above or below, not both",
            hint: "two [[alert]] rules"
        ),
        BadConfig(
            label: "no condition at all",
            toml: alertTOML("severity = \"critical\""),
            line: 14,
            key: "alert \"a\"",
            message: "needs a condition",
            hint: "absent_for = \"2h\""
        ),
        BadConfig(
            label: "quoted threshold",
            toml: alertTOML("above = \"30\""),
            line: 17,
            key: "alert \"a\": above",
            message: "expected a number, found a string",
            hint: "remove the quotes: above = 30"
        ),
        BadConfig(
            label: "for on a deadman rule",
            toml: alertTOML("absent_for = \"2h\"\nfor = \"5m\""),
            line: 18,
            key: "alert \"a\": for",
            message: "only applies to a threshold rule",
            hint: "add above = X or below = X"
        ),
        BadConfig(
            label: "flap on a deadman rule",
            toml: alertTOML("absent_for = \"2h\"\nflap = true"),
            line: 18,
            key: "alert \"a\": flap",
            message: "only applies to a threshold rule",
            hint: "remove flap"
        ),
        BadConfig(
            label: "clear_below on a below rule",
            toml: alertTOML("below = 10\nclear_below = 5"),
            line: 18,
            key: "alert \"a\": clear_below",
            message: "clear_below only applies to an above rule",
            hint: "clear_above"
        ),
        BadConfig(
            label: "clear_above on an above rule",
            toml: alertTOML("above = 10\nclear_above = 15"),
            line: 18,
            key: "alert \"a\": clear_above",
            message: "clear_above only applies to a below rule",
            hint: "clear_below"
        ),
        BadConfig(
            label: "clear_below not under above",
            toml: alertTOML("above = 30\nclear_below = 30"),
            line: 18,
            key: "alert \"a\": clear_below",
            message: "clear_below (30) must be lower than above (30)",
            hint: "clear_below = 24"
        ),
        BadConfig(
            label: "clear_above not over below",
            toml: alertTOML("below = 0.8\nclear_above = 0.75"),
            line: 18,
            key: "alert \"a\": clear_above",
            message: "clear_above (0.75) must be higher than below (0.8)",
            hint: "resolves only over clear_above"
        ),
        BadConfig(
            label: "for written in words",
            toml: alertTOML("above = 30\nfor = \"5 minutes\""),
            line: 18,
            key: "alert \"a\": for",
            message: "\"5 minutes\" is not a duration",
            hint: "did you mean \"5m\"?"
        ),
        BadConfig(
            label: "keep_firing_for as an integer",
            toml: alertTOML("above = 30\nkeep_firing_for = 60"),
            line: 18,
            key: "alert \"a\": keep_firing_for",
            message: "expected a duration string",
            hint: "keep_firing_for = \"60s\""
        ),
        BadConfig(
            label: "absent_for of zero",
            toml: alertTOML("absent_for = \"0s\""),
            line: 17,
            key: "alert \"a\": absent_for",
            message: "is too short",
            hint: "more than 0s"
        ),
        BadConfig(
            label: "negative min_samples",
            toml: alertTOML("above = 30\nmin_samples = -1"),
            line: 18,
            key: "alert \"a\": min_samples",
            message: "-1 is out of range",
            hint: "at least 0"
        ),
        BadConfig(
            label: "severity in French",
            toml: alertTOML("above = 30\nseverity = \"critique\""),
            line: 18,
            key: "alert \"a\": severity",
            message: "unknown severity \"critique\"",
            hint: "did you mean \"critical\"?"
        ),
        BadConfig(
            label: "unknown severity",
            toml: alertTOML("above = 30\nseverity = \"urgent\""),
            line: 18,
            key: "alert \"a\": severity",
            message: "unknown severity",
            hint: "severities: info, warning, critical"
        ),
        BadConfig(
            label: "empty message",
            toml: alertTOML("above = 30\nmessage = \" \""),
            line: 18,
            key: "alert \"a\": message",
            message: "must not be empty",
            hint: "{value}"
        ),
        BadConfig(
            label: "unknown placeholder, did you mean",
            toml: alertTOML("above = 30\nmessage = \"Attente de {valeur} min\""),
            line: 18,
            key: "alert \"a\": message",
            message: "unknown placeholder {valeur}",
            hint: "did you mean {value}?"
        ),
        BadConfig(
            label: "unknown placeholder, list",
            toml: alertTOML("above = 30\nmessage = \"{quoi}\""),
            line: 18,
            key: "alert \"a\": message",
            message: "unknown placeholder {quoi}",
            hint: "{value} {threshold} {kpi} {rule} {severity} {since} {group.TAG}"
        ),
        BadConfig(
            label: "group tag the KPI does not have",
            toml: alertTOML("above = 30\nmessage = \"{group.sit}\""),
            line: 18,
            key: "alert \"a\": message",
            message: "KPI \"etat_civil.attente_p90\" has no group tag \"sit\"",
            hint: "did you mean {group.site}?"
        ),
        BadConfig(
            label: "group tag on an ungrouped KPI",
            toml: alertTOML("below = 0.8\nmessage = \"{group.site}\"", kpi: "accueil.taux_decroche"),
            line: 18,
            key: "alert \"a\": message",
            message: "has no group tag \"site\"",
            hint: "the KPI has no group_by"
        ),
        BadConfig(
            label: "flap window out of range",
            toml: alertTOML("above = 30\nflap = { window = 2 }"),
            line: 18,
            key: "alert \"a\": flap.window",
            message: "2 is out of range",
            hint: "between 3 and 64 (evaluations)"
        ),
        BadConfig(
            label: "flap percent out of range",
            toml: alertTOML("above = 30\nflap = { high = 150 }"),
            line: 18,
            key: "alert \"a\": flap.high",
            message: "150 is out of range",
            hint: "between 0 and 100"
        ),
        BadConfig(
            label: "flap low not under high",
            toml: alertTOML("above = 30\nflap = { high = 40, low = 40 }"),
            line: 18,
            key: "alert \"a\": flap.low",
            message: "low (40) must be lower than high (40)",
            hint: "high = 50, low = 25"
        ),
        BadConfig(
            label: "flap unknown key",
            toml: alertTOML("above = 30\nflap = { windw = 20 }"),
            line: 18,
            key: "alert \"a\": flap.windw",
            message: "unknown key in flap",
            hint: "did you mean \"window\"?"
        ),
        BadConfig(
            label: "flap of the wrong type",
            toml: alertTOML("above = 30\nflap = \"yes\""),
            line: 18,
            key: "alert \"a\": flap",
            message: "expected a table",
            hint: "flap = true"
        ),
        BadConfig(
            label: "schedule of the wrong type",
            toml: alertTOML("above = 30\nschedule = \"mon-fri\""),
            line: 18,
            key: "alert \"a\": schedule",
            message: "expected a table",
            hint: "days = \"mon-fri\""
        ),
        BadConfig(
            label: "schedule unknown key",
            toml: alertTOML("above = 30\nschedule = { days = \"mon-fri\", form = \"07:30\" }"),
            line: 18,
            key: "alert \"a\": schedule.form",
            message: "unknown key in schedule",
            hint: "did you mean \"from\"?"
        ),
        BadConfig(
            label: "schedule misspelt day",
            toml: alertTOML("above = 30\nschedule = { days = \"mon-fry\" }"),
            line: 18,
            key: "alert \"a\": schedule.days",
            message: "unknown day \"fry\"",
            hint: "did you mean \"fri\"?"
        ),
        BadConfig(
            label: "schedule misspelt day in an array",
            toml: alertTOML("above = 30\n[alert.schedule]\ndays = [\n  \"mon\",\n  \"tuesday\",\n  \"wendesday\",\n]"),
            line: 22,
            key: "alert \"a\": schedule.days[2]",
            message: "unknown day \"wendesday\"",
            hint: "did you mean \"wednesday\"?"
        ),
        BadConfig(
            label: "schedule without days",
            toml: alertTOML("above = 30\nschedule = { days = [] }"),
            line: 18,
            key: "alert \"a\": schedule.days",
            message: "no days listed",
            hint: "leave days out for every day"
        ),
        BadConfig(
            label: "schedule time in French style",
            toml: alertTOML("above = 30\nschedule = { from = \"7h30\", to = \"15:30\" }"),
            line: 18,
            key: "alert \"a\": schedule.from",
            message: "\"7h30\" is not a time of day",
            hint: "did you mean \"07:30\"?"
        ),
        BadConfig(
            label: "schedule time out of range",
            toml: alertTOML("above = 30\nschedule = { from = \"07:30\", to = \"25:00\" }"),
            line: 18,
            key: "alert \"a\": schedule.to",
            message: "\"25:00\" is not a time of day",
            hint: "from 00:00 to 24:00"
        ),
        BadConfig(
            label: "schedule from 24:00",
            toml: alertTOML("above = 30\nschedule = { from = \"24:00\" }"),
            line: 18,
            key: "alert \"a\": schedule.from",
            message: "not a time of day",
            hint: "from 00:00 to 23:59"
        ),
        BadConfig(
            label: "schedule empty window",
            toml: alertTOML("above = 30\nschedule = { from = \"08:00\", to = \"08:00\" }"),
            line: 18,
            key: "alert \"a\": schedule.to",
            message: "the window is empty",
            hint: "to = \"24:00\""
        ),
        BadConfig(
            label: "[alert] instead of [[alert]]",
            toml: alertKPIs + "[alert]\nname = \"a\"",
            line: 14,
            key: "alert",
            message: "must be an array of tables",
            hint: "[[alert]]"
        ),
    ]

    @Test(arguments: cases)
    func reportsLineKeyAndHint(_ bad: BadConfig) throws {
        let errors = configErrors(bad.toml)
        #expect(errors.count == 1, "\(errors)")
        let error = try #require(errors.first)
        #expect(error.file == "test.toml")
        #expect(error.line == bad.line, "\(error)")
        #expect(error.key == bad.key, "\(error)")
        #expect(error.message.contains(bad.message), "\(error)")
        #expect(error.hint?.contains(bad.hint) == true, "\(error)")
    }

    @Test func reportsEveryAlertErrorAtOnce() {
        let errors = configErrors(
            alertTOML(
                "above = 30\nclear_below = 35\nseverity = \"grave\"\nschedule = { days = \"lundi-vendredi\", from = \"8h\" }"
            )
        )
        #expect(errors.map(\.line) == [18, 19, 20])
        #expect(
            errors.map(\.key) == ["alert \"a\": clear_below", "alert \"a\": severity", "alert \"a\": schedule.from"]
        )
    }
}
