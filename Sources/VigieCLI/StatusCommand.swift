import ArgumentParser
import Foundation
import Rainbow
import ZeroMQ

/// `vigie status`: every current KPI value from a control snapshot.
public struct StatusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show current KPI values and daemon counters.",
        discussion: "Exit status: 0 on success, 75 if the daemon does not answer."
    )

    @Flag(help: "Print the daemon's JSON reply as is.")
    var json = false

    @Flag(help: "Show the daemon's counters (the 'stats' op) instead of KPI values.")
    var stats = false

    @Argument(help: "Only KPIs whose name starts with this prefix.")
    var prefix: String?

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        var request: [String: Any] = ["op": stats ? "stats" : "snapshot"]
        if let prefix { request["prefix"] = prefix }
        let output: String = try withControlClient(endpoints, command: "status") { client in
            if json { return String(decoding: try client.requestRaw(request), as: UTF8.self) + "\n" }
            let reply = try client.request(request)
            return stats ? Self.renderStats(reply) : Self.renderSnapshot(reply)
        }
        print(output, terminator: "")
    }

    static func renderSnapshot(_ reply: [String: Any]) -> String {
        let rows = (reply["kpis"] as? [[String: Any]] ?? []).compactMap(KPIRow.init)
            .sorted { ($0.kpi, $0.groupText) < ($1.kpi, $1.groupText) }
        if rows.isEmpty { return "no KPI values yet\n" }
        return TableRenderer.render(
            headers: ["KPI", "Title", "Group", "Value", "Target", "Status", "Samples", "Window"],
            rows: rows.map {
                [
                    $0.kpi, $0.title, $0.groupText, $0.valueText, $0.targetText, $0.statusText, String($0.samples),
                    $0.window,
                ]
            }
        )
    }

    static func renderStats(_ reply: [String: Any]) -> String {
        var out = ""
        for key in reply.keys.sorted() where key != "ok" {
            out += "\(key): \(reply[key].map { "\($0)" } ?? "")\n"
        }
        return out
    }
}
