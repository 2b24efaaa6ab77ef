import Foundation
import Testing
import VigieCore
import VigieTesting
import ZeroMQ

/// Every op's reply from the real `vigied` decodes into its `ControlReply` type, and so
/// does every feed message: the types match what the daemon writes, not only the docs.
@Suite("ControlReply against the vigied binary")
struct ControlReplyEndToEndTests {
    /// A DEALER on the daemon's operator control socket (every op allowed).
    final class Control {
        let context: ZMQContext
        let endpoint: String

        init(context: ZMQContext, endpoint: String) {
            self.context = context
            self.endpoint = endpoint
        }

        /// The reply to `request`, as sent.
        func raw(_ request: ControlRequest) throws -> [UInt8] {
            let socket = try context.makeSocket(.dealer)
            defer { socket.close(linger: 0) }
            try socket.connect(endpoint)
            try socket.sendMultipart([[], request.jsonBytes])
            guard let frames = try socket.receiveMultipart(timeoutMilliseconds: 15_000), let body = frames.last else {
                throw HarnessError("no reply to \(request.op) within 15 s")
            }
            return body
        }

        /// The reply to `request` decoded as `R`; a decoding error is the test's failure.
        func send<R: Decodable>(_ request: ControlRequest, as type: R.Type) throws -> R {
            let bytes = try raw(request)
            switch ControlReply.decode(type, from: bytes) {
            case .success(let reply): return reply
            case .failure(let error):
                throw HarnessError("\(request.op): \(error) in \(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func everyOpDecodes() throws {
        let daemon = try DaemonProcess(kpis: e2eKPIs)
        defer { daemon.stop() }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let control = Control(context: context, endpoint: daemon.endpoints["control"] ?? "")

        // Subscribed first, so the alert's transition and the KPI updates are heard.
        let sub = try context.makeSocket(.sub)
        defer { sub.close(linger: 0) }
        try sub.setLinger(0)
        try sub.subscribe("")
        try sub.connect(daemon.endpoints["feed"] ?? "")
        _ = try sub.receiveMultipart(timeoutMilliseconds: 5_000)  // a heartbeat: the subscription is live

        let push = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "guichet_attente", "40", "-t", "site=nord"] + daemon.endpointArguments
        )
        #expect(push.status == 0, "\(push.stderr)")
        // A ratio over 0: its value is unknown (null).
        let calls = try BinaryRunner.run(
            "vigie",
            arguments: ["push"] + daemon.endpointArguments,
            stdin: Data("calls,service=accueil decroche=0,recu=0\n".utf8)
        )
        #expect(calls.status == 0, "\(calls.stderr)")

        let snapshot = try control.send(.snapshot(prefix: "guichet."), as: ControlReply.Snapshot.self)
        let series = try #require(snapshot.kpis.first { $0.kpi == "guichet.attente" })
        #expect(series.value == 40 && series.group == ["site": "nord"] && series.unit == "min")
        #expect(series.status == .critical, "an alert on the series is firing")
        #expect(snapshot.alerts.map(\.rule) == ["attente_longue"])
        #expect(snapshot.kpis.allSatisfy { $0.kpi.hasPrefix("guichet.") })
        let all = try control.send(.snapshot(prefix: nil), as: ControlReply.Snapshot.self)
        #expect(all.kpis.contains { $0.kpi == "t.ratio" && $0.value == nil && $0.target == 0.85 })

        let stats = try control.send(.stats, as: ControlReply.Stats.self)
        #expect(stats.samplesAccepted >= 2 && stats.alertsFiring == 1)
        #expect(stats.version == VigieVersion.string && stats.configFile == daemon.configPath)
        #expect(stats.endpoints["feed"] == [daemon.endpoints["feed"] ?? ""])
        #expect(stats.limits["line_length"]?.max == 65_536)
        #expect(stats.members["notifiers"] == .object([:]))

        let config = try control.send(.config, as: ControlReply.Config.self)
        #expect(config.path == daemon.configPath && config.timezone == "Pacific/Noumea")
        #expect(config.kpis.first { $0.name == "guichet.attente" }?.groupBy == ["site"])
        #expect(config.kpis.first { $0.name == "t.ratio" }?.direction == .above)

        let health = try control.send(.health, as: ControlReply.Health.self)
        #expect(health.healthy && health.problems.isEmpty, "\(health)")

        let ack = try control.send(
            .operatorAction(.ack(rule: "attente_longue", group: ["site": "nord"], by: "marie", comment: "renfort")),
            as: ControlReply.Acknowledged.self
        )
        #expect(ack.acknowledged == 1)
        let silenced = try control.send(
            .operatorAction(
                .silence(
                    matchers: [AlertMatcher(key: "site", value: "nord")],
                    duration: 3_600_000_000_000,
                    by: "paul",
                    comment: "travaux"
                )
            ),
            as: ControlReply.Silenced.self
        )
        #expect(silenced.silence.matchers == ["site=nord"] && silenced.silence.createdBy == "paul")
        let alerts = try control.send(.alerts, as: ControlReply.Alerts.self)
        let alert = try #require(alerts.alerts.first)
        #expect(alert.acknowledgedBy == "marie" && alert.silenceID == silenced.silence.id && alert.reason == "active")
        #expect(alerts.silences == [silenced.silence])
        let unsilenced = try control.send(
            .operatorAction(.unsilence(id: silenced.silence.id)),
            as: ControlReply.Unsilenced.self
        )
        #expect(unsilenced.id == silenced.silence.id)
        #expect(
            ControlReply.decode(
                ControlReply.Unsilenced.self,
                from: try control.raw(.operatorAction(.unsilence(id: "s-1")))
            )
                == .failure(.refused(.init(error: "no silence with id \"s-1\"")))
        )
        let metrics = ControlReply.decode(ControlReply.Health.self, from: try control.raw(.metrics(handOver: false)))
        #expect(metrics == .failure(.refused(.init(error: "metrics are off: set [http] listen in the configuration"))))

