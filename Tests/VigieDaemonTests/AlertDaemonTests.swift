import Foundation
import Testing
import VigieCore
import VigieTesting
import ZeroMQ

/// Alert rules through the real daemon: real sockets and engine thread, a manual clock
/// for the time conditions.
@Suite("Alerts through the daemon")
struct AlertDaemonTests {
    static let kpi = """
        [[kpi]]
        name = "attente"
        metric = "attente"
        group_by = ["site"]
        aggregate = "last"
        window = "1h"
        unit = "min"

        """

    final class Fixture {
        let clock = ManualClock()
        let harness: DaemonHarness
        let feed: FeedSubscriber
        let ingest: Socket
        var sequence = 0

        init(rules: String) throws {
            harness = try DaemonHarness(toml: AlertDaemonTests.kpi + rules, clock: clock)
            feed = try FeedSubscriber(
                context: harness.context,
                endpoint: harness.endpoints.feed[0],
                prefixes: ["alert.", "hb"]
            )
            ingest = try harness.ingestSocket()
            // A heartbeat proves the subscription is live. The manual clock does not move
            // by itself: advance it so the daemon's 1 s heartbeat comes due.
            clock.advance(by: .seconds(1))
            _ = try feed.waitFor("hb", timeoutMilliseconds: 3_000)
        }

        /// Pushes `value` for `site` and waits for the ACK.
        func push(_ value: Double, site: String = "nord") throws {
            sequence += 1
            try ingest.sendPush(
                producer: "t",
                sequence: "\(sequence)",
                payloads: ["attente,site=\(site) value=\(value)\n"]
            )
            _ = try ingest.receiveMultipart(timeoutMilliseconds: 5_000)
        }

        /// The next alert message on the feed (any state), or nil.
        func nextAlert(timeout: Int = 3_000) throws -> [String: Any]? {
            try feed.waitFor("alert.", timeoutMilliseconds: timeout)?.body
        }

        /// Advances the clock and waits for the daemon's next tick to see it.
        func advance(_ duration: Duration) {
            clock.advance(by: duration)
        }

        func stop() async {
            ingest.close(linger: 0)
            feed.close()
            await harness.stop()
        }
    }

    @Test func firesAtOnceWithForZeroAndResolves() async throws {
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "longue"
                kpi = "attente"
                above = 30
                message = "Attente de {value} min au site {group.site}"
                """
        )
        let start = ContinuousClock.now
        try f.push(45)
        let firing = try #require(try f.nextAlert())
        let elapsed = ContinuousClock.now - start
        #expect(firing["state"] as? String == "firing")
        #expect(firing["rule"] as? String == "longue")
        #expect(firing["value"] as? Double == 45)
        #expect(firing["threshold"] as? Double == 30)
        #expect(firing["message"] as? String == "Attente de 45 min au site nord")
        #expect((firing["group"] as? [String: String]) == ["site": "nord"])
        #expect(elapsed < .milliseconds(500), "push → ACK → feed alert took \(elapsed)")
        // While the alert fires, the KPI's status is critical (DESIGN.md), in snapshots too.
        let snapshot = try f.harness.control(#"{"op":"snapshot"}"#)
        let kpi = (snapshot["kpis"] as? [[String: Any]])?.first { $0["kpi"] as? String == "attente" }
        #expect(kpi?["status"] as? String == "critical")
        #expect((snapshot["alerts"] as? [[String: Any]])?.first?["state"] as? String == "firing")
        try f.push(10)
        let resolved = try #require(try f.nextAlert())
        #expect(resolved["state"] as? String == "resolved")
        // Both transitions came from a sample: their receipt → feed latency is recorded.
        let latency = try #require(try f.harness.control(#"{"op":"stats"}"#)["alert_latency"] as? [String: Any])
        #expect(latency["count"] as? Int == 2)
        let p99 = try #require(latency["p99_ms"] as? Double)
        let max = try #require(latency["max_ms"] as? Double)
        #expect(p99 > 0 && p99 <= max && max < 500, "\(latency)")
        await f.stop()
    }

    @Test func forKeepsPendingThenFires() async throws {
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "longue"
                kpi = "attente"
                above = 30
                for = "5m"
                """
        )
        try f.push(45)
        let pending = try #require(try f.nextAlert())
        #expect(pending["state"] as? String == "pending")
        f.advance(.seconds(301))
        let firing = try #require(try f.nextAlert(timeout: 5_000))
        #expect(firing["state"] as? String == "firing")
        // Only the pending transition followed a sample; the tick's firing has no receipt.
        let latency = try f.harness.control(#"{"op":"stats"}"#)["alert_latency"] as? [String: Any]
        #expect(latency?["count"] as? Int == 1)
        await f.stop()
    }

