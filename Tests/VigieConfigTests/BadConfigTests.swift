import Testing
import VigieConfig

/// The errors `text` produces (none if it parses).
func configErrors(_ text: String, path: String = "test.toml") -> [ConfigError] {
    do {
        _ = try ConfigLoader.parse(text, path: path)
        return []
    } catch let failure as ConfigErrors {
        return failure.errors
    } catch {
        Issue.record("unexpected error type: \(error)")
        return []
    }
}

/// A valid KPI body to which one mistake is added.
let kpiBody = """
    [[kpi]]
    name = "etat_civil.attente_p90"
    metric = "guichet_attente"
    """

struct BadConfig: Sendable, CustomTestStringConvertible {
    let label: String
    let toml: String
    let line: Int
    let key: String
    let message: String
    let hint: String
    var testDescription: String { label }
}

@Suite("Invalid configurations")
struct BadConfigTests {
    static let cases: [BadConfig] = [
        BadConfig(
            label: "unknown key, did you mean",
            toml: kpiBody + "\nagregate = \"p90\"\nwindow = \"1h\"",
            line: 4,
            key: "kpi \"etat_civil.attente_p90\": agregate",
            message: "unknown key",
            hint: "did you mean \"aggregate\"?"
        ),
        BadConfig(
            label: "bad duration '5 minutes'",
            toml: kpiBody + "\naggregate = \"p90\"\nwindow = \"5 minutes\"",
            line: 5,
            key: "kpi \"etat_civil.attente_p90\": window",
            message: "\"5 minutes\" is not a window",
            hint: "did you mean \"5m\"?"
        ),
        BadConfig(
            label: "bad duration in [daemon]",
            toml: "[daemon]\n\npublish_interval = \"1 sec\"",
            line: 3,
            key: "daemon.publish_interval",
            message: "is not a duration",
            hint: "\"1s\""
        ),
        BadConfig(
            label: "unknown fsync policy",
            toml: "[daemon]\nfsync = \"batched\"",
            line: 2,
            key: "daemon.fsync",
            message: "unknown fsync policy \"batched\"",
            hint: "did you mean \"batch\"?"
        ),
        BadConfig(
            label: "unknown aggregate",
            toml: kpiBody + "\naggregate = \"average\"\nwindow = \"1h\"",
            line: 4,
            key: "kpi \"etat_civil.attente_p90\": aggregate",
            message: "unknown aggregate \"average\"",
            hint: "did you mean \"mean\"?"
        ),
        BadConfig(
            label: "percentile not in the list",
            toml: kpiBody + "\naggregate = \"p75\"\nwindow = \"1h\"",
            line: 4,
            key: "kpi \"etat_civil.attente_p90\": aggregate",
            message: "unknown aggregate",
            hint: "quantile = 0.75"
        ),
        BadConfig(
            label: "share without below/above",
            toml: kpiBody + "\naggregate = \"share\"\nwindow = \"today\"",
            line: 4,
            key: "kpi \"etat_civil.attente_p90\": aggregate",
            message: "needs a threshold",
            hint: "below = X"
        ),
        BadConfig(
            label: "share with both below and above",
            toml: kpiBody + "\naggregate = \"share\"\nbelow = 1\nabove = 2\nwindow = \"today\"",
            line: 6,
            key: "kpi \"etat_civil.attente_p90\": above",
            message: "not both",
            hint: "keep one"
        ),
        BadConfig(
            label: "ratio without denominator",
            toml: """
                [[kpi]]
                name = "accueil.taux_decroche"
                aggregate = "ratio"
                numerator = { metric = "appels", field = "decroche" }
                window = "today"
                """,
            line: 1,
            key: "kpi \"accueil.taux_decroche\": denominator",
            message: "needs denominator",
            hint: "denominator = {"
        ),
        BadConfig(
            label: "ratio numerator without metric",
            toml: """
                [[kpi]]
                name = "r"
                aggregate = "ratio"
                window = "today"
                numerator = { field = "decroche" }
                denominator = { metric = "appels", field = "recu" }
                """,
            line: 5,
            key: "kpi \"r\": numerator",
            message: "missing metric",
            hint: "numerator = { metric ="
        ),
        BadConfig(
            label: "metric on a ratio",
            toml: """
                [[kpi]]
                name = "r"
                aggregate = "ratio"
                metric = "appels"
                numerator = { metric = "appels", field = "decroche" }
                denominator = { metric = "appels", field = "recu" }
                window = "today"
                """,
            line: 4,
            key: "kpi \"r\": metric",
            message: "takes metric from numerator and denominator",
            hint: "numerator"
        ),
        BadConfig(
            label: "option of another aggregate",
            toml: kpiBody + "\naggregate = \"p90\"\nbelow = 15\nwindow = \"1h\"",
            line: 5,
            key: "kpi \"etat_civil.attente_p90\": below",
            message: "only applies to aggregate \"share\"",
            hint: "aggregate = \"share\""
        ),
        BadConfig(
            label: "duplicate KPI name",
            toml: kpiBody + "\naggregate = \"p90\"\nwindow = \"1h\"\n\n" + kpiBody
                + "\naggregate = \"p50\"\nwindow = \"1h\"",
            line: 8,
            key: "kpi \"etat_civil.attente_p90\": name",
            message: "duplicate KPI name",
            hint: "already defined at line 2"
        ),
        BadConfig(
            label: "quantile out of range",
            toml: kpiBody + "\naggregate = \"quantile\"\nquantile = 75\nwindow = \"1h\"",
            line: 5,
            key: "kpi \"etat_civil.attente_p90\": quantile",
            message: "75 is out of range",
            hint: "between 0 and 1"
        ),
        BadConfig(
            label: "quantile missing",
            toml: kpiBody + "\naggregate = \"quantile\"\nwindow = \"1h\"",
            line: 1,
            key: "kpi \"etat_civil.attente_p90\": quantile",
            message: "needs quantile",
            hint: "quantile = 0.75"
        ),
        BadConfig(
            label: "bad timezone",
            toml: "[daemon]\ntimezone = \"Pacific/Noumé\"",
            line: 2,
            key: "daemon.timezone",
            message: "unknown time zone",
            hint: "did you mean \"Pacific/Noumea\"?"
        ),
        BadConfig(
            label: "nonsense timezone",
            toml: "[daemon]\ntimezone = \"heure locale\"",
            line: 2,
            key: "daemon.timezone",
            message: "unknown time zone",
            hint: "IANA"
        ),
        BadConfig(
            label: "endpoint without transport",
            toml: "[endpoints]\ningest = [\n  \"tcp://127.0.0.1:7600\",\n  \"127.0.0.1:7700\",\n]",
            line: 4,
            key: "endpoints.ingest[1]",
            message: "has no transport",
            hint: "did you mean \"tcp://127.0.0.1:7700\"?"
        ),
        BadConfig(
            label: "endpoint with a bad port",
            toml: "[endpoints]\nfeed = [\"tcp://127.0.0.1:76020\"]",
            line: 2,
            key: "endpoints.feed[0]",
            message: "invalid port",
            hint: "1–65535"
        ),
        BadConfig(
            label: "endpoint of an unknown transport",
            toml: "[endpoints]\ncontrol = [\"udp://127.0.0.1:7603\"]",
            line: 2,
            key: "endpoints.control[0]",
            message: "is not a ZeroMQ endpoint",
            hint: "ipc://"
        ),
        BadConfig(
            label: "endpoint used twice",
            toml: "[endpoints]\ningest = [\"tcp://127.0.0.1:7600\"]\npush = [\"tcp://127.0.0.1:7600\"]",
            line: 3,
            key: "endpoints.push[0]",
            message: "already used by endpoints.ingest",
            hint: "its own endpoint"
        ),
        BadConfig(
            label: "wrong type: quoted number",
            toml: kpiBody + "\naggregate = \"p90\"\nwindow = \"1h\"\ntarget = \"20\"",
            line: 6,
            key: "kpi \"etat_civil.attente_p90\": target",
            message: "expected a number, found a string",
            hint: "remove the quotes: target = 20"
        ),
        BadConfig(
            label: "wrong type: unquoted duration",
            toml: kpiBody + "\naggregate = \"p90\"\nwindow = 3600",
            line: 5,
            key: "kpi \"etat_civil.attente_p90\": window",
            message: "expected a duration string",
            hint: "window = \"3600s\""
        ),
        BadConfig(
            label: "wrong type: group_by as a string",
            toml: kpiBody + "\naggregate = \"p90\"\nwindow = \"1h\"\ngroup_by = \"site\"",
            line: 6,
            key: "kpi \"etat_civil.attente_p90\": group_by",
            message: "expected an array of strings",
            hint: "group_by = [\"site\"]"
        ),
        BadConfig(
            label: "wrong type: integer tag value in where",
            toml: kpiBody + "\naggregate = \"p90\"\nwindow = \"1h\"\nwhere = { service = \"etat-civil\", site = 3 }",
            line: 6,
            key: "kpi \"etat_civil.attente_p90\": where.site",
            message: "tag values are strings",
            hint: "site = \"3\""
        ),
        BadConfig(
            label: "wrong type: float where an integer is needed",
            toml: kpiBody + "\naggregate = \"p90\"\nwindow = \"1h\"\nmin_samples = 2.5",
            line: 6,
            key: "kpi \"etat_civil.attente_p90\": min_samples",
            message: "expected an integer",
            hint: "min_samples = 0"
        ),
        BadConfig(
            label: "[kpi] instead of [[kpi]]",
            toml: "[kpi]\nname = \"x\"",
            line: 1,
            key: "kpi",
            message: "must be an array of tables",
            hint: "[[kpi]]"
        ),
        BadConfig(
            label: "missing name",
            toml: "[[kpi]]\nmetric = \"m\"\naggregate = \"count\"\nwindow = \"1h\"",
            line: 1,
            key: "kpi #1: name",
            message: "missing name",
            hint: "name ="
        ),
        BadConfig(
            label: "invalid name",
            toml: "[[kpi]]\nname = \"attente guichet\"\nmetric = \"m\"\naggregate = \"count\"\nwindow = \"1h\"",
            line: 2,
            key: "kpi #1: name",
            message: "is not a valid KPI name",
            hint: "letters, digits"
        ),
        BadConfig(
            label: "missing metric",
            toml: "[[kpi]]\nname = \"k\"\naggregate = \"count\"\nwindow = \"1h\"",
            line: 1,
            key: "kpi \"k\": metric",
            message: "missing metric",
            hint: "metric ="
        ),
        BadConfig(
            label: "missing window",
            toml: kpiBody + "\naggregate = \"count\"",
            line: 1,
            key: "kpi \"etat_civil.attente_p90\": window",
            message: "missing window",
            hint: "\"today\""
        ),
        BadConfig(
            label: "calendar window misspelt",
            toml: kpiBody + "\naggregate = \"count\"\nwindow = \"mont\"",
            line: 5,
            key: "kpi \"etat_civil.attente_p90\": window",
            message: "unknown window",
            hint: "\"month\""
        ),
        BadConfig(
            label: "calendar window in French",
            toml: kpiBody + "\naggregate = \"count\"\nwindow = \"semaine\"",
            line: 5,
            key: "kpi \"etat_civil.attente_p90\": window",
            message: "unknown window \"semaine\"",
            hint: "did you mean \"week\"?"
        ),
        BadConfig(
            label: "bad direction",
            toml: kpiBody + "\naggregate = \"count\"\nwindow = \"1h\"\ndirection = \"up\"",
            line: 6,
            key: "kpi \"etat_civil.attente_p90\": direction",
            message: "unknown direction",
            hint: "below, above"
        ),
        BadConfig(
            label: "lateness longer than the window",
            toml: kpiBody + "\naggregate = \"count\"\nwindow = \"1h\"\nlateness = \"2h\"",
            line: 6,
            key: "kpi \"etat_civil.attente_p90\": lateness",
            message: "longer than the window",
            hint: "at most the window's length (1h)"
        ),
        BadConfig(
            label: "buckets out of range",
            toml: kpiBody + "\naggregate = \"count\"\nwindow = \"1h\"\nbuckets = 5000",
            line: 6,
            key: "kpi \"etat_civil.attente_p90\": buckets",
            message: "5000 is out of range",
            hint: "between 1 and 3600"
        ),
        BadConfig(
            label: "unknown top-level table",
            toml: "[deamon]\ntimezone = \"UTC\"",
            line: 1,
            key: "deamon",
            message: "unknown key in the top level",
            hint: "did you mean \"daemon\"?"
        ),
        BadConfig(
            label: "unknown key in [ingest]",
            toml: "[ingest]\nmax_line_lenght = 100",
            line: 2,
            key: "ingest.max_line_lenght",
            message: "unknown key in [ingest]",
            hint: "did you mean \"max_line_length\"?"
        ),
        BadConfig(
            label: "line longer than a message",
            toml: "[ingest]\nmax_line_length = 4096\nmax_message_size = 2048",
            line: 2,
            key: "ingest.max_line_length",
            message: "larger than max_message_size",
            hint: "lower"
        ),
        BadConfig(
            label: "unknown key in a ratio selector",
            toml: """
                [[kpi]]
                name = "r"
                aggregate = "ratio"
                window = "today"
                numerator = { metric = "appels", feild = "decroche" }
                denominator = { metric = "appels", field = "recu" }
                """,
            line: 5,
            key: "kpi \"r\": numerator.feild",
            message: "unknown key in numerator",
            hint: "did you mean \"field\"?"
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

    @Test func reportsEveryErrorAtOnce() throws {
        let text = """
            [daemon]
            timezone = "Mars/Olympus"

            [[kpi]]
            name = "a"
            metric = "m"
            aggregate = "avg"
            window = "1h"

            [[kpi]]
            name = "b"
            metric = "m"
            aggregate = "count"
            window = "5 minutes"
            """
        let errors = configErrors(text)
        #expect(errors.map(\.line) == [2, 7, 14])
        #expect(errors.map(\.key) == ["daemon.timezone", "kpi \"a\": aggregate", "kpi \"b\": window"])
        let failure = ConfigErrors(errors)
        #expect(failure.description.split(separator: "\n").count == 3)
    }

    @Test func aTypoIsReportedOnceNotAlsoAsMissing() {
        let errors = configErrors(kpiBody + "\naggregate = \"count\"\nwindw = \"1h\"")
        #expect(errors.count == 1)
        #expect(errors.first?.hint == "did you mean \"window\"?")
    }

    @Test func aMisspeltRatioIsOneError() {
        let errors = configErrors(
            """
            [[kpi]]
            name = "r"
            aggregate = "ratoi"
            numerator = { metric = "appels", field = "decroche" }
            denominator = { metric = "appels", field = "recu" }
            window = "today"
            """
        )
        #expect(
            errors.map(\.description) == [
                "test.toml:3: kpi \"r\": aggregate: unknown aggregate \"ratoi\" (hint: did you mean \"ratio\"?)"
            ]
        )
    }

    @Test func syntaxErrorHasLineAndColumn() throws {
        let errors = configErrors("[daemon]\ntimezone = \"UTC\"\nstate_dir = /var/lib/vigie\n")
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.line == 3)
        #expect(error.column == 13)
        #expect(error.key.isEmpty)
        #expect(error.message.hasPrefix("TOML syntax error"))
        #expect(error.hint?.contains("double quotes") == true)
        #expect(error.headline.hasPrefix("test.toml:3:13: TOML syntax error"))
    }

