import VigieConfig
import VigieCore

/// The `stats` and `config` replies: counters, the log and checkpoints, endpoints,
/// limits, security, producers, notifiers; the running configuration's KPIs.
extension ControlHandler {
    /// `"limits"`: each limit's configured value and how often it refused something
    /// (`hits` is null where libzmq enforces it without telling: message size, feed queue).
    func writeLimits() {
        let configuration = state.configuration
        let ingest = configuration.ingest
        let hits = state.statistics.limitHits
        let limits: [(String, Int, UInt64?)] = [
            ("line_length", ingest.maxLineLength, hits.lineLength),
            ("tags", ingest.maxTags, hits.tags),
            ("fields", ingest.maxFields, hits.fields),
            ("name_length", ingest.maxNameLength, hits.nameLength),
            ("lines_per_batch", ingest.maxLinesPerBatch, hits.linesPerBatch),
            ("frames_per_message", MessageReceiver.maxFrames, hits.framesPerMessage),
            ("message_bytes", Int(ingest.maxMessageSize), hits.messageBytes),
            ("producers", ingest.maxProducers, hits.producers),
            ("producers_per_key", ingest.maxProducersPerKey, hits.producersPerKey),
            ("in_flight", ingest.maxInFlight, hits.inFlight),
            ("series_per_kpi", ingest.maxSeriesPerKPI, UInt64(state.engine.counters.seriesOverflow)),
            ("series_total", ingest.maxSeriesTotal, UInt64(state.engine.totalSeriesOverflow)),
            ("message_size", Int(ingest.maxMessageSize), nil),
            ("feed_hwm", configuration.endpoints.feedHighWaterMark, nil),
            ("control_request", configuration.endpoints.controlMaxRequest, nil),
        ]
        writer.key("limits")
        writer.beginObject()
        for (name, value, count) in limits {
            writer.key(name)
            writer.beginObject()
            writer.key("max")
            writer.integer(value)
            writer.key("hits")
            if let count { writer.integer(count) } else { writer.null() }
            writer.endObject()
        }
        writer.endObject()
    }

    /// The parts of `stats` that `vigie status` shows as the daemon's health: endpoints,
    /// alert counts, and the producers most recently seen (at most 20).
    func writeHealth() {
        let bound = endpoints.bound
        writer.key("endpoints")
        writer.beginObject()
        for (name, list) in [
            ("ingest", bound.ingest), ("push", bound.push), ("feed", bound.feed), ("control", bound.control),
        ] {
            writer.key(name)
            writer.beginArray()
            for endpoint in list { writer.string(endpoint) }
            writer.endArray()
        }
        writer.endObject()
        let counts = state.alerts.stateCounts(now: now())
        writer.key("alerts_firing")
        writer.integer(counts.firing)
        writer.key("alerts_pending")
        writer.integer(counts.pending)
        writer.key("alert_latency")
        alerting.latency.write(into: &writer)
        writeLimits()
        let security = state.configuration.security
        writer.key("security")
        writer.beginObject()
        writer.key("curve")
        writer.bool(security.curve)
        writer.key("authorized_keys")
        writer.integer(security.authorized.keys.count)
        writer.key("handshakes_admitted")
        writer.integer(zap?.admitted.load(ordering: .relaxed) ?? 0)
        writer.key("handshakes_denied")
        writer.integer(zap?.denied.load(ordering: .relaxed) ?? 0)
        writer.key("samples_outside_prefixes")
        writer.integer(state.statistics.samplesOutsidePrefixes)
        writer.key("revoked_key_messages")
        writer.integer(state.statistics.revokedKeyMessages)
        writer.endObject()
        writer.key("producers_total")
        writer.integer(state.producers.count)
        writer.key("producers")
        writer.beginArray()
        for producer in state.producers.recent(limit: 20) {
            writer.beginObject()
            writer.key("id")
            writer.string(String(decoding: producer.id, as: UTF8.self))
            writer.key("last_seen")
            writer.timestamp(nanoseconds: producer.lastSeen)
            writer.key("sequence")
            writer.integer(producer.sequence)
            writer.endObject()
        }
        writer.endArray()
    }