        // History is written about once a second: wait for the point and the ack.
        var history = try control.send(
            .history(.init(kpi: "guichet.attente", from: .text("-1h"), step: 60_000_000_000)),
            as: ControlReply.History.self
        )
        var events = try control.send(.events(.init(from: .text("-1h"))), as: ControlReply.Events.self)
        let recorded = try eventually(seconds: 15, pollMilliseconds: 200) {
            history = try control.send(
                .history(.init(kpi: "guichet.attente", from: .text("-1h"), step: 60_000_000_000)),
                as: ControlReply.History.self
            )
            events = try control.send(.events(.init(from: .text("-1h"))), as: ControlReply.Events.self)
            return history.points.contains { $0.samples > 0 } && events.events.contains { $0.kind == .unsilence }
        }
        #expect(recorded, "\(history) \(events)")
        #expect(history.kpi == "guichet.attente" && history.stepSeconds == 60 && history.resolution == "minute")
        #expect(history.points.first { $0.samples > 0 }?.value == 40)
        #expect(history.points.contains { $0.value == nil && $0.samples == 0 })
        let kinds = events.events.map(\.kind)
        #expect(kinds.contains(.alert) && kinds.contains(.ack) && kinds.contains(.silence), "\(events)")
        #expect(events.events.first { $0.kind == .alert }?.state == .firing)
        #expect(events.events.first { $0.kind == .ack }?.actor == "marie")

        let reload = try control.send(.reload, as: ControlReply.Reload.self)
        #expect(reload.file == daemon.configPath && reload.kpis.kept.contains("guichet.attente"))
        #expect(reload.kpis.added.isEmpty && reload.rules == 1)
        let text = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try (text + "\n[[kpi]]\nname = \"broken\"\n").write(
            toFile: daemon.configPath,
            atomically: true,
            encoding: .utf8
        )
        guard
            case .failure(.refused(let refusal)) = ControlReply.decode(
                ControlReply.Reload.self,
                from: try control.raw(.reload)
            )
        else {
            Issue.record("a broken file was not refused")
            return
        }
        #expect(refusal.error.hasPrefix("configuration refused, the running one is kept: "))
        #expect(refusal.errors?.isEmpty == false)

        // Every feed message heard meanwhile is a kpi, an alert or a heartbeat.
        var heard: [FeedMessage] = []
        while let frames = try sub.receiveMultipart(timeoutMilliseconds: 100), frames.count == 2 {
            switch FeedMessage.decode(frames[1]) {
            case .success(let message): heard.append(message)
            case .failure(let error): Issue.record("\(error) in \(String(decoding: frames[1], as: UTF8.self))")
            }
        }
        #expect(heard.contains { if case .kpi(let m) = $0 { m.kpi == "guichet.attente" } else { false } })
        #expect(heard.contains { if case .alert(let m) = $0 { m.state == .firing } else { false } })
        #expect(heard.contains { if case .heartbeat = $0 { true } else { false } })
        #expect(!heard.contains { if case .other = $0 { true } else { false } })
        #expect(heard.allSatisfy { $0.epoch == snapshot.epoch })
    }
}
