import Foundation
import Testing
import VigieCore
import VigieTesting
import ZeroMQ

@Suite("Feed, push endpoint and control socket")
struct FeedAndControlTests {
    @Test func kpiUpdateReachesTheFeedWithSeqAndEpoch() async throws {
        let h = try DaemonHarness(toml: waitKPIs)
        let sub = try FeedSubscriber(
            context: h.context,
            endpoint: h.endpoints.feed[0],
            prefixes: ["kpi.attente.mean", "hb"]
        )
        // The first heartbeat proves the subscription is live (PUB drops before that).
        let hb = try #require(try sub.waitFor("hb", timeoutMilliseconds: 3_000))
        #expect(hb.body["type"] as? String == "hb")
        #expect(hb.body["epoch"] is String)
        let s = try h.ingestSocket()
        try s.sendPush(
            producer: "feed",
            sequence: "1",
            payloads: [
                "guichet_attente,service=etat-civil,site=nord value=10\nguichet_attente,service=etat-civil,site=nord value=30\n"
            ]
        )
        _ = try s.receiveMultipart(timeoutMilliseconds: 5_000)
        let update = try #require(try sub.waitFor("kpi.attente.mean") { ($0["samples"] as? Int) == 2 })
        #expect(update.topic == "kpi.attente.mean")
        #expect(update.body["value"] as? Double == 20)
        #expect(update.body["group"] as? [String: String] == ["site": "nord"])
        #expect(update.body["unit"] as? String == "min")
        #expect(update.body["status"] as? String == "ok")
        #expect(update.body["epoch"] as? String == hb.body["epoch"] as? String)
        #expect((update.body["seq"] as? Int ?? 0) > (hb.body["seq"] as? Int ?? Int.max))
        s.close(linger: 0)
        sub.close()
        await h.stop()
    }

    @Test func pushEndpointAppliesFireAndForget() async throws {
        let h = try DaemonHarness(toml: waitKPIs)
        let push = try h.context.makeSocket(.push)
        try push.setLinger(1_000)
        try push.connect(h.endpoints.push[0])
        try push.send("guichet_attente value=1\nguichet_attente value=2\nnot valid\n")
        try push.send("guichet_attente value=3\n")
        push.close()
        var accepted = 0
        for _ in 0..<50 {
            let stats = try h.control(#"{"op":"stats"}"#)
            accepted = stats["samples_accepted"] as? Int ?? 0
            if accepted == 3 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(accepted == 3)
        let stats = try h.control(#"{"op":"stats"}"#)
        #expect(stats["samples_rejected"] as? Int == 1)
        #expect(stats["push_messages"] as? Int == 2)
        await h.stop()
    }

    @Test func snapshotIsConsistentWithFeedSeq() async throws {
        let h = try DaemonHarness(toml: waitKPIs)
        let s = try h.ingestSocket()
        try s.sendPush(
            producer: "snap",
            sequence: "1",
            payloads: ["guichet_attente,service=etat-civil,site=sud value=12\n"]
        )
        _ = try s.receiveMultipart(timeoutMilliseconds: 5_000)
        s.close(linger: 0)
        let snapshot = try h.control(#"{"op":"snapshot"}"#)
        #expect(snapshot["ok"] as? Bool == true)
        #expect(snapshot["seq"] is Int)
        let kpis = try #require(snapshot["kpis"] as? [[String: Any]])
        let mean = try #require(kpis.first { $0["kpi"] as? String == "attente.mean" })
        #expect(mean["value"] as? Double == 12)
        let filtered = try h.control(#"{"op":"snapshot","prefix":"attente.count"}"#)
        #expect((filtered["kpis"] as? [[String: Any]])?.allSatisfy { $0["kpi"] as? String == "attente.count" } == true)
        await h.stop()
    }

    @Test(arguments: [
        ("not json", "not valid JSON"),
        ("[1,2]", "JSON object"),
        (#"{"x":1}"#, "missing \"op\""),
        (#"{"op":"fly"}"#, "unknown op"),
        (#"{"op":"history"}"#, "\"kpi\" is missing"),
        (#"{"op":"ack"}"#, "rule"),
        (#"{"op":"metrics"}"#, "metrics are off"),
        (#"{"op":"freeze"}"#, "unknown op"),
    ])
    func controlErrors(request: String, expected: String) async throws {
        let h = try DaemonHarness(toml: waitKPIs)
        let reply = try h.control(request)
        #expect(reply["ok"] as? Bool == false)
        #expect((reply["error"] as? String ?? "").contains(expected))
        let config = try h.control(#"{"op":"config"}"#)
        #expect(config["ok"] as? Bool == true)
        #expect((config["kpis"] as? [[String: Any]])?.count == 2)
        await h.stop()
    }

    @Test func stopEndsTheEngineThreadAndFreesThePorts() async throws {
        let h = try DaemonHarness(toml: waitKPIs)
        let ingest = h.endpoints.ingest[0]
        await h.stop()
        // The port is free again: a new socket can bind it.
        let context = try ZMQContext(defaultLinger: 0)
        let socket = try context.makeSocket(.router)
        try socket.bind(ingest)
        socket.close(linger: 0)
        context.shutdown()
        try context.terminate()
    }
}
