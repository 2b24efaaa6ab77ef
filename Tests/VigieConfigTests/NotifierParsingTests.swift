import Testing
import VigieConfig

@Suite("[[notifier]] parsing")
struct NotifierParsingTests {
    @Test func execAndWebhookWithDefaultsAndRoutes() throws {
        let config = try ConfigLoader.parse(
            """
            [[notifier]]
            name = "journal"
            type = "exec"
            command = ["/bin/sh", "-c", "cat >> /tmp/a.log"]

            [[notifier]]
            name = "astreinte"
            type = "webhook"
            url = "https://alerts.example.nc/hook"
            timeout = "2s"
            max_retries = 3
            queue = 50
            severities = ["critical"]
            kpi_prefix = "collecte."
            states = ["firing"]

            [[notifier]]
            name = "lent"
            type = "exec"
            command = ["/usr/local/bin/page"]
            timeout = "30s"
            max_concurrent = 2
            repeat_interval = "4h"
            """
        )
        #expect(
            config.notifiers == [
                NotifierConfiguration(
                    name: "journal",
                    kind: .exec(ExecNotifierConfiguration(command: ["/bin/sh", "-c", "cat >> /tmp/a.log"]))
                ),
                NotifierConfiguration(
                    name: "astreinte",
                    kind: .webhook(
                        WebhookNotifierConfiguration(
                            url: "https://alerts.example.nc/hook",
                            timeout: 2_000_000_000,
                            maxRetries: 3,
                            queue: 50
                        )
                    ),
                    route: NotifierRoute(severities: ["critical"], kpiPrefix: "collecte.", states: ["firing"])
                ),
                NotifierConfiguration(
                    name: "lent",
                    kind: .exec(
                        ExecNotifierConfiguration(
                            command: ["/usr/local/bin/page"],
                            timeout: 30_000_000_000,
                            maxConcurrent: 2
                        )
                    ),
                    repeatInterval: 4 * 3_600_000_000_000
                ),
            ]
        )
        let webhook = config.notifiers[0].kind
        #expect(webhook == .exec(ExecNotifierConfiguration(command: ["/bin/sh", "-c", "cat >> /tmp/a.log"])))
        if case .exec(let exec) = webhook {
            #expect(exec.timeout == 10_000_000_000)
            #expect(exec.maxConcurrent == 4)
        }
    }

    @Test func routeAcceptsBySeverityPrefixAndState() {
        let route = NotifierRoute(severities: ["critical"], kpiPrefix: "collecte.", states: ["firing"])
        #expect(route.accepts(kpi: "collecte.tournees", severity: "critical", state: "firing"))
        #expect(!route.accepts(kpi: "collecte.tournees", severity: "warning", state: "firing"))
        #expect(!route.accepts(kpi: "accueil.attente", severity: "critical", state: "firing"))
        #expect(!route.accepts(kpi: "collecte.tournees", severity: "critical", state: "resolved"))
        let all = NotifierRoute()
        #expect(all.accepts(kpi: "x", severity: "info", state: "resolved"))
        #expect(!all.accepts(kpi: "x", severity: "info", state: "pending"))
    }

    static let exec = "[[notifier]]\nname = \"n\"\ntype = \"exec\"\n"
    static let webhook = "[[notifier]]\nname = \"w\"\ntype = \"webhook\"\n"

    static let cases: [BadConfig] = [
        BadConfig(
            label: "missing name",
            toml: "[[notifier]]\ntype = \"exec\"\ncommand = [\"/bin/true\"]",
            line: 1,
            key: "notifier #1: name",
            message: "missing name",
            hint: "add name ="
        ),
        BadConfig(
            label: "duplicate name",
            toml: exec + "command = [\"/bin/true\"]\n" + exec + "command = [\"/bin/true\"]",
            line: 6,
            key: "notifier \"n\": name",
            message: "duplicate notifier name \"n\"",
            hint: "already defined at line 2"
        ),
        BadConfig(
            label: "unknown type, did you mean",
            toml: "[[notifier]]\nname = \"n\"\ntype = \"webhok\"\nurl = \"http://x/\"",
            line: 3,
            key: "notifier \"n\": type",
            message: "unknown notifier type \"webhok\"",
            hint: "did you mean \"webhook\"?"
        ),
        BadConfig(
            label: "missing type",
            toml: "[[notifier]]\nname = \"n\"\ncommand = [\"/bin/true\"]",
            line: 1,
            key: "notifier \"n\": type",
            message: "missing type",
            hint: "type = \"exec\""
        ),
        BadConfig(
            label: "exec without command",
            toml: exec,
            line: 1,
            key: "notifier \"n\": command",
            message: "missing command",
            hint: "add command ="
        ),
        BadConfig(
            label: "command as a string",
            toml: exec + "command = \"/bin/true\"",
            line: 4,
            key: "notifier \"n\": command",
            message: "expected an array of strings",
            hint: "command = [\"/bin/true\"]"
        ),
        BadConfig(
            label: "empty command",
            toml: exec + "command = []",
            line: 4,
            key: "notifier \"n\": command",
            message: "command must name a program",
            hint: "argv"
        ),
        BadConfig(
            label: "exec key on a webhook, did you mean",
            toml: webhook + "url = \"http://127.0.0.1:9095/alerts\"\ncomand = [\"x\"]",
            line: 5,
            key: "notifier \"w\": comand",
            message: "unknown key in a webhook [[notifier]]",
            hint: "known keys"
        ),
        BadConfig(
            label: "misspelt key on exec",
            toml: exec + "command = [\"/bin/true\"]\ntimout = \"3s\"",
            line: 5,
            key: "notifier \"n\": timout",
            message: "unknown key",
            hint: "did you mean \"timeout\"?"
        ),
        BadConfig(
            label: "bad timeout",
            toml: exec + "command = [\"/bin/true\"]\ntimeout = \"3 secondes\"",
            line: 5,
            key: "notifier \"n\": timeout",
            message: "is not a duration",
            hint: "durations are"
        ),
        BadConfig(
            label: "max_concurrent 0",
            toml: exec + "command = [\"/bin/true\"]\nmax_concurrent = 0",
            line: 5,
            key: "notifier \"n\": max_concurrent",
            message: "0 is out of range",
            hint: "between 1 and 256"
        ),
        BadConfig(
            label: "webhook without url",
            toml: webhook,
            line: 1,
            key: "notifier \"w\": url",
            message: "missing url",
            hint: "http://127.0.0.1:9095/alerts"
        ),
        BadConfig(
            label: "webhook url not http",
            toml: webhook + "url = \"ftp://example.nc/x\"",
            line: 4,
            key: "notifier \"w\": url",
            message: "is not an http:// or https:// URL",
            hint: "url = \"http://"
        ),
        BadConfig(
            label: "negative max_retries",
            toml: webhook + "url = \"http://x/\"\nmax_retries = -1",
            line: 5,
            key: "notifier \"w\": max_retries",
            message: "out of range",
            hint: "between 0 and 100"
        ),
        BadConfig(
            label: "queue 0",
            toml: webhook + "url = \"http://x/\"\nqueue = 0",
            line: 5,
            key: "notifier \"w\": queue",
            message: "out of range",
            hint: "between 1"
        ),
        BadConfig(
            label: "unknown severity",
            toml: exec + "command = [\"/bin/true\"]\nseverities = [\"critcal\"]",
            line: 5,
            key: "notifier \"n\": severities",
            message: "unknown severity \"critcal\"",
            hint: "did you mean \"critical\"?"
        ),
        BadConfig(
            label: "unknown state",
            toml: exec + "command = [\"/bin/true\"]\nstates = [\"firng\"]",
            line: 5,
            key: "notifier \"n\": states",
            message: "unknown state \"firng\"",
            hint: "did you mean \"firing\"?"
        ),
        BadConfig(
            label: "repeat_interval not a duration",
            toml: exec + "command = [\"/bin/true\"]\nrepeat_interval = \"4 hours\"",
            line: 5,
            key: "notifier \"n\": repeat_interval",
            message: "not a duration",
            hint: "4h"
        ),
        BadConfig(
            label: "single [notifier] table",
            toml: "[notifier]\nname = \"n\"",
            line: 1,
            key: "notifier",
            message: "[notifier] must be an array of tables",
            hint: "[[notifier]]"
        ),
    ]

    @Test(arguments: cases)
    func reportsLineKeyAndHint(_ bad: BadConfig) throws {
        let errors = configErrors(bad.toml)
        #expect(errors.count == 1, "\(errors)")
        let error = try #require(errors.first)
        #expect(error.line == bad.line, "\(error)")
        #expect(error.key == bad.key, "\(error)")
        #expect(error.message.contains(bad.message), "\(error)")
        #expect(error.hint?.contains(bad.hint) == true, "\(error)")
    }
}
