import Foundation
import VigieCore

extension ControlHandler {
    /// Everything `/metrics` shows, read on the engine thread: counters, KPI values and
    /// targets, alert states, queue depths, producers' last batch.
    func metricsView() -> DaemonMetrics.View {
        let shared = state
        let now = shared.now()
        let engine = shared.engine
        let alerts = shared.alerts
        let zap = zap
        let uptimeSeconds = turn.vitals.uptimeSeconds
        let ingestRate = turn.vitals.ingestRate
        let configurationLoadedAt = shared.configurationLoadedAt
        let s = shared.statistics
        let counters = engine.counters
        var view = DaemonMetrics.View(counters: [], gauges: [])
        func counter(_ name: String, _ help: String, _ value: UInt64, _ labels: [(String, String)] = []) {
            view.counters.append((name, labels, help, Int64(clamping: value)))
        }
        func gauge(_ name: String, _ help: String, _ value: Double, _ labels: [(String, String)] = []) {
            view.gauges.append((name, labels, help, value))
        }
        gauge("vigie_build_info", "Version of the running vigied", 1, [("version", VigieVersion.string)])
        gauge("vigie_uptime_seconds", "Seconds since vigied started", uptimeSeconds)
        gauge(
            "vigie_config_loaded_timestamp_seconds",
            "When the running configuration was read (start or last reload)",
            Double(configurationLoadedAt) / 1e9
        )
        counter("vigie_config_reloads_total", "Configuration reloads by outcome", s.reloads, [("outcome", "applied")])
        counter(
            "vigie_config_reloads_total",
            "Configuration reloads by outcome",
            s.reloadsRefused,
            [("outcome", "refused")]
        )
        gauge("vigie_ingest_rate", "Samples accepted per second over the last heartbeat", ingestRate)
        counter("vigie_samples_accepted_total", "Samples accepted (acknowledged ingest and push)", s.samplesAccepted)
        let rejected = "Samples not applied, by reason"
        counter(
            "vigie_samples_rejected_total",
            rejected,
            s.samplesRejected - min(s.samplesRejected, s.samplesOutsidePrefixes),
            [("reason", "invalid")]
        )
        counter("vigie_samples_rejected_total", rejected, s.samplesOutsidePrefixes, [("reason", "outside_prefixes")])
        let limit = "Lines, messages or producers refused by a configured limit (SECURITY.md)"
        let hits = s.limitHits
        for (name, value) in [
            ("line_length", hits.lineLength), ("tags", hits.tags), ("fields", hits.fields),
            ("name_length", hits.nameLength), ("lines_per_batch", hits.linesPerBatch),
            ("frames_per_message", hits.framesPerMessage),
            ("message_bytes", hits.messageBytes), ("producers", hits.producers),
            ("producers_per_key", hits.producersPerKey), ("in_flight", hits.inFlight),
            ("series_per_kpi", UInt64(counters.seriesOverflow)),
            ("series_total", UInt64(engine.totalSeriesOverflow)),
        ] {
            counter("vigie_limit_hits_total", limit, value, [("limit", name)])
        }
        if let zap {
            let handshakes = "CURVE handshakes by ZAP verdict"
            counter(
                "vigie_auth_handshakes_total",
                handshakes,
                zap.admitted.load(ordering: .relaxed),
                [("result", "admitted")]
            )
            counter(
                "vigie_auth_handshakes_total",
                handshakes,
                zap.denied.load(ordering: .relaxed),
                [("result", "denied")]
            )
        }
        counter("vigie_samples_rejected_total", rejected, UInt64(counters.late), [("reason", "late")])
        counter("vigie_samples_rejected_total", rejected, UInt64(counters.seriesOverflow), [("reason", "series_limit")])
        counter("vigie_batches_acked_total", "Batches acknowledged (duplicates included)", s.batchesAcked)
        let refused = "Batches or messages not applied, by reason"
        counter("vigie_batches_refused_total", refused, s.batchesDuplicate, [("reason", "duplicate")])
        counter("vigie_batches_refused_total", refused, s.batchesRefusedStorage, [("reason", "storage")])
        counter("vigie_batches_refused_total", refused, s.framesInvalid, [("reason", "invalid_frames")])
        counter("vigie_push_messages_total", "Fire-and-forget messages received", s.pushMessages)
        counter("vigie_replies_dropped_total", "ACKs and control replies that could not be sent", s.repliesDropped)
        counter("vigie_feed_messages_total", "Messages published on the feed", endpoints.feed.published)
        counter("vigie_control_requests_total", "Control requests served", s.controlRequests)
        counter("vigie_wal_write_errors_total", "Write-ahead log writes that failed", s.walWriteErrors)
        gauge(
            "vigie_replies_held",
            "ACKs and replies waiting for the write-ahead log to be durable",
            Double(replies.count)
        )
        gauge("vigie_series", "KPI series held in memory", Double(counters.series))

        var kpiByName: [String: KPIDefinition] = [:]
        for kpi in shared.configuration.kpis { kpiByName[kpi.name] = kpi }
        for kpi in shared.configuration.kpis {
            if let target = kpi.target {
                gauge(
                    "vigie_kpi_target",
                    "Target of a KPI (its direction says which side is good)",
                    target,
                    [
                        ("kpi", kpi.name), ("direction", "\(kpi.direction)"),
                    ]
                )
            }
        }
        let reserved: Set<String> = ["kpi", "rule", "state", "severity"]
        func groupLabels(_ group: [TagPair]) -> [(String, String)] {
            group.map { (DaemonMetrics.labelName($0.key, reserved: reserved), $0.value) }
        }
        for value in engine.snapshot(now: now) {
            guard let number = value.value else { continue }
            gauge(
                "vigie_kpi_value",
                "Current value of a KPI series",
                number,
                [("kpi", value.kpi)] + groupLabels(value.group)
            )
        }
        var firing = 0
        var pending = 0
        for alert in alerts.evaluator.active(now: now) {
            let state = AlertState(alert.phase)
            if state == .firing { firing += 1 } else if state == .pending { pending += 1 }
            gauge(
                "vigie_alert_active",
                "1 for each pending or firing alert",
                1,
                [("rule", alert.rule), ("kpi", alert.kpi), ("state", state.rawValue), ("severity", alert.severity)]
                    + groupLabels(alert.group)
            )
        }
        gauge("vigie_alerts", "Alerts by state", Double(firing), [("state", "firing")])
        gauge("vigie_alerts", "Alerts by state", Double(pending), [("state", "pending")])
        for notifier in alerts.notifiers.notifiers {
            let c = notifier.counters
            let name = notifier.configuration.name
            gauge(
                "vigie_notifier_queue_depth",
                "Transitions waiting for a notifier",
                Double(notifier.queue.depth),
                [("notifier", name)]
            )
            for (outcome, value) in [
                ("sent", c.sent.load(ordering: .relaxed)), ("failed", c.failed.load(ordering: .relaxed)),
                ("dropped", c.dropped.load(ordering: .relaxed)), ("timeout", c.timeouts.load(ordering: .relaxed)),
            ] {
                counter(
                    "vigie_notifications_total",
                    "Notifications by notifier and outcome",
                    value,
                    [
                        ("notifier", name), ("outcome", outcome),
                    ]
                )
            }
        }
        for producer in shared.producers.recent(limit: .max) {
            gauge(
                "vigie_producer_last_seen_timestamp_seconds",
                "Time of each producer's last acknowledged batch (since start or reload)",
                Double(producer.lastSeen) / 1e9,
                [("producer", String(decoding: producer.id, as: UTF8.self))]
            )
        }
        return view
    }
}
