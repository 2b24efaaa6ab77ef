import Testing
import VigieCore

/// The ingest request decoder the daemon runs on every message (and the fuzzer feeds).
@Suite("VGI1 request decoding")
struct VGI1RequestTests {
    /// Decodes `frames` as received (routing id first), with the daemon's frame limit.
    static func decode(_ frames: [String], truncated: Bool = false) -> VGI1Request {
        let bytes = frames.map { Array($0.utf8) }
        let start = VGI1Request.bodyStart(
            frameCount: bytes.count,
            secondFrameIsEmpty: bytes.count > 1 && bytes[1].isEmpty
        )
        var calls: [Int] = []
        let result = VGI1Request.decode(frameCount: bytes.count, truncated: truncated, bodyStart: start, limit: 64) {
            i in
            calls.append(i)
            return bytes[i].withUnsafeBytes { $0 }  // the arrays outlive the call
        }
        // It never looks at the routing id or the payloads.
        #expect(calls.allSatisfy { $0 >= start && $0 <= start + 3 })
        return result
    }

    @Test func pushAndHelloFromDealerAndREQClients() {
        #expect(Self.decode(["id", "VGI1", "PUSH", "p", "42", "m value=1\n"]) == .push(sequence: 42))
        #expect(Self.decode(["id", "", "VGI1", "PUSH", "p", "7", "a", "b"]) == .push(sequence: 7))
        #expect(Self.decode(["id", "VGI1", "HELLO", "agent-nord"]) == .hello)
        #expect(Self.decode(["id", "", "VGI1", "HELLO", "agent-nord"]) == .hello)
    }

    @Test(arguments: [
        (["id"], VGI1Request.Refusal.missingCommand),
        (["id", "VGI1"], .missingCommand),
        (["id", "VGI2", "PUSH", "p", "1", "x"], .badMagic),
        (["id", "vgi1", "HELLO", "p"], .badMagic),
        (["id", "VGI1", "PULL", "p", "1", "x"], .unknownCommand("PULL")),
        (["id", "VGI1", "HELLO"], .helloFrames),
        (["id", "VGI1", "HELLO", "p", "extra"], .helloFrames),
        (["id", "VGI1", "PUSH", "p", "1"], .pushFrames),
        (["id", "VGI1", "PUSH", "mairie\u{1F}cron", "1", "x"], .producerSeparator),
        (["id", "VGI1", "HELLO", "\u{1F}"], .producerSeparator),
        (["id", "VGI1", "PUSH", "", "1", "x"], .producerLength),
        (["id", "VGI1", "HELLO", String(repeating: "p", count: 129)], .producerLength),
        (["id", "VGI1", "PUSH", "p", "0", "x"], .badSequence),
        (["id", "VGI1", "PUSH", "p", "9223372036854775808", "x"], .badSequence),
        (["id", "VGI1", "PUSH", "p", " 1", "x"], .badSequence),
    ])
    func refusesWithAReason(frames: [String], refusal: VGI1Request.Refusal) {
        #expect(Self.decode(frames) == .invalid(refusal))
    }

    @Test func truncatedMessagesAreRefusedFirst() {
        #expect(
            Self.decode(["id", "VGI1", "PUSH", "p", "1", "x"], truncated: true) == .invalid(.tooManyFrames(limit: 64))
        )
        #expect(VGI1Request.Refusal.tooManyFrames(limit: 64).message == "too many frames (more than 64)")
    }

    @Test func unknownCommandTextIsCutAt32Bytes() {
        let long = String(repeating: "X", count: 100)
        guard case .invalid(let refusal) = Self.decode(["id", "VGI1", long, "p"]) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.message == "unknown command \"\(String(repeating: "X", count: 32))\" (expected PUSH or HELLO)")
    }

    @Test func longestProducerIdIsAccepted() {
        #expect(
            Self.decode(["id", "VGI1", "PUSH", String(repeating: "p", count: 128), "1", "x"]) == .push(sequence: 1)
        )
    }
}
