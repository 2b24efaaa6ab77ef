import Foundation
import VigieCore

extension ConfigLoader {
    static let notifierTypes = ["exec", "webhook"]
    static let notifierCommonKeys = ["name", "type", "severities", "kpi_prefix", "states", "repeat_interval"]
    static let execNotifierKeys = ["command", "timeout", "max_concurrent", "queue"]
    static let webhookNotifierKeys = ["url", "timeout", "max_retries", "queue"]
    static let notifierStates = ["pending", "firing", "resolved"]

    static func readNotifiers(_ root: TableReader) -> [NotifierConfiguration] {
        readArrayOfTables(
            root,
            "notifier",
            above: "notifier",
            example: "[[notifier]] above each",
            element: "notifier as a [[notifier]] table",
            readNotifier
        )
    }

    /// One `[[notifier]]` table, or `nil` when it has problems (all of them reported).
    static func readNotifier(_ unnamed: TableReader, firstLines: inout [String: Int?]) -> NotifierConfiguration? {
        let diagnostics = unnamed.diagnostics
        let errorsBefore = diagnostics.errors.count
        let allKeys =
            notifierCommonKeys + execNotifierKeys + webhookNotifierKeys.filter { $0 != "timeout" && $0 != "queue" }

        let (name, table) = readTableName(
            unnamed,
            label: "notifier",
            noun: "notifier",
            known: allKeys,
            missingHint: "add name = \"astreinte\" ([A-Za-z0-9_.:-]; names the notifier in logs and stats)",
            example: "name = \"astreinte\"",
            validExample: "astreinte",
            firstLines: &firstLines
        )

        let type = table.type(
            among: notifierTypes,
            of: "notifier",
            known: allKeys,
            missingHint: "add type = \"exec\" (runs a command) or type = \"webhook\" (HTTP POST, Alertmanager format)"
        )
        switch type {
        case "exec": table.rejectUnknownKeys(notifierCommonKeys + execNotifierKeys, context: "an exec [[notifier]]")
        case "webhook":
            table.rejectUnknownKeys(notifierCommonKeys + webhookNotifierKeys, context: "a webhook [[notifier]]")
        default: table.rejectUnknownKeys(allKeys, context: "a [[notifier]] table")
        }

        let route = readRoute(table)
        let repeatInterval = table.contains("repeat_interval") ? table.duration("repeat_interval", minimum: 1) : nil

        var kind: NotifierConfiguration.Kind?
        let queue = table.integer("queue", in: 1...1_000_000, unit: "transitions")
        if type == "exec" {
            var command: [String]?
            if !table.contains("command") {
                table.reportMissing(
                    "command",
                    known: notifierCommonKeys + execNotifierKeys,
                    "missing command",
                    hint: "add command = [\"/bin/sh\", \"-c\", \"cat >> /var/log/vigie/alertes.json\"] (argv, no shell)"
                )
            } else if let list = table.stringArray(
                "command",
                example: "command = [\"/usr/local/bin/page\", \"--urgent\"]"
            ) {
                if list.isEmpty || list[0].isEmpty {
                    table.report(
                        "command",
                        "command must name a program",
                        hint: "argv as an array: command = [\"/bin/sh\", \"-c\", \"…\"]"
                    )
                } else {
                    command = list
                }
            }
            let timeout = table.duration("timeout", minimum: 1) ?? 10_000_000_000
            let maxConcurrent = table.integer("max_concurrent", in: 1...256, unit: "commands at once") ?? 4
            if let command {
                kind = .exec(
                    ExecNotifierConfiguration(
                        command: command,
                        timeout: timeout,
                        maxConcurrent: maxConcurrent,
                        queue: queue ?? 1_000
                    )
                )
            }
        } else if type == "webhook" {
            var url: String?
            if !table.contains("url") {
                table.reportMissing(
                    "url",
                    known: notifierCommonKeys + webhookNotifierKeys,
                    "missing url",
                    hint: "add url = \"http://127.0.0.1:9095/alerts\""
                )
            } else if let text = table.nonEmptyString("url", example: "url = \"http://127.0.0.1:9095/alerts\"") {
                if isValidWebhookURL(text) {
                    url = text
                } else {
                    table.report(
                        "url",
                        "\"\(text)\" is not an http:// or https:// URL",
                        hint: "e.g. url = \"http://127.0.0.1:9095/alerts\""
                    )
                }
            }
            let timeout = table.duration("timeout", minimum: 1) ?? 5_000_000_000
            let maxRetries = table.integer("max_retries", in: 0...100, unit: "retries") ?? 5
            if let url {
                kind = .webhook(
                    WebhookNotifierConfiguration(
                        url: url,
                        timeout: timeout,
                        maxRetries: maxRetries,
                        queue: queue ?? 1_000
                    )
                )
            }
        }
        guard diagnostics.errors.count == errorsBefore, let kind, let route else { return nil }
        return NotifierConfiguration(name: name, kind: kind, route: route, repeatInterval: repeatInterval)
    }

    /// `severities`, `kpi_prefix`, `states`; `nil` when one of them is wrong (reported).
    static func readRoute(_ table: TableReader) -> NotifierRoute? {
        var route = NotifierRoute()
        var valid = true
        if table.contains("severities") {
            if let list = table.stringArray("severities", example: "severities = [\"critical\"]") {
                for text in list where !severityNames.contains(text) {
                    table.report(
                        "severities",
                        "unknown severity \"\(text)\"",
                        hint: Suggestions.hint(for: text, among: severityNames, listName: "severities")
                    )
                    valid = false
                }
                route.severities = Set(list)
            } else {
                valid = false
            }
        }
        if table.contains("kpi_prefix") {
            if let text = table.string("kpi_prefix", example: "kpi_prefix = \"collecte.\"") {
                route.kpiPrefix = text.isEmpty ? nil : text
            } else {
                valid = false
            }
        }
        if table.contains("states") {
            if let list = table.stringArray("states", example: "states = [\"firing\", \"resolved\"]") {
                for text in list where !notifierStates.contains(text) {
                    table.report(
                        "states",
                        "unknown state \"\(text)\"",
                        hint: Suggestions.hint(for: text, among: notifierStates, listName: "states")
                    )
                    valid = false
                }
                if list.isEmpty {
                    table.report("states", "no states listed", hint: "e.g. states = [\"firing\", \"resolved\"]")
                    valid = false
                }
                route.states = Set(list)
            } else {
                valid = false
            }
        }
        return valid ? route : nil
    }

    /// An http:// or https:// URL with a host.
    static func isValidWebhookURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { return false }
        return true
    }
}
