import Foundation
import VigieConfig
import VigieCore
import ZeroMQ

/// Serves the control socket: one JSON request frame in, one JSON reply frame out.
///
/// Runs on the engine thread, so a `snapshot` is consistent with the feed `seq` it
/// reports (Clone pattern). Requests are small and rare; this path may allocate.
final class ControlHandler {
    private unowned let loop: EngineLoop
    private var writer = JSONWriter(capacity: 16_384)

    /// Operations this version serves.
    static let operations = [
        "snapshot", "stats", "config", "alerts", "ack", "silence", "unsilence", "history", "events", "reload",
        "metrics", "health",
    ]
    /// Operations of the protocol that later versions serve.
    static let plannedOperations: [String] = []
    /// Operations the history thread answers.
    static let historyOperations: Set<String> = ["history", "events"]

    /// Operations that change state: logged to the write-ahead log before they are
    /// carried out, their reply held until the log is durable.
    static let mutatingOperations: Set<String> = ["ack", "silence", "unsilence"]
    /// Operations that need operator access: the ipc control socket, a CURVE key with
    /// `role = "operator"` in `[security.keys]`, or plain TCP with `tcp_control =
    /// "operator"` (SECURITY.md).
    static let operatorOperations: Set<String> = mutatingOperations.union(["reload", "freeze"])

    /// What the socket a request came in on allows.
    enum Access: Equatable {
        /// Every op (the operator socket, ipc endpoints, `tcp_control = "operator"`).
        case all
        /// Reading ops only (plain TCP by default, the internal `/metrics` socket).
        case readOnly(endpoint: String)
        /// A CURVE server socket: the authenticated key's grant decides.
        case byKey
    }

    /// Why the request being served may not change anything, when it may not: the
    /// refusal names the socket and the way to an operator socket.
    private var readOnlyReason: String?

    /// While replaying the log: the recorded time, and no logging again.
    private var replayTime: Int64?
    /// Position a mutating op's reply waits for.
    private var heldPosition: UInt64?
    /// A reply that is not JSON (`metrics`), sent instead of the writer's bytes.
    private var rawReply: [UInt8]?
    /// The error of the last refused request.
    private var refusal: String?

    init(loop: EngineLoop) {
        self.loop = loop
    }

    /// The time operations see: the record's during replay.
    private func now() -> Int64 { replayTime ?? loop.now() }

    /// Carries out a logged operator action again at its recorded time (recovery); the
    /// reply is discarded. Returns why the action could not be carried out (a record
    /// written by an older vigied that checked less), nil when it was.
    func replay(request bytes: UnsafeRawBufferPointer, at time: Int64) -> String? {
        replayTime = time
        readOnlyReason = nil  // it was authorized when it was first carried out
        defer { replayTime = nil }
        refusal = nil
        respond(to: Array(bytes))
        return refusal
    }

    func handle(socket: Socket, frames: [Message], frameCount: Int, access: Access) {
        let n = abs(frameCount)
        guard n >= 2 else { return }  // a routing id alone: nothing to answer
        let bodyIndex = n - 1
        let envelope = 0..<bodyIndex
        readOnlyReason = nil
        heldPosition = nil
        rawReply = nil
        let operatorSocket = loop.configurationForControl.operatorControlEndpoint
        switch access {
        case .all: break
        case .readOnly(let endpoint):
            readOnlyReason =
                "\(endpoint) is read-only; send it on the operator socket \(operatorSocket) "
                + "(vigie uses it when it can open it: as root or a member of the daemon's group), "
                + "or allow operator ops on plain TCP with [security] tcp_control = \"operator\""
        case .byKey:
            let name = frames[bodyIndex].metadata("User-Id") ?? ""
            guard let key = loop.configurationForControl.security.authorized.keys.first(where: { $0.name == name })
            else {
                // A reload removed the key; the connection it made before stays open.
                loop.statistics.revokedKeyMessages += 1
                fail("key \(JSONText.quoted(name)) is no longer authorized")
                return sendReply(socket, frames: frames, envelope: envelope)
            }
            if !key.isOperator {
                readOnlyReason =
                    "key \(JSONText.quoted(name)) is an agent's; the daemon's administrator grants operator ops "
                    + "in [security.keys] (\(name) = { role = \"operator\" }), or use the operator socket "
                    + operatorSocket
            }
        }
        loop.statistics.controlRequests += 1
        let request = frames[bodyIndex].bytes
        if let op = Self.historyOp(request) {
            guard let problem = loop.forwardToHistory(socket, envelope: envelope, frames: frames, request: request)
            else { return }
            fail("\(op): \(problem)")
        } else {
            respond(to: request)
        }
        if let position = heldPosition {
            loop.holdControlReply(socket, envelope: envelope, frames: frames, body: writer.bytes, position: position)
            return
        }
        sendReply(socket, frames: frames, envelope: envelope)
    }

