import Foundation
import Testing

@testable import VigieCore

@Suite("Anti-replay window")
struct AntiReplayWindowTests {
    @Test func freshThenDuplicate() {
        var w = AntiReplayWindow()
        #expect(w.verdict(for: 1) == .fresh)
        w.markApplied(1)
        #expect(w.verdict(for: 1) == .duplicate)
        #expect(w.verdict(for: 2) == .fresh)
        #expect(w.highest == 1)
    }

    @Test func outOfOrderWithinWindow() {
        var w = AntiReplayWindow()
        for s: UInt64 in [5, 3, 9, 4] { w.markApplied(s) }
        #expect(w.highest == 9)
        for s: UInt64 in [3, 4, 5, 9] { #expect(w.verdict(for: s) == .duplicate, "seq \(s)") }
        for s: UInt64 in [1, 2, 6, 7, 8, 10] { #expect(w.verdict(for: s) == .fresh, "seq \(s)") }
    }

    @Test func tooOldBeyond1024() {
        var w = AntiReplayWindow()
        w.markApplied(2_000)
        #expect(w.verdict(for: 2_000 - 1_024) == .fresh)
        #expect(w.verdict(for: 2_000 - 1_025) == .tooOld)
        w.markApplied(2_000 - 1_024)
        #expect(w.verdict(for: 2_000 - 1_024) == .duplicate)
    }

    @Test func matchesASetOverRandomOrder() {
        var rng = SplitMix(seed: 7)
        var w = AntiReplayWindow()
        var applied = Set<UInt64>()
        for _ in 0..<20_000 {
            let s = 1 + rng.next() % 3_000
            let v = w.verdict(for: s)
            if v == .tooOld {
                #expect(w.highest > s + AntiReplayWindow.size)
                continue
            }
            #expect((v == .duplicate) == applied.contains(s), "seq \(s)")
            if v == .fresh {
                w.markApplied(s)
                applied.insert(s)
            }
        }
    }

    @Test func restoresFromBitmap() {
        var w = AntiReplayWindow()
        for s: UInt64 in [10, 70, 130, 200] { w.markApplied(s) }
        let r = AntiReplayWindow(highest: w.highest, bitmap: w.bitmap)
        #expect(r == w)
        #expect(r.verdict(for: 70) == .duplicate)
        #expect(r.verdict(for: 71) == .fresh)
    }
}

@Suite("VGI1 encoding")
struct VGI1Tests {
    @Test(arguments: [
        ("1", UInt64(1)), ("42", 42), ("9223372036854775807", UInt64(Int64.max)),
    ])
    func parsesSequence(text: String, expected: UInt64) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { VGI1.parseSequence($0) } == expected)
    }

    @Test(arguments: ["", "0", "-1", "+1", "1.0", "9223372036854775808", "99999999999999999999", "12a"])
    func rejectsSequence(text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { VGI1.parseSequence($0) } == nil)
    }

    @Test func ackIsByteExact() {
        var w = JSONWriter()
        VGI1.encodeAck(
            accepted: 3,
            rejected: 1,
            duplicate: false,
            errors: [LineProtocolError(line: 2, column: 7, reason: "expected \"=\"")],
            into: &w
        )
        #expect(
            w.string
                == #"{"accepted":3,"rejected":1,"duplicate":false,"errors":[{"line":2,"column":7,"error":"expected \"=\""}]}"#
        )
        VGI1.encodeAck(accepted: 0, rejected: 0, duplicate: true, errors: [], into: &w)
        #expect(w.string == #"{"accepted":0,"rejected":0,"duplicate":true,"errors":[]}"#)
    }

    @Test func ackListsAtMost20Errors() {
        var w = JSONWriter()
        let errors = (1...30).map { LineProtocolError(line: $0, column: 1, reason: "x") }
        VGI1.encodeAck(accepted: 0, rejected: 30, duplicate: false, errors: errors, into: &w)
        #expect(w.string.split(separator: "\"line\"").count - 1 == 20)
    }

    @Test func errorBody() {
        #expect(
            String(decoding: VGI1.encodeError("sequence too old"), as: UTF8.self) == #"{"error":"sequence too old"}"#
        )
    }
}

@Suite("JSON writer")
struct JSONWriterTests {
    @Test func nestedAndEscaped() {
        var w = JSONWriter()
        w.beginObject()
        w.key("a")
        w.number(12.5)
        w.key("b")
        w.beginArray()
        w.integer(1)
        w.null()
        w.string("é\"\\\n\u{01}")
        w.endArray()
        w.key("c")
        w.beginObject()
        w.endObject()
        w.key("d")
        w.number(Double.nan)
        w.key("e")
        w.number(3.0)
        w.endObject()
        #expect(w.string == #"{"a":12.5,"b":[1,null,"é\"\\\n\u0001"],"c":{},"d":null,"e":3}"#)
    }

    @Test("runs of plain bytes between escapes are copied whole, in order")
    func escapedRuns() {
        var w = JSONWriter()
        w.string("guichet \"A\" \\ 2\tsite\u{7F}é\u{1F}fin")
        #expect(w.string == #""guichet \"A\" \\ 2\tsite\#u{7F}é\u001ffin""#)
        var bytes: [UInt8] = []
        let ill: [UInt8] = Array("ab".utf8) + [0xFF] + Array("cd".utf8)
        ill.withUnsafeBufferPointer { JSONText.appendEscaped($0, into: &bytes) }
        #expect(String(decoding: bytes, as: UTF8.self) == "ab\u{FFFD}cd")
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_700_000_000_123_456_789, "2023-11-14T22:13:20.123Z"),
        (951_782_400_000_000_000, "2000-02-29T00:00:00.000Z"),
        (-1_000_000, "1969-12-31T23:59:59.999Z"),
    ])
    func rfc3339(ns: Int64, text: String) {
        #expect(Timestamps.rfc3339(nanoseconds: ns) == text)
    }

    @Test("the byte writer agrees with Foundation's ISO 8601 formatter from 1900 to 2262")
    func rfc3339MatchesFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var random = SplitMix(seed: 3339)
        let low: Int64 = -2_208_988_800_000  // 1900-01-01, ms
        let high: Int64 = 9_214_646_400_000  // 2262-01-01, ms (Int64 nanoseconds end in April 2262)
        for _ in 0..<2_000 {
            let ms = low + Int64(random.next() % UInt64(high - low))
            let date = Date(timeIntervalSince1970: Double(ms) / 1_000)
            var w = JSONWriter()
            w.timestamp(nanoseconds: ms * 1_000_000 + 999_999)  // sub-millisecond part is cut
            let expected = formatter.string(from: date)
            #expect(w.string == "\"\(expected)\"", "at \(ms) ms")
        }
    }
}

/// Deterministic generator for property-style loops.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
