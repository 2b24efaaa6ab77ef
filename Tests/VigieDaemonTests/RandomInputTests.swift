import Foundation
import Testing
import VigieCore
import VigieTesting
import ZeroMQ

@Suite("Random bytes on every socket")
struct RandomInputTests {
    /// Random multipart messages, biased towards almost-valid VGI1 requests.
    static func randomMessage(_ rng: inout SeededGenerator) -> [[UInt8]] {
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        let pieces: [[UInt8]] = [
            Array("VGI1".utf8), Array("PUSH".utf8), Array("HELLO".utf8), Array("p".utf8), Array("1".utf8),
            Array("guichet_attente,site=a value=1\n".utf8), Array("m,t=\u{FFFD} v=\"é\" 1\n".utf8), [], [0xFF, 0xFE],
        ]
        let frames = Int(rng.next() % 7) + 1
        return (0..<frames).map { _ in
            rng.next() % 3 == 0 ? bytes(Int(rng.next() % 200)) : pieces[Int(rng.next() % UInt64(pieces.count))]
        }
    }

    @Test func daemonAnswersOrCountsEverything() async throws {
        let h = try DaemonHarness(toml: waitKPIs)
        var rng = SeededGenerator(seed: 2_026)
        let ingest = try h.ingestSocket()
        let push = try h.context.makeSocket(.push)
        try push.setLinger(1_000)
        try push.connect(h.endpoints.push[0])
        let control = try h.context.makeSocket(.dealer)
        try control.setLinger(0)
        try control.connect(h.endpoints.control[0])
        let count = 1_500
        for _ in 0..<count {
            try ingest.sendMultipart(Self.randomMessage(&rng))
            try push.sendMultipart(Self.randomMessage(&rng))
            try control.sendMultipart(Self.randomMessage(&rng))
        }
        // Every ingest request gets exactly one reply (ACK, WELCOME or ERR).
        var replies = 0
        while replies < count, let frames = try ingest.receiveMultipart(timeoutMilliseconds: 5_000) {
            #expect(IngestReplyFrames(frames) != nil)
            replies += 1
        }
        #expect(replies == count)
        // The daemon still serves a well-formed request afterwards.
        try ingest.sendPush(producer: "after-noise", sequence: "1", payloads: ["guichet_attente value=5\n"])
        let ok = try #require(try ingest.receiveMultipart(timeoutMilliseconds: 5_000))
        #expect(IngestReplyFrames(ok)?.command == "ACK")
        let stats = try h.control(#"{"op":"stats"}"#)
        #expect(stats["ok"] as? Bool == true)
        #expect((stats["frames_invalid"] as? Int ?? 0) > 0)
        #expect((stats["control_errors"] as? Int ?? 0) > 0)
        ingest.close(linger: 0)
        push.close(linger: 0)
        control.close(linger: 0)
        await h.stop()
    }
}
