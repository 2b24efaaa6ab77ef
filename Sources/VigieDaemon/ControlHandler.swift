import Foundation
import VigieConfig
import VigieCore
import VigieStore

/// Answers control requests: one JSON request in, what to do with it out (``Action``:
/// a reply to send now, one to hold until the log is durable, a request for the
/// history thread, a reload). Decodes with ``ControlRequest``, checks what the socket
/// allows, carries out operator actions (logged first) and renders the replies.
///
/// Runs on the engine thread, so a `snapshot` is consistent with the feed `seq` it
/// reports (Clone pattern). Requests are small and rare; this path may allocate.
final class ControlHandler {
    /// What the caller (``ControlServer``) does with a request.
    enum Action: Equatable {
        /// Send this reply now.
        case reply([UInt8])
        /// Send this reply once the log is durable up to `position` (a logged action).
        case replyWhenDurable([UInt8], position: UInt64)
        /// A checked `history`/`events` request: the history thread answers it.
        case forwardToHistory(ControlRequest)
        /// Reload the configuration, then send ``reloadReply(_:)``.
        case reload
    }

    /// What changes while the daemon runs, given with each request.
    struct Turn {
        /// The log (nil while recovering: operator actions are then refused).
        var wal: WALWriter?
        var vitals: EngineVitals
    }

    let state: EngineState
    let endpoints: EndpointSet
    let keeper: StateKeeper
    let replies: DurableReplies
    let alerting: AlertStage
    let zap: ZAPHandler?
    let metrics: DaemonMetrics?
    var writer = JSONWriter(capacity: 16_384)
    /// The request being served's turn.
    private(set) var turn: Turn

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
    /// The request being served is a `reload` the caller carries out.
    private var reloadAsked = false

    init(
        state: EngineState,
        endpoints: EndpointSet,
        keeper: StateKeeper,
        replies: DurableReplies,
        alerting: AlertStage,
        zap: ZAPHandler?,
        metrics: DaemonMetrics?,
        vitals: EngineVitals
    ) {
        self.state = state
        self.endpoints = endpoints
        self.keeper = keeper
        self.replies = replies
        self.alerting = alerting
        self.zap = zap
        self.metrics = metrics
        self.turn = Turn(wal: nil, vitals: vitals)
    }

    /// The time operations see: the record's during replay.
    func now() -> Int64 { replayTime ?? state.now() }

    /// Carries out a logged operator action again at its recorded time (recovery); the
    /// reply is discarded. Returns why the action could not be carried out (a record
    /// written by an older vigied that checked less), nil when it was.
    func replay(request bytes: UnsafeRawBufferPointer, at time: Int64) -> String? {
        replayTime = time
        readOnlyReason = nil  // it was authorized when it was first carried out
        defer { replayTime = nil }
        refusal = nil
        let request = Array(bytes)
        respond(to: request, parsed: ControlRequest.parse(request))
        return refusal
    }

