import Foundation
import Testing
import VigieCore

/// Mutating control requests are decoded and bounded before they are logged.
@Suite struct OperatorRequestTests {
    static let now: Int64 = 1_800_000_000_000_000_000

    static func parse(
        _ op: String,
        _ object: [String: Any],
        now: Int64 = now
    ) -> Result<OperatorRequest, OperatorRequest.Refusal> {
        // As the daemon reads it: the request's JSON, decoded to typed values.
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        let body = JSONValue.decode(Array(data))?.object ?? [:]
        return OperatorRequest.parse(op: op, body, now: now)
    }

    @Test func aSilenceIsDecoded() {
        let result = Self.parse(
            "silence",
            ["matchers": ["rule=x", ["key": "site", "value": "nord"]], "for": "2h", "by": "paul"]
        )
        #expect(
            result
                == .success(
                    .silence(
                        matchers: [AlertMatcher(key: "rule", value: "x"), AlertMatcher(key: "site", value: "nord")],
                        duration: 7_200_000_000_000,
                        by: "paul",
                        comment: ""
                    )
                )
        )
    }

    @Test func aSilenceEndingPastTheLastRepresentableTimeIsRefused() {
        let late = Int64.max - 3_600_000_000_000
        let result = Self.parse("silence", ["matchers": ["rule=x"], "for": "2h", "by": "a"], now: late)
        guard case .failure(let refusal) = result else {
            Issue.record("accepted: \(result)")
            return
        }
        #expect(refusal.message.contains("last representable time"))
    }

    @Test(arguments: [
        (#"{"matchers":["rule=x"],"for":"100000d","by":"a"}"#, "longer than 36500d"),
        (#"{"matchers":["rule=x"],"for":"0s","by":"a"}"#, "is not a duration"),
        (#"{"matchers":["rule=x"],"for":"1h"}"#, "needs \"by\""),
        (#"{"matchers":["x"],"for":"1h","by":"a"}"#, "key=value"),
        (#"{"matchers":["rule=x"],"for":"1h","by":"a","comment":7}"#, "\"comment\" must be a string"),
    ])
    func badSilencesAreRefused(json: String, reason: String) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        guard case .failure(let refusal) = Self.parse("silence", object) else {
            Issue.record("accepted \(json)")
            return
        }
        #expect(refusal.message.contains(reason), "\(refusal.message)")
    }

    @Test func oversizedSilencesAreRefused() {
        let many = Self.parse("silence", ["matchers": Array(repeating: "rule=x", count: 65), "for": "1h", "by": "a"])
        #expect(many == .failure(.init("a silence has at most 64 matchers")))
        let long = Self.parse(
            "silence",
            ["matchers": ["rule=x"], "for": "1h", "by": String(repeating: "a", count: 5_000)]
        )
        #expect(long == .failure(.init("\"by\" is longer than 4096 bytes")))
    }

    @Test func acksAndUnsilencesAreDecoded() {
        #expect(
            Self.parse("ack", ["rule": "r", "by": "m", "group": ["site": "nord"], "comment": "vu"])
                == .success(.ack(rule: "r", group: ["site": "nord"], by: "m", comment: "vu"))
        )
        #expect(Self.parse("unsilence", ["id": "s-1"]) == .success(.unsilence(id: "s-1")))
        #expect(Self.parse("unsilence", ["id": 1]) == .failure(.init("unsilence needs \"id\"")))
        #expect(Self.parse("ack", ["rule": "r"]) == .failure(.init("ack needs \"by\": who acknowledges")))
    }
}
