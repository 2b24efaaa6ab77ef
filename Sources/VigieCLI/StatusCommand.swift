import ArgumentParser
import Foundation
import Rainbow
import VigieCore
import ZeroMQ

/// `vigie status`: every current KPI value from a control snapshot.
public struct StatusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's health and current KPI values.",
        discussion: """
            The first lines say how vigied is doing: version, uptime, configuration file and \
            when it was loaded, endpoints, ingest rate and rejects, write-ahead log and \
            checkpoint state, alerts, and the producers seen last. Then one row per KPI \
            series. --stats prints every counter instead; --json the KPI snapshot as JSON. \
            Exit status: 0 on success, 75 if the daemon does not answer.
            """
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
        let request: ControlRequest = stats ? .stats : .snapshot(prefix: prefix)
        let output: String = try withControlClient(endpoints, command: "status") { client in
            if json { return String(decoding: try client.requestRaw(request), as: UTF8.self) + "\n" }
            if stats { return Self.renderStats(try client.request(.stats, as: ControlReply.Stats.self)) }
            let snapshot = try client.request(request, as: ControlReply.Snapshot.self)
            let health = try client.request(.stats, as: ControlReply.Stats.self)
            return Self.renderHealth(health, now: Date()) + "\n" + Self.renderSnapshot(snapshot)
        }
        print(output, terminator: "")
    }

    static func renderSnapshot(_ reply: ControlReply.Snapshot) -> String {
        let rows = reply.kpis.map(KPIRow.init).sorted { ($0.kpi, $0.groupText) < ($1.kpi, $1.groupText) }
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

    /// The health lines above the KPI table, from a `stats` reply.
    static func renderHealth(_ stats: ControlReply.Stats, now: Date) -> String {
        func span(_ seconds: Double) -> String {
            DurationFormat.format(nanoseconds: Int64(max(0, seconds).rounded()) * 1_000_000_000)
        }
        func ago(_ text: String?) -> String {
            guard let text, let ns = Timestamps.parseRFC3339(text) else { return "?" }
            return span(now.timeIntervalSince1970 - Double(ns) / 1e9) + " ago"
        }
        var out = "vigied \(stats.version), up \(span(stats.uptimeSeconds))"
        out += ", config \(stats.configFile) (loaded \(ago(stats.configLoadedAt)))\n"
        out +=
            "endpoints: "
            + ["ingest", "push", "feed", "control"].compactMap { name in
                let list = stats.endpoints[name] ?? []
                return list.isEmpty ? nil : "\(name) \(list.joined(separator: ","))"
            }.joined(separator: ", ") + "\n"
        out += "ingest: \(String(format: "%.0f", stats.ingestRate)) samples/s; \(stats.samplesAccepted) accepted, "
        out += "\(stats.samplesRejected) rejected, \(stats.samplesLate) late, "
        out += "\(stats.batchesDuplicate) duplicate batches, \(stats.batchesRefusedStorage) refused (storage)\n"
        let wal = stats.wal
        out += "log: fsync \(wal.fsync), durable to \(wal.durableLSN), \(wal.repliesWaiting) replies waiting"
        if let failure = wal.syncFailure { out += ", SYNC FAILED: \(failure)" }
        out += "; checkpoint at \(wal.checkpointLSN) "
        out += "(\(wal.checkpointsWritten) written, \(wal.checkpointErrors) errors"
        if let last = wal.lastCheckpoint { out += ", last \(ago(last.at))" }
        out += ")\n"
        out += "alerts: \(stats.alertsFiring) firing, \(stats.alertsPending) pending"
        let latency = stats.alertLatency
        if let p50 = latency.p50Milliseconds, let p99 = latency.p99Milliseconds {
            out += String(
                format: "; sample → feed p50 %.2f ms, p99 %.2f ms over %d transition(s)",
                p50,
                p99,
                latency.count
            )
        }
        out += "\n"
        let hit = stats.limits.keys.sorted().compactMap { name -> String? in
            guard let limit = stats.limits[name], let hits = limit.hits, hits > 0 else { return nil }
            return "\(name) \(hits) (max \(limit.max))"
        }
        out += "limits hit: \(hit.isEmpty ? "none" : hit.joined(separator: ", "))\n"
        let security = stats.security
        if security.curve {
            out += "security: CURVE on, \(security.authorizedKeys) authorized key(s); "
            out += "\(security.handshakesAdmitted) handshake(s) admitted, "
            out += "\(security.handshakesDenied) denied; "
            out += "\(security.samplesOutsidePrefixes) sample(s) outside their key's prefixes\n"
        }
        out += "producers: \(stats.producersTotal)"
        if !stats.producers.isEmpty {
            out +=
                "; last seen: "
                + stats.producers.prefix(5).map { "\(DisplayText.escaped($0.id)) \(ago($0.lastSeen))" }
                .joined(separator: ", ")
        }
        return out + "\n"
    }

    /// Every member of the reply, sorted by name: `name: value`, objects and lists as
    /// compact JSON.
    static func renderStats(_ reply: ControlReply.Stats) -> String {
        var out = ""
        for key in reply.members.keys.sorted() {
            out += "\(key): \(reply.members[key].map(\.displayText) ?? "")\n"
        }
        return out
    }
}
