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
            let reply = try client.request(request)
            if stats { return Self.renderStats(reply) }
            let health = try client.request(.stats)
            return Self.renderHealth(health, now: Date()) + "\n" + Self.renderSnapshot(reply)
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

    /// The health lines above the KPI table, from a `stats` reply.
    static func renderHealth(_ stats: [String: Any], now: Date) -> String {
        func int(_ key: String, in object: [String: Any] = stats) -> Int { object[key] as? Int ?? 0 }
        func span(_ seconds: Double) -> String {
            DurationFormat.format(nanoseconds: Int64(max(0, seconds).rounded()) * 1_000_000_000)
        }
        func ago(_ text: String?) -> String {
            guard let text, let ns = Timestamps.parseRFC3339(text) else { return "?" }
            return span(now.timeIntervalSince1970 - Double(ns) / 1e9) + " ago"
        }
        var out = "vigied \(stats["version"] as? String ?? "?"), up "
        out += span(stats["uptime_s"] as? Double ?? 0)
        out +=
            ", config \(stats["config_file"] as? String ?? "?") (loaded \(ago(stats["config_loaded_at"] as? String)))\n"
        let endpoints = stats["endpoints"] as? [String: [String]] ?? [:]
        out +=
            "endpoints: "
            + ["ingest", "push", "feed", "control"].compactMap { name in
                let list = endpoints[name] ?? []
                return list.isEmpty ? nil : "\(name) \(list.joined(separator: ","))"
            }.joined(separator: ", ") + "\n"
        let rate = stats["ingest_rate"] as? Double ?? 0
        out += "ingest: \(String(format: "%.0f", rate)) samples/s; \(int("samples_accepted")) accepted, "
        out += "\(int("samples_rejected")) rejected, \(int("samples_late")) late, "
        out += "\(int("batches_duplicate")) duplicate batches, \(int("batches_refused_storage")) refused (storage)\n"
        if let wal = stats["wal"] as? [String: Any] {
            out += "log: fsync \(wal["fsync"] as? String ?? "?"), durable to \(int("durable_lsn", in: wal)), "
            out += "\(int("replies_waiting", in: wal)) replies waiting"
            if let failure = wal["sync_failure"] as? String { out += ", SYNC FAILED: \(failure)" }
            out += "; checkpoint at \(int("checkpoint_lsn", in: wal)) "
            out += "(\(int("checkpoints_written", in: wal)) written, \(int("checkpoint_errors", in: wal)) errors"
            if let last = wal["last_checkpoint"] as? [String: Any] { out += ", last \(ago(last["at"] as? String))" }
            out += ")\n"
        }
        out += "alerts: \(int("alerts_firing")) firing, \(int("alerts_pending")) pending"
        if let latency = stats["alert_latency"] as? [String: Any], let p50 = latency["p50_ms"] as? Double,
            let p99 = latency["p99_ms"] as? Double
        {
            let count = latency["count"] as? Int ?? 0
            out += String(format: "; sample → feed p50 %.2f ms, p99 %.2f ms over %d transition(s)", p50, p99, count)
        }
        out += "\n"
        if let limits = stats["limits"] as? [String: [String: Any]] {
            let hit = limits.keys.sorted().compactMap { name -> String? in
                guard let hits = limits[name]?["hits"] as? Int, hits > 0 else { return nil }
                return "\(name) \(hits) (max \(limits[name]?["max"] as? Int ?? 0))"
            }
            out += "limits hit: \(hit.isEmpty ? "none" : hit.joined(separator: ", "))\n"
        }
        if let security = stats["security"] as? [String: Any], security["curve"] as? Bool == true {
            out += "security: CURVE on, \(int("authorized_keys", in: security)) authorized key(s); "
            out += "\(int("handshakes_admitted", in: security)) handshake(s) admitted, "
            out += "\(int("handshakes_denied", in: security)) denied; "
            out += "\(int("samples_outside_prefixes", in: security)) sample(s) outside their key's prefixes\n"
        }
        let producers = stats["producers"] as? [[String: Any]] ?? []
        out += "producers: \(int("producers_total"))"
        if !producers.isEmpty {
            out +=
                "; last seen: "
                + producers.prefix(5).map {
                    "\(DisplayText.escaped($0["id"] as? String ?? "?")) \(ago($0["last_seen"] as? String))"
                }.joined(separator: ", ")
        }
        return out + "\n"
    }

    static func renderStats(_ reply: [String: Any]) -> String {
        var out = ""
        for key in reply.keys.sorted() where key != "ok" {
            out += "\(key): \(reply[key].map { "\($0)" } ?? "")\n"
        }
        return out
    }
}
