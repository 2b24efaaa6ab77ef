import Foundation
import Testing

@testable import VigieCore

/// Replies written with the encoders the daemon uses (``JSONWriter``,
/// ``FeedEncoding``, ``AlertFeedMessage``), read back with ``ControlReply``.
@Suite("Control replies, typed")
struct ControlReplyTests {
    /// 2026-11-29T04:13:29.123Z.
    static let ts: Int64 = 1_795_925_609_123_000_000

    static let kpi = KPIValue(
        kpi: "etat_civil.attente_moyenne",
        title: "Attente moyenne",
        group: [TagPair(key: "site", value: "centre"), TagPair(key: "guichet", value: "2")],
        value: 12.5,
        unit: "min",
        window: "today",
        samples: 3,
        target: 15,
        status: .ok,
        direction: .below,
        aggregate: "mean",
        ts: ts,
        lastSampleAt: ts - 3_000_000
    )

    /// A KPI nothing is known about: every nullable member `null`.
    static let unknownKPI = KPIValue(
        kpi: "accueil.taux",
        title: "Taux",
        group: [],
        value: nil,
        unit: nil,
        window: "1h",
        samples: 0,
        target: nil,
        status: .unknown,
        direction: .above,
        aggregate: "ratio",
        ts: ts,
        lastSampleAt: nil
    )

    static let alert = AlertFeedMessage(
        rule: "attente_excessive",
        kpi: "etat_civil.attente_p90",
        group: [TagPair(key: "site", value: "nord")],
        state: .firing,
        severity: "warning",
        value: 34.2,
        threshold: 30,
        since: ts - 300_000_000_000,
        message: "Attente p90 de 34.2 min au site nord",
        reason: "active",
        flapping: false,
        acknowledgment: AlertAcknowledgment(rule: "attente_excessive", group: [], by: "marie", comment: "vu", at: ts),
        silence: AlertSilence(
            id: "s-1",
            matchers: [AlertMatcher(key: "site", value: "nord")],
            startsAt: ts,
            endsAt: ts + 7_200_000_000_000,
            createdBy: "paul",
            comment: "vidange"
        ),
        ts: ts
    )

    /// `{"ok":true,` then what `members` writes, then `}`.
    static func okReply(_ members: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("ok")
        w.bool(true)
        members(&w)
        w.endObject()
        return w.bytes
    }

    /// A `snapshot` reply as `ControlHandler.snapshot(prefix:)` writes it.
    static func snapshotBytes(kpis: [KPIValue], alerts: [AlertFeedMessage]) -> [UInt8] {
        okReply { w in
            w.key("seq")
            w.integer(UInt64(41))
            w.key("epoch")
            w.string("18a4f0c2b1d3e000-5f3a9c21")
            w.key("ts")
            w.timestamp(nanoseconds: ts)
            w.key("kpis")
            w.beginArray()
            for value in kpis {
                w.beginObject()
                FeedEncoding.writeKPIMembers(value, into: &w)
                w.endObject()
            }
            w.endArray()
            w.key("alerts")
            w.beginArray()
            for message in alerts {
                w.beginObject()
                message.writeMembers(into: &w)
                w.endObject()
            }
            w.endArray()
        }
    }