    @Test func unclosedStringIsASyntaxError() throws {
        let error = try #require(configErrors("[[kpi]]\nname = \"k\ntitle = \"t\"\n").first)
        #expect(error.line == 2)
        #expect(error.column != nil)
    }

    @Test func errorDescriptionFormat() {
        let error = ConfigError(
            file: "vigie.toml",
            line: 12,
            key: "kpi \"x\": window",
            message: "\"5 minutes\" is not a window",
            hint: "did you mean \"5m\"?"
        )
        #expect(
            error.description
                == "vigie.toml:12: kpi \"x\": window: \"5 minutes\" is not a window (hint: did you mean \"5m\"?)"
        )
        #expect(error.headline == "vigie.toml:12: kpi \"x\": window: \"5 minutes\" is not a window")
        let noLine = ConfigError(file: "f.toml", key: "", message: "no such file")
        #expect(noLine.description == "f.toml: no such file")
    }

    @Test func missingFileIsNamed() throws {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/vigie.toml")
            Issue.record("expected an error")
        } catch let failure as ConfigErrors {
            let error = try #require(failure.errors.first)
            #expect(error.file == "/nonexistent/vigie.toml")
            #expect(error.message == "no such file")
            #expect(error.line == nil)
        }
    }

    @Test func directoryIsNotAFile() throws {
        do {
            _ = try ConfigLoader.load(path: "/tmp")
            Issue.record("expected an error")
        } catch let failure as ConfigErrors {
            #expect(failure.errors.first?.message.contains("directory") == true)
        }
    }
}

/// Table headers that once aborted the process inside the TOML library (toml++ #301):
/// `vigie check-config` and a reload must report them, never die on them.
@Suite struct HeaderWithoutNameTests {
    @Test(arguments: ["[[[kpi]]\nname = \"a\"\n", "[daemon]\n[\n", "[#x]\n", "[=]\n", "x = [1,\n2]\n[[[y]]]\n"])
    func aHeaderWithoutANameIsASyntaxError(text: String) {
        let errors = configErrors(text)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.message.contains("a table header must start with its name") == true, "\(errors)")
        #expect(errors.first?.line != nil)
    }
}
