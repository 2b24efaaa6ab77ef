import Foundation
import Testing
import VigieTesting
import ZeroMQ

/// A feed subscriber that never reads must cost the daemon nothing: the PUB socket drops
/// at its high-water mark instead of blocking the engine or queueing without bound.
@Suite("A slow feed subscriber (vigied binary)")
struct SlowSubscriberTests {
    @Test(.timeLimit(.minutes(2)))
    func aSubscriberThatNeverReadsNeitherBlocksIngestNorGrowsMemory() throws {
        // Every change published (publish_interval 0s), each message about 2 KB (a long
        // title): what the subscriber does not read would be tens of megabytes.
        let daemon = try DaemonProcess(
            kpis: """

                [[kpi]]
                name = "bench.last"
                title = "\(String(repeating: "Attente au guichet ", count: 100))"
                metric = "bench"
                group_by = ["series"]
                aggregate = "last"
                window = "1h"
                max_series = 2000
                """,
            endpointSettings: "feed_hwm = 1000"
        )
        defer { _ = daemon.stop() }
        func bench(_ seconds: Int) throws -> Int {
            let run = try BinaryRunner.run(
                "vigie",
                arguments: ["bench", "--duration", "\(seconds)s", "--series", "1000", "--rate", "100000", "--json"]
                    + daemon.endpointArguments,
                timeout: 60
            )
            #expect(run.status == 0, "\(run.stderr)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            return try #require(result["samples"] as? Int)
        }
        func published() throws -> Int {
            let stats = try BinaryRunner.run(
                "vigie",
                arguments: ["status", "--stats", "--json"] + daemon.endpointArguments
            )
            let counters = try #require(
                try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
            )
            return try #require(counters["feed_messages"] as? Int)
        }
        // Warm up without the subscriber: every series exists, buffers have grown.
        _ = try bench(2)
        let before = try #require(daemon.residentKiB)
        let publishedBefore = try published()

        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let stuck = try context.makeSocket(.sub)
        defer { stuck.close(linger: 0) }
        try stuck.setReceiveHighWaterMark(100)
        try stuck.subscribe("")
        try stuck.connect(try #require(daemon.endpoints["feed"]))
        usleep(300_000)  // the subscription reaches the daemon

        // Ingest goes on, acknowledged, until far more was published to the stuck
        // subscriber (≥ 10,000 messages of ~2 KB) than its queues can hold.
        var sent = 0
        var toStuck = 0
        for _ in 0..<15 where toStuck < 10_000 {
            let samples = try bench(2)
            #expect(samples >= 1_000, "ingest kept being acknowledged while the subscriber never read")
            sent += samples
            toStuck = try published() - publishedBefore
        }
        #expect(toStuck >= 10_000, "published \(toStuck) messages for \(sent) samples")
        // …yet the daemon's memory did not follow what was published (≥ 20 MB): the
        // high-water mark (1,000 messages, 2 MB) bounds the queue, the rest is dropped.
        let after = try #require(daemon.residentKiB)
        #expect(after - before < 8 * 1_024, "RSS grew from \(before) KiB to \(after) KiB after \(toStuck) messages")
    }
}