    /// Decides what to do with `request`, which came in on a socket allowing `access`
    /// (`userID`: the ZAP User-Id of a CURVE peer).
    func handle(request: [UInt8], userID: String?, access: Access, turn: Turn) -> Action {
        self.turn = turn
        readOnlyReason = nil
        heldPosition = nil
        rawReply = nil
        reloadAsked = false
        let operatorSocket = state.configuration.operatorControlEndpoint
        switch access {
        case .all: break
        case .readOnly(let endpoint):
            readOnlyReason =
                "\(endpoint) is read-only; send it on the operator socket \(operatorSocket) "
                + "(vigie uses it when it can open it: as root or a member of the daemon's group), "
                + "or allow operator ops on plain TCP with [security] tcp_control = \"operator\""
        case .byKey:
            let name = userID ?? ""
            guard let key = state.configuration.security.authorized.keys.first(where: { $0.name == name }) else {
                // A reload removed the key; the connection it made before stays open.
                state.statistics.revokedKeyMessages += 1
                return .reply(failure("key \(JSONText.quoted(name)) is no longer authorized"))
            }
            if !key.isOperator {
                readOnlyReason =
                    "key \(JSONText.quoted(name)) is an agent's; the daemon's administrator grants operator ops "
                    + "in [security.keys] (\(name) = { role = \"operator\" }), or use the operator socket "
                    + operatorSocket
            }
        }
        state.statistics.controlRequests += 1
        let parse = ControlRequest.parse(request)
        if case .success(let parsed) = parse, ControlRequest.historyOperations.contains(parsed.op) {
            // Checked here, answered by the history thread.
            switch ControlRequest.decode(op: parsed.op, parsed.body, now: now()) {
            case .success(let decoded): return .forwardToHistory(decoded)
            case .failure(let refusal): return .reply(failure(refusal.message))
            }
        }
        respond(to: request, parsed: parse)
        if reloadAsked { return .reload }
        if let position = heldPosition { return .replyWhenDurable(writer.bytes, position: position) }
        return .reply(rawReply ?? writer.bytes)
    }

    /// The reply `{"ok":false,"error":message}`, counted as a control error.
    func failure(_ message: String) -> [UInt8] {
        fail(message)
        return writer.bytes
    }

    /// Appends an operator action (the control request as received) to the log and
    /// flushes it; returns the position its reply must wait for.
    private func logOperatorAction(_ request: UnsafeRawBufferPointer, now: Int64) throws -> UInt64 {
        guard let wal = turn.wal else { throw DaemonError(message: "vigied is not ready (recovering)") }
        return try wal.appendRecord(kind: .operatorAction, at: now) { try $0.appendFrame(request) }
    }

    /// Answers `request` (its JSON and op already read: `parsed`) into the writer.
    private func respond(
        to request: [UInt8],
        parsed: Result<(op: String, body: [String: JSONValue]), ControlRequest.Refusal>
    ) {
        writer.reset()
        let op: String
        let body: [String: JSONValue]
        switch parsed {
        case .success(let parsed): (op, body) = parsed
        case .failure(let refusal): return fail(refusal.message)
        }
        // Access first: a refused op's fields are not even read.
        if let readOnlyReason, ControlRequest.operatorOperations.contains(op) {
            return fail("op \"\(op)\" needs operator access: \(readOnlyReason)")
        }
        let decoded: ControlRequest
        switch ControlRequest.decode(op: op, body, now: now()) {
        case .success(let request): decoded = request
        case .failure(let refusal): return fail(refusal.message)
        }
        switch decoded {
        case .operatorAction(let action):
            // Checked in full first: a refused request is neither logged nor carried out,
            // so replay never meets one that cannot be applied.
            if let refusal = checkAgainstState(action) { return fail(refusal) }
            if replayTime == nil {
                // Logged before it is carried out: replay after a crash does it again.
                do {
                    heldPosition = try request.withUnsafeBytes { try logOperatorAction($0, now: now()) }
                } catch {
                    return fail("could not log the action to the write-ahead log (\(error)); nothing was changed")
                }
            }
            carryOut(action)
        case .snapshot(let prefix): snapshot(prefix: prefix)
        case .stats: stats()
        case .config: config()
        case .alerts: alertsReply()
        case .reload: reloadAsked = true
        case .metrics(let handOver): metrics(handOver: handOver)
        case .health: health()
        case .history, .events:
            // Only the history thread answers these (a replayed log holds none).
            fail("op \"\(op)\" is answered by the history thread")
        }
    }

    /// The reply to `reload`: what changed, or every error of a file that was refused
    /// (the running configuration stays).
    func reloadReply(_ outcome: ConfigReloader.Outcome) -> [UInt8] {
        writer.reset()
        writer.beginObject()
        writer.key("ok")
        writer.bool(outcome.ok)
        if !outcome.ok {
            state.statistics.controlErrors += 1
            writer.key("error")
            writer.string("configuration refused, the running one is kept: " + (outcome.errors.first ?? ""))
            writer.key("errors")
            writer.beginArray()
            for error in outcome.errors { writer.string(error) }
            writer.endArray()
            writer.endObject()
            return writer.bytes
        }
        writer.key("file")
        writer.string(state.configuration.sourcePath ?? "")
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
        return writer.bytes
    }