    /// Sends the reply built (the writer's bytes, or `rawReply`) after `envelope`.
    private func sendReply(_ socket: Socket, frames: [Message], envelope: Range<Int>) {
        do {
            for f in envelope {
                let sent = try frames[f].withUnsafeBytes { try socket.send($0, more: true, dontWait: true) }
                if !sent { return }
            }
            try (rawReply ?? writer.bytes).withUnsafeBytes { _ = try socket.send($0, more: false, dontWait: true) }
        } catch {
            loop.statistics.repliesDropped += 1
        }
    }

    /// The op of a `history`/`events` request (a cheap look before full parsing).
    private static func historyOp(_ request: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(request)) as? [String: Any],
            let op = object["op"] as? String, historyOperations.contains(op)
        else { return nil }
        return op
    }

    private func respond(to request: [UInt8]) {
        writer.reset()
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(request)) as? [String: Any] else {
                return fail("request must be a JSON object like {\"op\":\"snapshot\"}")
            }
            object = parsed
        } catch {
            return fail("request is not valid JSON: send one object like {\"op\":\"snapshot\"}")
        }
        guard let op = object["op"] as? String else {
            return fail("missing \"op\": one of \(Self.operations.joined(separator: ", "))")
        }
        if let readOnlyReason, Self.operatorOperations.contains(op) {
            return fail("op \"\(op)\" needs operator access: \(readOnlyReason)")
        }
        if Self.mutatingOperations.contains(op) {
            // Checked in full first: a refused request is neither logged nor carried out,
            // so replay never meets one that cannot be applied.
            let action: OperatorRequest
            switch operatorRequest(op, object) {
            case .success(let checked): action = checked
            case .failure(let refusal): return fail(refusal.message)
            }
            if replayTime == nil {
                // Logged before it is carried out: replay after a crash does it again.
                do {
                    heldPosition = try request.withUnsafeBytes { try loop.logOperatorAction($0, now: now()) }
                } catch {
                    return fail("could not log the action to the write-ahead log (\(error)); nothing was changed")
                }
            }
            return carryOut(action)
        }
        switch op {
        case "snapshot": snapshot(prefix: object["prefix"] as? String)
        case "stats": stats()
        case "config": config()
        case "alerts": alertsReply()
        case "reload": reload()
        case "freeze" where Self.freezeEnabled: freeze(object["seconds"])
        case "metrics": metrics(handOver: object["hand_over"] as? Bool == true)
        case "health": health()
        default:
            if Self.plannedOperations.contains(op) {
                fail("op \"\(op)\" is not available in this version of vigied")
            } else {
                fail("unknown op \"\(op)\": expected one of \(Self.operations.joined(separator: ", "))")
            }
        }
    }

    /// `reload`: re-read the configuration file; the reply says what changed, or lists
    /// every error of a file that was refused (the running configuration stays).
    private func reload() {
        let outcome = loop.reloadConfiguration()
        writer.reset()
        writer.beginObject()
        writer.key("ok")
        writer.bool(outcome.ok)
        if !outcome.ok {
            loop.statistics.controlErrors += 1
            writer.key("error")
            writer.string("configuration refused, the running one is kept: " + (outcome.errors.first ?? ""))
            writer.key("errors")
            writer.beginArray()
            for error in outcome.errors { writer.string(error) }
            writer.endArray()
            writer.endObject()
            return
        }
        writer.key("file")
        writer.string(loop.configurationForControl.sourcePath ?? "")
        writer.key("kpis")
        writer.beginObject()
        for (name, list) in [
            ("kept", outcome.kept), ("restarted", outcome.restarted), ("added", outcome.added),
            ("removed", outcome.removed),
        ] {
            writer.key(name)
            writer.beginArray()
            for kpi in list { writer.string(kpi) }
            writer.endArray()
        }
        writer.endObject()
        writer.key("rules")
        writer.integer(outcome.rules)
        writer.key("notifiers_replaced")
        writer.bool(outcome.notifiersReplaced)
        writer.key("endpoints")
        writer.beginArray()
        for change in outcome.endpointChanges { writer.string(change) }
        writer.endArray()
        writer.key("needs_restart")
        writer.beginArray()
        for section in outcome.needsRestart { writer.string(section) }
        writer.endArray()
        writer.endObject()
    }

    /// `"limits"`: each limit's configured value and how often it refused something
    /// (`hits` is null where libzmq enforces it without telling: message size, feed queue).
    private func writeLimits() {
        let configuration = loop.configurationForControl
        let ingest = configuration.ingest
        let hits = loop.statistics.limitHits
        let limits: [(String, Int, UInt64?)] = [
            ("line_length", ingest.maxLineLength, hits.lineLength),
            ("tags", ingest.maxTags, hits.tags),
            ("fields", ingest.maxFields, hits.fields),
            ("name_length", ingest.maxNameLength, hits.nameLength),
            ("lines_per_batch", ingest.maxLinesPerBatch, hits.linesPerBatch),
            ("frames_per_message", EngineLoop.maxFrames, hits.framesPerMessage),
            ("message_bytes", Int(ingest.maxMessageSize), hits.messageBytes),
            ("producers", ingest.maxProducers, hits.producers),
            ("producers_per_key", ingest.maxProducersPerKey, hits.producersPerKey),
            ("in_flight", ingest.maxInFlight, hits.inFlight),
            ("series_per_kpi", ingest.maxSeriesPerKPI, UInt64(loop.engine.counters.seriesOverflow)),
            ("series_total", ingest.maxSeriesTotal, UInt64(loop.engine.totalSeriesOverflow)),
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
    private func writeHealth() {
        let bound = loop.bound
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
        let counts = loop.alerts.stateCounts(now: now())
        writer.key("alerts_firing")
        writer.integer(counts.firing)
        writer.key("alerts_pending")
        writer.integer(counts.pending)
        writer.key("alert_latency")
        loop.alertLatency.write(into: &writer)
        writeLimits()
        let security = loop.configurationForControl.security
        writer.key("security")
        writer.beginObject()
        writer.key("curve")
        writer.bool(security.curve)
        writer.key("authorized_keys")
        writer.integer(security.authorized.keys.count)
        writer.key("handshakes_admitted")
        writer.integer(loop.zap?.admitted.load(ordering: .relaxed) ?? 0)
        writer.key("handshakes_denied")
        writer.integer(loop.zap?.denied.load(ordering: .relaxed) ?? 0)
        writer.key("samples_outside_prefixes")
        writer.integer(loop.statistics.samplesOutsidePrefixes)
        writer.key("revoked_key_messages")
        writer.integer(loop.statistics.revokedKeyMessages)
        writer.endObject()
        let table = loop.producerTable
        let seen = loop.producerLastSeen
        let recent = table.allKeys.indices.filter { $0 < seen.count && seen[$0] > 0 }
            .sorted { seen[$0] > seen[$1] }
            .prefix(20)
        writer.key("producers_total")
        writer.integer(table.count)
        writer.key("producers")
        writer.beginArray()
        for index in recent {
            writer.beginObject()
            writer.key("id")
            writer.string(String(decoding: table.allKeys[index], as: UTF8.self))
            writer.key("last_seen")
            writer.timestamp(nanoseconds: seen[index])
            writer.key("sequence")
            writer.integer(table[index].highest)
            writer.endObject()
        }
        writer.endArray()
    }

    /// `freeze` blocks the engine thread (the watchdog test's fault): served only when
    /// vigied runs with `VIGIE_TEST_FREEZE=1` in its environment, never otherwise.
    static let freezeEnabled = ProcessInfo.processInfo.environment["VIGIE_TEST_FREEZE"] == "1"

    private func freeze(_ value: Any?) {
        let seconds = min(max((value as? Double) ?? 1, 0), 10)
        usleep(UInt32(seconds * 1_000_000))
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.endObject()
    }

    /// `metrics`: the Prometheus text exposition (not JSON). With `"hand_over":true`
    /// (the `/metrics` listener, in this process) only the view is read here and the
    /// reply is `{"ok":true}`: the listener's thread renders it, so a scrape of thousands
    /// of series costs the engine thread only the reading.
    private func metrics(handOver: Bool) {
        guard let metrics = loop.metrics else {
            return fail("metrics are off: set [http] listen in the configuration")
        }
        let view = loop.metricsView()
        guard !handOver else {
            metrics.handOver(view)
            writer.beginObject()
            writer.key("ok")
            writer.bool(true)
            writer.endObject()
            return
        }
        writer.reset()
        rawReply = metrics.render(view)
    }

    /// `health`: `{"ok":true,"healthy":…,"problems":[…]}`, for `/healthz`.
    private func health() {
        let problems = loop.healthProblems
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("healthy")
        writer.bool(problems.isEmpty)
        writer.key("problems")
        writer.beginArray()
        for problem in problems { writer.string(problem) }
        writer.endArray()
        writer.endObject()
    }

    private func fail(_ message: String) {
        loop.statistics.controlErrors += 1
        refusal = message
        writer.reset()
        writer.beginObject()
        writer.key("ok")
        writer.bool(false)
        writer.key("error")
        writer.string(message)
        writer.endObject()
    }

    private func snapshot(prefix: String?) {
        let now = loop.now()
        loop.engine.advance(to: now)
        let values = loop.engine.snapshot(now: now)
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("seq")
        writer.integer(loop.feedSequence)
        writer.key("epoch")
        writer.string(loop.epoch)
        writer.key("ts")
        writer.timestamp(nanoseconds: now)
        writer.key("kpis")
        writer.beginArray()
        for value in values where prefix.map({ value.kpi.hasPrefix($0) }) ?? true {
            writer.beginObject()
            FeedEncoding.writeKPIMembers(loop.alerts.withAlertStatus(value), into: &writer)
            writer.endObject()
        }
        writer.endArray()
        writer.key("alerts")
        writeAlerts(now: now)
        writer.endObject()
    }

    private func writeAlerts(now: Int64) {
        writer.beginArray()
        for message in loop.alerts.activeMessages(now: now) {
            writer.beginObject()
            message.writeMembers(into: &writer)
            writer.endObject()
        }
        writer.endArray()
    }

    private func alertsReply() {
        let now = loop.now()
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("alerts")
        writeAlerts(now: now)
        writer.key("silences")
        writer.beginArray()
        for s in loop.alerts.store.silences(now: now) {
            writeSilence(s)
        }
        writer.endArray()
        writer.endObject()
    }

    private func writeSilence(_ s: AlertSilence) {
        writer.beginObject()
        writer.key("id")
        writer.string(s.id)
        writer.key("matchers")
        writer.beginArray()
        for m in s.matchers { writer.string(m.description) }
        writer.endArray()
        writer.key("starts_at")
        writer.timestamp(nanoseconds: s.startsAt)
        writer.key("ends_at")
        writer.timestamp(nanoseconds: s.endsAt)
        writer.key("created_by")
        writer.string(s.createdBy)
        writer.key("comment")
        writer.string(s.comment)
        writer.endObject()
    }

    private func carryOut(_ action: OperatorRequest) {
        switch action {
        case .ack(let rule, let group, let by, let comment):
            let count = loop.alerts.acknowledge(
                rule: rule,
                group: group,
                by: by,
                comment: comment,
                now: now(),
                feed: loop.feedPublisher
            )
            succeed("acknowledged") { writer.integer(count) }
        case .silence(let matchers, let duration, let by, let comment):
            let feed = loop.feedPublisher
            let s = loop.alerts.silence(
                matchers: matchers,
                duration: duration,
                by: by,
                comment: comment,
                now: now(),
                feed: feed
            )
            succeed("silence") { writeSilence(s) }
        case .unsilence(let id):
            _ = loop.alerts.unsilence(id: id, now: now(), feed: loop.feedPublisher)
            succeed("id") { writer.string(id) }
        }
    }

    /// Writes `{"ok":true,"KEY":…}`, the value written by `value`.
    private func succeed(_ key: String, _ value: () -> Void) {
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key(key)
        value()
        writer.endObject()
    }

    /// `op`'s request checked against its shape and the current state (an ack needs an
    /// active alert to acknowledge, an unsilence a silence to remove), nothing changed.
    private func operatorRequest(
        _ op: String,
        _ object: [String: Any]
    ) -> Result<OperatorRequest, OperatorRequest.Refusal> {
        let result = OperatorRequest.parse(op: op, object, now: now())
        guard case .success(let request) = result else { return result }
        switch request {
        case .ack(let rule, let group, _, _):
            guard loop.alerts.countActive(rule: rule, group: group, now: now()) > 0 else {
                return .failure(.init("no active alert of rule \"\(rule)\" matches that group"))
            }
        case .unsilence(let id):
            guard loop.alerts.store.silences(now: now()).contains(where: { $0.id == id }) else {
                return .failure(.init("no silence with id \"\(id)\""))
            }
        case .silence:
            break
        }
        return result
    }

    private func stats() {
        let s = loop.statistics
        let counters = loop.engine.counters
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("epoch")
        writer.string(loop.epoch)
        writer.key("version")
        writer.string(VigieVersion.string)
        writer.key("uptime_s")
        writer.number((loop.uptimeSeconds * 1000).rounded() / 1000)
        writer.key("config_file")
        writer.string(loop.configurationForControl.sourcePath ?? "")
        writer.key("config_loaded_at")
        writer.timestamp(nanoseconds: loop.configurationLoadedAt)
        writer.key("ingest_rate")
        writer.number((loop.ingestRate * 10).rounded() / 10)
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
            ("feed_seq", loop.feedSequence),
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
            ("kpis", UInt64(loop.engine.kpis.count)),
            ("reloads", s.reloads),
            ("reloads_refused", s.reloadsRefused),
        ]
        for (name, value) in fields {
            writer.key(name)
            writer.integer(value)
        }
        loop.writeStorageStats(into: &writer)
        writeHealth()
        writer.key("notifications_held")
        writer.integer(loop.alerts.notificationsHeld)
        writer.key("notifiers")
        writer.beginObject()
        for notifier in loop.alerts.notifiers.notifiers {
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

    private func config() {
        let c = loop.configurationForControl
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
            ("ingest", loop.bound.ingest), ("push", loop.bound.push), ("feed", loop.bound.feed),
            ("control", loop.bound.control),
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
