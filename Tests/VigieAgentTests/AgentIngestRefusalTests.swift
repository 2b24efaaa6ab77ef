import Foundation
import Testing
import VigieAgent
import VigieCore
import VigieTesting
import ZeroMQ

/// The agent's local ingest endpoint decodes requests with the daemon's `VGI1Request`:
/// a producer meets the same refusal, word for word, whichever it talks to.
@Suite("Agent ingest refusals", .serialized)
struct AgentIngestRefusalTests {
    static let magic = Array("VGI1".utf8)

    static let requests: [(name: String, frames: [[UInt8]])] = [
        ("no command", [magic]),
        ("bad magic", [Array("VGI2".utf8), Array("PUSH".utf8)]),
        ("unknown command", [magic, Array("PULL".utf8)]),
        ("HELLO with a payload", [magic, Array("HELLO".utf8), Array("p".utf8), Array("x".utf8)]),
        ("PUSH without a payload", [magic, Array("PUSH".utf8), Array("p".utf8), Array("1".utf8)]),
        ("empty producer", [magic, Array("PUSH".utf8), [], Array("1".utf8), Array("m v=1".utf8)]),
        (
            "separator in the producer",
            [magic, Array("PUSH".utf8), [0x61, 0x1F, 0x62], Array("1".utf8), Array("m v=1".utf8)]
        ),
        ("zero sequence", [magic, Array("PUSH".utf8), Array("p".utf8), Array("0".utf8), Array("m v=1".utf8)]),
        ("sequence with a sign", [magic, Array("PUSH".utf8), Array("p".utf8), Array("+5".utf8), Array("m v=1".utf8)]),
    ]

    /// The refusal `VGI1Request` gives `frames` (routing id first), or nil when they are valid.
    static func refusal(_ frames: [[UInt8]]) -> String? {
        let arena = frames.flatMap { $0 }
        var offsets = [0]
        for frame in frames { offsets.append(offsets[offsets.count - 1] + frame.count) }
        return arena.withUnsafeBytes { raw in
            let request = VGI1Request.decode(frameCount: frames.count, truncated: false, bodyStart: 1, limit: 99) {
                UnsafeRawBufferPointer(rebasing: raw[offsets[$0]..<offsets[$0 + 1]])
            }
            if case .invalid(let refusal) = request { return refusal.message }
            return nil
        }
    }

    @Test func eachMalformedRequestGetsTheDaemonsRefusal() async throws {
        let directory = temporaryDirectory("refusals")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let context = try ZMQContext(defaultLinger: 0)
        let agent = try AgentRuntime(
            configuration: agentConfiguration(directory: directory, upstream: try freeEndpoint(context)),
            logger: testLogger(),
            healthInterval: 3_600_000_000_000,
            collectors: FixedCollectors()
        )
        let endpoints = try agent.start()
        defer { agent.stop() }
        let socket = try context.makeSocket(.dealer)
        defer { socket.close(linger: 0) }
        try socket.connect(endpoints.ingest[0])
        for (name, frames) in Self.requests {
            // What the daemon answers: the decoder's refusal (a DEALER's frames arrive after its routing id).
            let routed = [Array("id".utf8)] + frames
            let expected = Self.refusal(routed)
            try socket.sendMultipart(frames)
            let reply = try socket.receiveMultipart(timeoutMilliseconds: 3_000).flatMap { IngestReplyFrames($0) }
            #expect(reply?.command == "ERR", "\(name)")
            #expect(expected != nil, "\(name) decodes as valid")
            #expect(reply?.body["error"] as? String == expected, "\(name)")
        }
        // A valid request still goes through the same socket.
        try socket.sendPush(producer: "p", sequence: "1", payloads: ["guichet_attente value=1\n"])
        let ack = try socket.receiveMultipart(timeoutMilliseconds: 3_000).flatMap { IngestReplyFrames($0) }
        #expect(ack?.command == "ACK")
    }
}