    /// `metrics`: the Prometheus text exposition (not JSON). With `"hand_over":true`
    /// (the `/metrics` listener, in this process) only the view is read here and the
    /// reply is `{"ok":true}`: the listener's thread renders it, so a scrape of thousands
    /// of series costs the engine thread only the reading.
    private func metrics(handOver: Bool) {
        guard let metrics else {
            return fail("metrics are off: set [http] listen in the configuration")
        }
        let view = metricsView()
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
        // What makes the daemon unhealthy: a failed log sync, a log not open yet.
        let problems =
            turn.wal.map { wal in wal.syncFailure.map { ["write-ahead log sync failed: \($0)"] } ?? [] }
            ?? ["recovering"]
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
        state.statistics.controlErrors += 1
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
        let now = state.now()
        state.engine.advance(to: now)
        let values = state.engine.snapshot(now: now)
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("seq")
        writer.integer(endpoints.feed.sequence)
        writer.key("epoch")
        writer.string(endpoints.feed.epoch)
        writer.key("ts")
        writer.timestamp(nanoseconds: now)
        writer.key("kpis")
        writer.beginArray()
        for value in values where prefix.map({ value.kpi.hasPrefix($0) }) ?? true {
            writer.beginObject()
            FeedEncoding.writeKPIMembers(state.alerts.withAlertStatus(value), into: &writer)
            writer.endObject()
        }
        writer.endArray()
        writer.key("alerts")
        writeAlerts(now: now)
        writer.endObject()
    }

    private func writeAlerts(now: Int64) {
        writer.beginArray()
        for message in state.alerts.activeMessages(now: now) {
            writer.beginObject()
            message.writeMembers(into: &writer)
            writer.endObject()
        }
        writer.endArray()
    }

    private func alertsReply() {
        let now = state.now()
        writer.beginObject()
        writer.key("ok")
        writer.bool(true)
        writer.key("alerts")
        writeAlerts(now: now)
        writer.key("silences")
        writer.beginArray()
        for s in state.alerts.store.silences(now: now) {
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

    /// Carries out a checked operator action; the alerts it changes go out on the feed again.
    private func carryOut(_ action: OperatorRequest) {
        let alerts = state.alerts
        switch action {
        case .ack(let rule, let group, let by, let comment):
            let (count, effects) = alerts.acknowledge(rule: rule, group: group, by: by, comment: comment, now: now())
            alerting.carryOut(effects)
            succeed("acknowledged") { writer.integer(count) }
        case .silence(let matchers, let duration, let by, let comment):
            let (s, effects) = alerts.silence(
                matchers: matchers,
                duration: duration,
                by: by,
                comment: comment,
                now: now()
            )
            alerting.carryOut(effects)
            succeed("silence") { writeSilence(s) }
        case .unsilence(let id):
            alerting.carryOut(alerts.unsilence(id: id, now: now()).effects)
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

    /// Why a well-formed operator action cannot be carried out now (an ack needs an
    /// active alert to acknowledge, an unsilence a silence to remove), or nil.
    private func checkAgainstState(_ request: OperatorRequest) -> String? {
        switch request {
        case .ack(let rule, let group, _, _):
            guard state.alerts.countActive(rule: rule, group: group, now: now()) > 0 else {
                return "no active alert of rule \"\(rule)\" matches that group"
            }
        case .unsilence(let id):
            guard state.alerts.store.silences(now: now()).contains(where: { $0.id == id }) else {
                return "no silence with id \"\(id)\""
            }
        case .silence:
            break
        }
        return nil
    }
}