    @Test func hysteresisResolvesOnlyPastClearThreshold() async throws {
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "longue"
                kpi = "attente"
                above = 30
                clear_below = 25
                """
        )
        try f.push(35)
        #expect(try f.nextAlert()?["state"] as? String == "firing")
        try f.push(28)  // below the threshold but not past the clear threshold
        #expect(try f.nextAlert(timeout: 700) == nil)
        try f.push(20)
        #expect(try f.nextAlert()?["state"] as? String == "resolved")
        await f.stop()
    }

    @Test func keepFiringForHoldsAfterClearing() async throws {
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "longue"
                kpi = "attente"
                above = 30
                keep_firing_for = "10m"
                """
        )
        try f.push(35)
        #expect(try f.nextAlert()?["state"] as? String == "firing")
        try f.push(10)
        #expect(try f.nextAlert(timeout: 700) == nil, "still firing within keep_firing_for")
        f.advance(.seconds(601))
        #expect(try f.nextAlert(timeout: 5_000)?["state"] as? String == "resolved")
        await f.stop()
    }

    @Test func minSamplesWithholdsAVerdict() async throws {
        let f = try Fixture(
            rules: """
                [[kpi]]
                name = "attente_n"
                metric = "attente"
                aggregate = "max"
                window = "1h"

                [[alert]]
                name = "pic"
                kpi = "attente_n"
                above = 30
                min_samples = 3
                """
        )
        try f.push(40)
        try f.push(40)
        #expect(try f.nextAlert(timeout: 700) == nil)
        try f.push(40)
        let firing = try #require(try f.nextAlert())
        #expect(firing["state"] as? String == "firing")
        #expect(firing["rule"] as? String == "pic")
        await f.stop()
    }

    @Test func absentForFiresOnASilentSeries() async throws {
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "muet"
                kpi = "attente"
                absent_for = "2h"
                """
        )
        try f.push(5)
        #expect(try f.nextAlert(timeout: 700) == nil)
        f.advance(.seconds(2 * 3_600 + 5))
        let absent = try #require(try f.nextAlert(timeout: 5_000))
        #expect(absent["state"] as? String == "firing")
        #expect(absent["reason"] as? String == "absent")
        try f.push(6)
        #expect(try f.nextAlert()?["state"] as? String == "resolved")
        await f.stop()
    }

    @Test func flappingIsMarked() async throws {
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "yoyo"
                kpi = "attente"
                above = 30
                flap = { window = 6, high = 50, low = 25 }
                """
        )
        var sawFlapping = false
        for i in 0..<12 {
            try f.push(i % 2 == 0 ? 40 : 10)
            while let message = try f.nextAlert(timeout: 300) {
                if message["flapping"] as? Bool == true { sawFlapping = true }
            }
        }
        #expect(sawFlapping)
        await f.stop()
    }

    @Test func scheduleLimitsEvaluation() async throws {
        // The manual clock starts on a Friday morning in Nouméa; a Sunday-only rule stays quiet.
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "dimanche"
                kpi = "attente"
                above = 30
                schedule = { days = "sun", from = "00:00", to = "24:00" }

                [[alert]]
                name = "toujours"
                kpi = "attente"
                above = 30
                """
        )
        try f.push(45)
        let first = try #require(try f.nextAlert())
        #expect(first["rule"] as? String == "toujours")
        #expect(try f.nextAlert(timeout: 700) == nil, "the Sunday rule must not fire on a Friday")
        await f.stop()
    }

    @Test func ackAndSilenceShowInAlertsAndOnTheFeed() async throws {
        let f = try Fixture(
            rules: """
                [[alert]]
                name = "longue"
                kpi = "attente"
                above = 30
                """
        )
        try f.push(45, site: "nord")
        try f.push(50, site: "sud")
        _ = try f.nextAlert()
        _ = try f.nextAlert()
        let ack = try f.harness.control(
            #"{"op":"ack","rule":"longue","group":{"site":"nord"},"by":"marie","comment":"renfort"}"#
        )
        #expect(ack["acknowledged"] as? Int == 1)
        // The ack republishes the rule's alerts: the nord one now says who acknowledged it.
        let acked = try #require(
            try f.feed.waitFor("alert.longue") { ($0["group"] as? [String: String])?["site"] == "nord" }?.body
        )
        #expect(acked["acknowledged"] as? Bool == true)
        #expect(acked["acknowledged_by"] as? String == "marie")
        let silence = try f.harness.control(
            #"{"op":"silence","matchers":["site=sud"],"for":"2h","by":"paul","comment":"travaux"}"#
        )
        let id = try #require((silence["silence"] as? [String: Any])?["id"] as? String)
        let silenced = try #require(
            try f.feed.waitFor("alert.longue") { $0["silenced"] as? Bool == true }?.body
        )
        #expect((silenced["group"] as? [String: String])?["site"] == "sud")
        #expect(silenced["silence_id"] as? String == id)
        let alerts = try f.harness.control(#"{"op":"alerts"}"#)
        let list = try #require(alerts["alerts"] as? [[String: Any]])
        #expect(list.count == 2)
        let nord = list.first { ($0["group"] as? [String: String])?["site"] == "nord" }
        let sud = list.first { ($0["group"] as? [String: String])?["site"] == "sud" }
        #expect(nord?["acknowledged_by"] as? String == "marie")
        #expect(sud?["silence_id"] as? String == id)
        #expect((alerts["silences"] as? [[String: Any]])?.count == 1)
        let removed = try f.harness.control(#"{"op":"unsilence","id":"\#(id)"}"#)
        #expect(removed["ok"] as? Bool == true)
        let unknown = try f.harness.control(#"{"op":"unsilence","id":"s-99"}"#)
        #expect(unknown["ok"] as? Bool == false)
        let noMatch = try f.harness.control(#"{"op":"ack","rule":"longue","group":{"site":"est"},"by":"x"}"#)
        #expect(noMatch["ok"] as? Bool == false)
        await f.stop()
    }
}
