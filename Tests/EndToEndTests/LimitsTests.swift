import Foundation
import Testing
import VigieTesting
import ZeroMQ

/// Every limit that refuses something is counted, in `stats`, `vigie status` and
/// `/metrics` (SECURITY.md, "Limits").
@Suite("Limits are counted and shown (vigied binary)")
struct LimitsTests {
    @Test(.timeLimit(.minutes(1)))
    func eachLimitHitIsCountedAndShown() throws {
        let daemon = try DaemonProcess(
            kpis: """
                [ingest]
                max_tags = 2
                max_lines_per_batch = 3
                max_producers = 2
                max_series_per_kpi = 1

                [http]
                listen = "127.0.0.1:0"

                [[kpi]]
                name = "m.count"
                metric = "m"
                group_by = ["site"]
                aggregate = "count"
                window = "1h"
                """
        )
        defer { _ = daemon.stop() }
        func push(_ lines: String) throws -> BinaryRunResult {
            try BinaryRunner.run(
                "vigie",
                arguments: ["push", "--file", "-"] + daemon.endpointArguments,
                stdin: Data(lines.utf8)
            )
        }
        // Line 2 has three tags; lines 4 and 5 are over three per batch; site=b is a
        // second series of a KPI that allows one.
        let first = try push("m,site=a value=1\nm,site=a,x=1,y=2 value=1\nm,site=b value=1\nm value=1\nm value=1\n")
        #expect(first.status == 1)
        #expect(first.stderr.contains("2:"), "\(first.stderr)")
        #expect(try push("m,site=a value=2\n").status == 0)
        // Each run is a fresh producer: the third is over max_producers = 2.
        let third = try push("m,site=a value=3\n")
        #expect(third.status == 76)
        #expect(third.stderr.contains("too many producers"), "\(third.stderr)")

        let stats = try BinaryRunner.run(
            "vigie",
            arguments: ["status", "--stats", "--json"] + daemon.endpointArguments
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        let limits = try #require(object["limits"] as? [String: [String: Any]])
        #expect(limits["tags"]?["hits"] as? Int == 1)
        #expect(limits["tags"]?["max"] as? Int == 2)
        #expect(limits["lines_per_batch"]?["hits"] as? Int == 2)
        #expect(limits["producers"]?["hits"] as? Int == 1)
        #expect(limits["series_per_kpi"]?["hits"] as? Int == 1)
        #expect(limits["series_total"]?["max"] as? Int == 200_000)
        #expect(limits["series_total"]?["hits"] as? Int == 0)
        #expect(limits["line_length"]?["hits"] as? Int == 0)
        #expect(limits["message_size"]?["hits"] is NSNull, "libzmq drops oversized messages without telling")

        let status = try BinaryRunner.run("vigie", arguments: ["status"] + daemon.endpointArguments)
        #expect(
            status.stdout.contains(
                "limits hit: lines_per_batch 2 (max 3), producers 1 (max 2), series_per_kpi 1 (max 1), tags 1 (max 2)"
            ),
            "\(status.stdout)"
        )
        let metrics = try httpGet(try #require(daemon.endpoints["http"]), "/metrics")
        #expect(metrics.body.contains("vigie_limit_hits_total{limit=\"tags\"} 1\n"), "\(metrics.body)")
        #expect(metrics.body.contains("vigie_limit_hits_total{limit=\"producers\"} 1\n"))
    }

    /// A producer may have at most `max_in_flight` batches waiting for the group commit;
    /// more get an ERR it can retry after its ACKs (the agent treats it as transient).
    @Test(.timeLimit(.minutes(1)))
    func aProducerWithTooManyBatchesInFlightIsAskedToWait() throws {
        let daemon = try DaemonProcess(
            kpis: """
                [ingest]
                max_in_flight = 2

                [[kpi]]
                name = "m.count"
                metric = "m"
                aggregate = "count"
                window = "1h"
                """,
            daemonSettings: "fsync_interval = \"500ms\""
        )
        defer { _ = daemon.stop() }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let socket = try context.makeSocket(.dealer)
        defer { socket.close(linger: 0) }
        try socket.connect(try #require(daemon.endpoints["ingest"]))
        // The first batch is synced at once; the next sync is then 500 ms away, so the
        // six sent right after its ACK all wait for the same group commit.
        try socket.sendPush(producer: "p", sequence: "1", payloads: ["m value=1\n"])
        #expect(try socket.receiveMultipart(timeoutMilliseconds: 5_000)?[1] == Array("ACK".utf8))
        for sequence in 2...7 {
            try socket.sendPush(producer: "p", sequence: "\(sequence)", payloads: ["m value=1\n"])
        }
        var acks = 0
        var waits = 0
        for _ in 0..<6 {
            guard let reply = try socket.receiveMultipart(timeoutMilliseconds: 5_000) else { break }
            if reply[1] == Array("ACK".utf8) { acks += 1 }
            if reply[1] == Array("ERR".utf8),
                String(decoding: reply[2], as: UTF8.self).contains("too many batches in flight")
            {
                waits += 1
            }
        }
        #expect(acks == 2)
        #expect(waits == 4)
        let stats = try BinaryRunner.run(
            "vigie",
            arguments: ["status", "--stats", "--json"] + daemon.endpointArguments
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect((object["limits"] as? [String: [String: Any]])?["in_flight"]?["hits"] as? Int == 4)
        #expect(object["samples_accepted"] as? Int == 3)
        // Once acknowledged, the producer may send again.
        try socket.sendPush(producer: "p", sequence: "8", payloads: ["m value=1\n"])
        #expect(try socket.receiveMultipart(timeoutMilliseconds: 5_000)?[1] == Array("ACK".utf8))
    }

    /// libzmq bounds each frame (MAXMSGSIZE), not their sum: vigied bounds the sum of a
    /// message's frames to `max_message_size` too, and refuses the whole message.
    @Test(.timeLimit(.minutes(1)))
    func aMessageWhoseFramesAddUpToTooMuchIsRefusedWhole() throws {
        let daemon = try DaemonProcess(
            kpis: """
                [ingest]
                max_message_size = 1024
                max_line_length = 512

                [[kpi]]
                name = "m.count"
                metric = "m"
                aggregate = "count"
                window = "1h"
                """
        )
        defer { _ = daemon.stop() }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let line = "m,pad=" + String(repeating: "x", count: 180) + " value=1\n"
        let socket = try context.makeSocket(.dealer)
        defer { socket.close(linger: 0) }
        try socket.connect(try #require(daemon.endpoints["ingest"]))
        // Ten frames of about 200 bytes: each is fine, together they are 2 KB.
        try socket.sendPush(producer: "big", sequence: "1", payloads: Array(repeating: line, count: 10))
        let refused = try #require(try socket.receiveMultipart(timeoutMilliseconds: 10_000))
        #expect(refused.count == 3 && refused[1] == Array("ERR".utf8), "\(refused)")
        let reason = String(decoding: refused.last ?? [], as: UTF8.self)
        #expect(reason.contains("message larger than 1024 bytes in all"), "\(reason)")
        // Four frames fit: applied.
        try socket.sendPush(producer: "big", sequence: "2", payloads: Array(repeating: line, count: 4))
        let acked = try #require(try socket.receiveMultipart(timeoutMilliseconds: 10_000))
        #expect(acked.count >= 2 && acked[1] == Array("ACK".utf8), "\(acked)")
        let push = try context.makeSocket(.push)
        defer { push.close(linger: 0) }
        try push.connect(try #require(daemon.endpoints["push"]))
        try push.sendMultipart(Array(repeating: Array(line.utf8), count: 10))
        let stats = try BinaryRunner.run(
            "vigie",
            arguments: ["status", "--stats", "--json"] + daemon.endpointArguments
        )
        let counted = eventually(seconds: 5) {
            let run = try? BinaryRunner.run(
                "vigie",
                arguments: ["status", "--stats", "--json"] + daemon.endpointArguments
            )
            let object = run.flatMap { try? JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) as? [String: Any] }
            let limits = object?["limits"] as? [String: [String: Any]]
            return limits?["message_bytes"]?["hits"] as? Int == 2 && object?["samples_accepted"] as? Int == 4
        }
        #expect(counted, "\(stats.stdout)")
    }
}
