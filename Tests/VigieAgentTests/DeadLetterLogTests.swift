import Foundation
import Testing

@testable import VigieAgent

/// The dead-letter file is bounded (issue 15, defect 9): payloads are cut, and a full
/// file is rotated once, so a daemon refusing everything cannot fill the disk.
@Suite struct DeadLetterLogTests {
    @Test func entriesAreCutAndTheFileRotates() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var log = DeadLetterLog(path: dir.file("dead-letter.log"))
        log.maxFileBytes = 4_096
        log.maxPayloadBytes = 100
        let payload = [Array(repeating: UInt8(ascii: "x"), count: 1_000)]
        for sequence in 1...40 {
            try log.append(sequence: UInt64(sequence), receivedAt: 0, reason: "bad", payload: payload)
        }
        let current = try #require(FileManager.default.contents(atPath: dir.file("dead-letter.log")))
        let previous = try #require(FileManager.default.contents(atPath: dir.file("dead-letter.log.1")))
        #expect(current.count < 4_096 + 400 && previous.count < 4_096 + 400, "\(current.count) \(previous.count)")
        let last = try #require(String(decoding: current, as: UTF8.self).split(separator: "\n").last)
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(entry["sequence"] as? Int == 40)
        #expect((entry["payload"] as? String)?.count == 100)
        #expect(entry["payload_truncated_bytes"] as? Int == 900)
    }
}

/// A collector that stops waiting abandons its batch: the loop skips it, so lines the
/// collector reads again are never spooled twice.
@Suite struct SubmissionCompletionTests {
    @Test func anAbandonedBatchIsNotTakenAndATakenOneIsWaitedFor() async throws {
        let abandoned = AgentRuntime.Completion()
        #expect(abandoned.wait(nanoseconds: 1_000_000) == false)
        #expect(abandoned.take() == false)

        let taken = AgentRuntime.Completion()
        #expect(taken.take())
        let finisher = Task.detached {
            try await Task.sleep(for: .milliseconds(50))
            taken.finish(spooled: true)
        }
        // The timeout passes while the loop is spooling it: the outcome is still awaited.
        #expect(taken.wait(nanoseconds: 1_000_000) == true)
        try await finisher.value
    }
}