    @Test("a snapshot written by the daemon's encoders decodes member for member")
    func snapshot() throws {
        let bytes = Self.snapshotBytes(kpis: [Self.kpi, Self.unknownKPI], alerts: [Self.alert])
        let reply = try ControlReply.decode(ControlReply.Snapshot.self, from: bytes).get()
        #expect(reply.seq == 41)
        #expect(reply.epoch == "18a4f0c2b1d3e000-5f3a9c21")
        #expect(reply.ts == "2026-11-29T04:13:29.123Z")
        #expect(
            reply.kpis[0]
                == FeedMessage.KPI(
                    kpi: "etat_civil.attente_moyenne",
                    title: "Attente moyenne",
                    group: ["site": "centre", "guichet": "2"],
                    value: 12.5,
                    unit: "min",
                    window: "today",
                    aggregate: "mean",
                    samples: 3,
                    target: 15,
                    direction: .below,
                    status: .ok,
                    lastSample: "2026-11-29T04:13:29.120Z",
                    ts: "2026-11-29T04:13:29.123Z"
                )
        )
        let alert = try #require(reply.alerts.first)
        #expect(alert.rule == "attente_excessive")
        #expect(alert.group == ["site": "nord"])
        #expect(alert.state == .firing)
        #expect(alert.value == 34.2)
        #expect(alert.threshold == 30)
        #expect(alert.since == "2026-11-29T04:08:29.123Z")
        #expect(alert.acknowledged && alert.acknowledgedBy == "marie" && alert.ackComment == "vu")
        #expect(alert.silenced && alert.silenceID == "s-1")
        #expect(alert.silencedUntil == "2026-11-29T06:13:29.123Z")
        #expect(alert.seq == nil && alert.epoch == nil)
    }

    @Test("null members decode as nil: an unknown value, no unit, no target, no sample yet, NaN")
    func nulls() throws {
        var nan = Self.kpi
        nan.value = .nan
        let bytes = Self.snapshotBytes(kpis: [Self.unknownKPI, nan], alerts: [])
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""value":null,"unit":null"#))
        let reply = try ControlReply.decode(ControlReply.Snapshot.self, from: bytes).get()
        let unknown = reply.kpis[0]
        #expect(unknown.value == nil && unknown.unit == nil && unknown.target == nil && unknown.lastSample == nil)
        #expect(unknown.group.isEmpty)
        #expect(unknown.status == .unknown && unknown.direction == .above)
        #expect(reply.kpis[1].value == nil, "JSONWriter writes NaN as null")

        var deadman = Self.alert
        deadman.value = nil
        deadman.threshold = nil
        deadman.acknowledgment = nil
        deadman.silence = nil
        var w = JSONWriter()
        deadman.encode(seq: 9, epoch: "e", into: &w)
        guard case .success(.alert(let alert)) = FeedMessage.decode(w.bytes) else {
            Issue.record("not an alert: \(w.string)")
            return
        }
        #expect(alert.value == nil && alert.threshold == nil)
        #expect(!alert.acknowledged && alert.acknowledgedBy == nil && alert.ackComment == nil)
        #expect(!alert.silenced && alert.silenceID == nil && alert.silencedUntil == nil)
    }

    @Test("a boolean is not a number, nor a number a string: the member is named")
    func wrongKinds() {
        let kpi = #"{"type":"kpi","kpi":"k","title":"t","group":{},"unit":null,"window":"1h","aggregate":"count","#
        let rest = #""samples":1,"target":null,"direction":"below","status":"ok","last_sample":null,"ts":"x"}"#
        let boolean = Array(
            (#"{"ok":true,"seq":1,"epoch":"e","ts":"x","kpis":["# + kpi + #""value":true,"# + rest + "],\"alerts\":[]}")
                .utf8
        )
        #expect(
            ControlReply.decode(ControlReply.Snapshot.self, from: boolean).failure
                == .invalidMember(path: "kpis[0].value", expected: "a number")
        )
        #expect(
            ControlReply.decode(ControlReply.Acknowledged.self, from: Array(#"{"ok":true,"acknowledged":"1"}"#.utf8))
                .failure?.description == #"control reply member "acknowledged" is not an integer"#
        )
        #expect(
            ControlReply.decode(ControlReply.Unsilenced.self, from: Array(#"{"ok":true,"id":null}"#.utf8)).failure
                == .invalidMember(path: "id", expected: "a string")
        )
        #expect(
            ControlReply.decode(ControlReply.Health.self, from: Array(#"{"ok":"yes"}"#.utf8)).failure
                == .invalidMember(path: "ok", expected: "a boolean")
        )
        // A status this version does not know.
        let status = Array(
            (#"{"ok":true,"seq":1,"epoch":"e","ts":"x","kpis":["# + kpi + #""value":1,"#
                + rest.replacingOccurrences(of: #""ok""#, with: #""splendid""#) + "],\"alerts\":[]}").utf8
        )
        #expect(
            ControlReply.decode(ControlReply.Snapshot.self, from: status).failure
                == .invalidMember(path: "kpis[0].status", expected: "a known value")
        )
    }

    @Test("ok:false gives the daemon's error text, and a refused reload every error")
    func refusals() {
        var w = JSONWriter()
        w.beginObject()
        w.key("ok")
        w.bool(false)
        w.key("error")
        w.string("no silence with id \"s-9\"")
        w.endObject()
        let refused = ControlReply.decode(ControlReply.Unsilenced.self, from: w.bytes)
        #expect(refused.failure == .refused(ControlReply.Failure(error: "no silence with id \"s-9\"")))
        #expect(refused.failure?.description == "no silence with id \"s-9\"")

        let reload = Array(
            #"{"ok":false,"error":"configuration refused, the running one is kept: a.toml:3: bad","errors":["a.toml:3: bad","a.toml:9: worse"]}"#
                .utf8
        )
        #expect(
            ControlReply.decode(ControlReply.Reload.self, from: reload).failure
                == .refused(
                    .init(
                        error: "configuration refused, the running one is kept: a.toml:3: bad",
                        errors: ["a.toml:3: bad", "a.toml:9: worse"]
                    )
                )
        )
        // ok:false is a refusal even when the reply type's members are all missing;
        // without an error text it is not a reply.
        #expect(
            ControlReply.decode(ControlReply.Stats.self, from: Array(#"{"ok":false}"#.utf8)).failure
                == .missingMember(path: "error")
        )
    }

    @Test(
        "bytes that are not a JSON object",
        arguments: ["", "metrics 1\n", "{\"ok\":true", "[1,2]", "\"ok\"", "null"]
    )
    func notJSON(text: String) {
        let result = ControlReply.decode(ControlReply.Health.self, from: Array(text.utf8))
        #expect(result.failure == .notJSONObject)
        #expect(result.failure?.description == "control reply is not a JSON object")
    }

    @Test("a missing member is named with its path")
    func missingMembers() {
        #expect(
            ControlReply.decode(ControlReply.Health.self, from: Array("{}".utf8)).failure == .missingMember(path: "ok")
        )
        #expect(
            ControlReply.decode(ControlReply.Health.self, from: Array(#"{"ok":true,"healthy":true}"#.utf8)).failure
                == .missingMember(path: "problems")
        )
        let bytes = Self.snapshotBytes(kpis: [Self.kpi, Self.kpi], alerts: [])
        let text = String(decoding: bytes, as: UTF8.self)
        // Drop the second entry's sample count.
        let range = text.range(of: #""samples":3,"#, options: .backwards)
        let damaged = range.map { text.replacingCharacters(in: $0, with: "") } ?? text
        let result = ControlReply.decode(ControlReply.Snapshot.self, from: Array(damaged.utf8))
        #expect(result.failure == .missingMember(path: "kpis[1].samples"))
        #expect(result.failure?.description == #"control reply has no member "kpis[1].samples""#)
    }

    @Test("feed messages: kpi, alert and hb as the daemon publishes them; another type is kept aside")
    func feed() throws {
        var w = JSONWriter()
        FeedEncoding.encodeKPI(Self.kpi, seq: 42, epoch: "e1", into: &w)
        guard case .success(.kpi(let kpi)) = FeedMessage.decode(w.bytes) else {
            Issue.record("not a kpi: \(w.string)")
            return
        }
        #expect(kpi.seq == 42 && kpi.epoch == "e1" && kpi.value == 12.5 && kpi.group["guichet"] == "2")

        Self.alert.encode(seq: 43, epoch: "e1", into: &w)
        let alert = FeedMessage.decode(w.bytes)
        #expect(alert.success?.seq == 43 && alert.success?.epoch == "e1")

        FeedEncoding.encodeHeartbeat(
            now: Self.ts,
            uptimeSeconds: 3600.1254,
            ingestRate: 1520.54,
            seq: 44,
            epoch: "e1",
            into: &w
        )
        #expect(
            FeedMessage.decode(w.bytes).success
                == .heartbeat(
                    .init(
                        ts: "2026-11-29T04:13:29.123Z",
                        uptimeSeconds: 3600.125,
                        ingestRate: 1520.5,
                        seq: 44,
                        epoch: "e1"
                    )
                )
        )
        #expect(FeedMessage.decode(Array(#"{"type":"sample","x":1}"#.utf8)).success == .other(type: "sample"))
        #expect(FeedMessage.decode(Array(#"{"kpi":"k"}"#.utf8)).failure == .missingMember(path: "type"))
    }

    @Test("a KPI encodes as a feed kpi object: type, and null members kept")
    func kpiEncoding() throws {
        let bytes = Self.snapshotBytes(kpis: [Self.unknownKPI], alerts: [])
        let kpi = try #require(try ControlReply.decode(ControlReply.Snapshot.self, from: bytes).get().kpis.first)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(kpi), as: UTF8.self)
        #expect(
            text
                == #"{"aggregate":"ratio","direction":"above","group":{},"kpi":"accueil.taux","last_sample":null,"#
                + #""samples":0,"status":"unknown","target":null,"title":"Taux","ts":"2026-11-29T04:13:29.123Z","#
                + #""type":"kpi","unit":null,"value":null,"window":"1h"}"#
        )
        #expect(try ControlReply.decodeMembers(FeedMessage.self, from: Array(text.utf8)).get() == .kpi(kpi))
    }

    @Test("alerts, ack, silence, unsilence, health and reload replies as docs/protocol.md shows them")
    func operatorReplies() throws {
        let silence =
            #"{"id":"s-2","matchers":["rule=piscine_eau_froide","site=plein-air"],"starts_at":"2026-11-29T04:13:29.123Z","#
            + #""ends_at":"2026-11-29T06:13:29.123Z","created_by":"paul","comment":"vidange"}"#
        var w = JSONWriter()
        w.beginObject()
        w.key("ok")
        w.bool(true)
        w.key("alerts")
        w.beginArray()
        w.beginObject()
        Self.alert.writeMembers(into: &w)
        w.endObject()
        w.endArray()
        w.key("silences")
        w.raw("[" + silence + "]")
        w.endObject()
        let alerts = try ControlReply.decode(ControlReply.Alerts.self, from: w.bytes).get()
        #expect(alerts.alerts.map(\.reason) == ["active"])
        let expected = ControlReply.Silence(
            id: "s-2",
            matchers: ["rule=piscine_eau_froide", "site=plein-air"],
            startsAt: "2026-11-29T04:13:29.123Z",
            endsAt: "2026-11-29T06:13:29.123Z",
            createdBy: "paul",
            comment: "vidange"
        )
        #expect(alerts.silences == [expected])
        #expect(
            try ControlReply.decode(
                ControlReply.Silenced.self,
                from: Array((#"{"ok":true,"silence":"# + silence + "}").utf8)
            )
            .get().silence == expected
        )
        #expect(
            try ControlReply.decode(ControlReply.Acknowledged.self, from: Array(#"{"ok":true,"acknowledged":1}"#.utf8))
                .get().acknowledged == 1
        )
        #expect(
            try ControlReply.decode(ControlReply.Unsilenced.self, from: Array(#"{"ok":true,"id":"s-2"}"#.utf8)).get()
                .id == "s-2"
        )
        #expect(
            try ControlReply.decode(
                ControlReply.Health.self,
                from: Array(#"{"ok":true,"healthy":false,"problems":["recovering"]}"#.utf8)
            ).get() == ControlReply.Health(healthy: false, problems: ["recovering"])
        )
        let reload = try ControlReply.decode(
            ControlReply.Reload.self,
            from: Array(
                #"{"ok":true,"file":"/etc/vigie/vigie.toml","kpis":{"kept":["a","b"],"restarted":[],"added":["c"],"removed":[]},"#
                    .utf8
            ) + Array(#""rules":10,"notifiers_replaced":false,"endpoints":[],"needs_restart":["daemon"]}"#.utf8)
        ).get()
        #expect(reload.kpis.kept == ["a", "b"] && reload.kpis.added == ["c"])
        #expect(reload.rules == 10 && !reload.notifiersReplaced && reload.needsRestart == ["daemon"])
    }

    @Test("history and events replies, with null values, ids and payloads")
    func historyAndEvents() throws {
        let history = try ControlReply.decode(
            ControlReply.History.self,
            from: Array(
                """
                {"ok":true,"kpi":"etat_civil.attente_p90","unit":"min","aggregate":"p90","step_s":86400,\
                "resolution":"hour","from":"2026-11-22T00:00:00.000Z","to":"2026-11-30T00:00:00.000Z","points":[\
                {"ts":"2026-11-22T00:00:00.000Z","group":{"site":"nord"},"value":12.5,"samples":40},\
                {"ts":"2026-11-23T00:00:00.000Z","group":{"site":"nord"},"value":null,"samples":0}]}
                """.utf8
            )
        ).get()
        #expect(history.stepSeconds == 86_400 && history.resolution == "hour" && history.unit == "min")
        #expect(history.points.map(\.value) == [12.5, nil])
        #expect(history.points.map(\.samples) == [40, 0])

        let events = try ControlReply.decode(
            ControlReply.Events.self,
            from: Array(
                """
                {"ok":true,"events":[{"id":1,"ts":"2026-11-29T04:08:29.000Z","kind":"alert","rule":"attente_excessive",\
                "kpi":"etat_civil.attente_p90","group":{"site":"nord"},"state":"firing","severity":"warning",\
                "value":34.2,"threshold":30,"actor":null,"comment":null,"payload":{"flapping":false,"message":"m"}},\
                {"id":null,"ts":"2026-11-29T04:09:00.000Z","kind":"unsilence","rule":null,"kpi":null,"group":{},\
                "state":null,"severity":null,"value":null,"threshold":null,"actor":"paul","comment":null,"payload":null}]}
                """.utf8
            )
        ).get()
        #expect(events.events.map(\.kind) == [.alert, .unsilence])
        #expect(events.events[0].payload == .object(["flapping": .bool(false), "message": .string("m")]))
        #expect(events.events[0].state == .firing && events.events[0].threshold == 30)
        #expect(events.events[1].id == nil && events.events[1].payload == nil && events.events[1].state == nil)
    }

    @Test("stats: typed members, and every member kept (a newer daemon's too); encoding round-trips")
    func stats() throws {
        let text = """
            {"ok":true,"epoch":"e","version":"1.2.0","uptime_s":3600.125,"config_file":"/etc/vigie/vigie.toml",\
            "config_loaded_at":"2026-11-29T04:13:29.123Z","ingest_rate":0,"samples_accepted":4,"samples_rejected":1,\
            "samples_late":0,"batches_acked":2,"batches_duplicate":0,"batches_refused_storage":0,\
            "wal":{"directory":"/var/lib/vigie/wal","fsync":"batch","flushed_lsn":10,"durable_lsn":10,"replies_waiting":0,\
            "sync_failure":null,"checkpoint_lsn":0,"checkpoints_written":0,"checkpoint_errors":0,"last_checkpoint":null},\
            "endpoints":{"ingest":["tcp://127.0.0.1:7600"],"push":[],"feed":[],"control":[]},"alerts_firing":1,\
            "alerts_pending":0,"alert_latency":{"count":0,"p50_ms":null,"p99_ms":null,"max_ms":null},\
            "limits":{"line_length":{"max":65536,"hits":2},"feed_hwm":{"max":10000,"hits":null}},\
            "security":{"curve":false,"authorized_keys":0,"handshakes_admitted":0,"handshakes_denied":0,\
            "samples_outside_prefixes":0,"revoked_key_messages":0},"producers_total":1,\
            "producers":[{"id":"p","last_seen":"2026-11-29T04:13:29.123Z","sequence":2}],\
            "notifications_held":0,"notifiers":{},"added_later":[1,2.5]}
            """
        let stats = try ControlReply.decode(ControlReply.Stats.self, from: Array(text.utf8)).get()
        #expect(stats.uptimeSeconds == 3600.125 && stats.ingestRate == 0)
        #expect(stats.samplesAccepted == 4 && stats.samplesRejected == 1)
        #expect(stats.wal.fsync == "batch" && stats.wal.syncFailure == nil && stats.wal.lastCheckpoint == nil)
        #expect(stats.alertLatency.p50Milliseconds == nil)
        #expect(stats.limits["line_length"]?.hits == 2 && stats.limits["feed_hwm"]?.hits == nil)
        #expect(stats.producers.map(\.sequence) == [2])
        #expect(stats.members["batches_acked"] == .integer(2))
        #expect(stats.members["added_later"] == .array([.integer(1), .number(2.5)]))
        #expect(stats.members["ok"] == nil)
        #expect(stats.members.count == 24)

        let encoded = Array(try JSONEncoder().encode(stats))
        #expect(try ControlReply.decodeMembers(ControlReply.Stats.self, from: encoded).get() == stats)
    }

    @Test("the agent's status reply (JSONSerialization, sorted keys)")
    func agentStatus() throws {
        let text = """
            {"acked_sequence":12,"agent":"mairie-nord","collectors":{"tick":{"consecutive_failures":0,\
            "duration_ms":1.25,"interval_ms":1000,"kind":"exec","last_run":"2026-11-29T04:13:29.123Z",\
            "last_run_ns":1795925609123000000,"lines":1,"result":"ok","runs":3,"total_lines":3},\
            "idle":{"consecutive_failures":0,"interval_ms":60000,"kind":"http","lines":0,"name":"idle","runs":0,\
            "total_lines":0}},"connected":false,"last_ack":null,"ok":true,"producer":"agent-mairie-nord",\
            "spool_unsent_records":4,"upstream":"tcp://127.0.0.1:7600","uptime_s":12.5}
            """
        // "tick" lacks its name: the error says which member.
        #expect(
            ControlReply.decode(AgentStatusReply.self, from: Array(text.utf8)).failure
                == .missingMember(path: "collectors.tick.name")
        )
        let fixed = text.replacingOccurrences(of: #"{"tick":{"#, with: #"{"tick":{"name":"tick","#)
        let status = try ControlReply.decode(AgentStatusReply.self, from: Array(fixed.utf8)).get()
        #expect(!status.connected && status.lastAck == nil && status.spoolUnsentRecords == 4)
        #expect(status.collectors["tick"]?.result == "ok" && status.collectors["idle"]?.result == nil)
        #expect(status.collectors["tick"]?.durationMilliseconds == 1.25)
        #expect(status.members["uptime_s"] == .number(12.5) && status.members["last_ack"] == .null)
        let encoded = Array(try JSONEncoder().encode(status))
        #expect(try ControlReply.decodeMembers(AgentStatusReply.self, from: encoded).get() == status)
    }

    @Test("ACK and ERR bodies as the daemon writes them")
    func ingestBodies() {
        var w = JSONWriter()
        VGI1.encodeAck(
            accepted: 2,
            rejected: 1,
            duplicate: false,
            errors: [LineProtocolError(line: 2, column: 52, reason: "invalid field value")],
            into: &w
        )
        #expect(
            VGI1.AckBody.decode(w.bytes)
                == VGI1.AckBody(
                    accepted: 2,
                    rejected: 1,
                    duplicate: false,
                    errors: [.init(line: 2, column: 52, error: "invalid field value")]
                )
        )
        #expect(VGI1.ErrorBody.decode(VGI1.encodeError("sequence too old"))?.error == "sequence too old")
        #expect(VGI1.ErrorBody.decode(Array("sequence too old".utf8)) == nil)
    }
}

extension Result {
    /// The error, or nil.
    var failure: Failure? {
        guard case .failure(let error) = self else { return nil }
        return error
    }

    /// The value, or nil.
    var success: Success? {
        guard case .success(let value) = self else { return nil }
        return value
    }
}