    func stats() {
        let s = state.statistics
        let counters = state.engine.counters
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("epoch")
        writer.string(endpoints.feed.epoch)
        writer.key("version")
        writer.string(VigieVersion.string)
        writer.key("uptime_s")
        writer.number((turn.vitals.uptimeSeconds * 1000).rounded() / 1000)
        writer.key("config_file")
        writer.string(state.configuration.sourcePath ?? "")
        writer.key("config_loaded_at")
        writer.timestamp(nanoseconds: state.configurationLoadedAt)
        writer.key("ingest_rate")
        writer.number((turn.vitals.ingestRate * 10).rounded() / 10)
        let fields: [(String, UInt64)] = [
            ("samples_accepted", s.samplesAccepted),
            ("samples_rejected", s.samplesRejected),
            ("samples_late", UInt64(counters.late)),
            ("batches_acked", s.batchesAcked),
            ("batches_duplicate", s.batchesDuplicate),
            ("frames_invalid", s.framesInvalid),
            ("push_messages", s.pushMessages),
            ("replies_dropped", s.repliesDropped),
            ("feed_messages", s.feedMessages),
            ("feed_seq", endpoints.feed.sequence),
            ("control_requests", s.controlRequests),
            ("control_errors", s.controlErrors),
            ("batches_refused_storage", s.batchesRefusedStorage),
            ("wal_write_errors", s.walWriteErrors),
            ("samples_replayed", s.samplesReplayed),
            ("records_replayed", s.recordsReplayed),
            ("records_skipped", s.recordsSkipped),
            ("producers_evicted", s.producersEvicted),
            ("series_overflow", UInt64(counters.seriesOverflow)),
            ("series", UInt64(counters.series)),
            ("kpis", UInt64(state.engine.kpis.count)),
            ("reloads", s.reloads),
            ("reloads_refused", s.reloadsRefused),
        ]
        for (name, value) in fields {
            writer.key(name)
            writer.integer(value)
        }
        keeper.writeStats(into: &writer, wal: turn.wal, repliesWaiting: replies.count)
        writeHealth()
        writer.key("notifications_held")
        writer.integer(state.alerts.notificationsHeld)
        writer.key("notifiers")
        writer.beginObject()
        for notifier in state.alerts.notifiers.notifiers {
            let c = notifier.counters
            writer.key(notifier.configuration.name)
            writer.beginObject()
            for (name, value) in [
                ("sent", c.sent.load(ordering: .relaxed)), ("failed", c.failed.load(ordering: .relaxed)),
                ("dropped", c.dropped.load(ordering: .relaxed)), ("retries", c.retries.load(ordering: .relaxed)),
                ("timeouts", c.timeouts.load(ordering: .relaxed)),
            ] {
                writer.key(name)
                writer.integer(value)
            }
            writer.endObject()
        }
        writer.endObject()
        writer.endObject()
    }

    func config() {
        let c = state.configuration
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("path")
        if let path = c.sourcePath { writer.string(path) } else { writer.null() }
        writer.key("timezone")
        writer.string(c.daemon.timezone)
        writer.key("publish_interval")
        writer.string(DurationFormat.format(nanoseconds: c.daemon.publishInterval))
        writer.key("endpoints")
        writer.beginObject()
        for (name, list) in [
            ("ingest", endpoints.bound.ingest), ("push", endpoints.bound.push), ("feed", endpoints.bound.feed),
            ("control", endpoints.bound.control),
        ] {
            writer.key(name)
            writer.beginArray()
            for e in list { writer.string(e) }
            writer.endArray()
        }
        writer.endObject()
        writer.key("kpis")
        writer.beginArray()
        for kpi in c.kpis {
            writer.beginObject()
            writer.key("name")
            writer.string(kpi.name)
            writer.key("title")
            writer.string(kpi.title)
            writer.key("metric")
            writer.string(kpi.selector.metric)
            writer.key("aggregate")
            writer.string(kpi.aggregate.name)
            writer.key("window")
            writer.string(kpi.window.label)
            writer.key("group_by")
            writer.beginArray()
            for tag in kpi.groupBy { writer.string(tag) }
            writer.endArray()
            writer.key("unit")
            if let unit = kpi.unit { writer.string(unit) } else { writer.null() }
            writer.key("target")
            writer.number(kpi.target)
            writer.key("direction")
            writer.string(kpi.direction.rawValue)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }
}
