import Testing
import VigieCore

/// Logged records become history events through the same typed JSON as control requests.
struct HistoryEventLogTests {
    static func event(operator json: String, at ts: Int64 = 7) -> HistoryEvent? {
        Array(json.utf8).withUnsafeBytes { HistoryEvent(operatorRequest: $0, at: ts) }
    }

    @Test func anAckNamesItsRuleGroupAuthorAndComment() throws {
        let event = try #require(
            Self.event(
                operator:
                    #"{"op":"ack","rule":"longue","group":{"site":"nord","guichet":"2"},"by":"marie","comment":"vu"}"#
            )
        )
        #expect(event.kind == .ack)
        #expect(event.ts == 7)
        #expect(event.rule == "longue")
        #expect(event.group == [TagPair(key: "guichet", value: "2"), TagPair(key: "site", value: "nord")])
        #expect(event.actor == "marie")
        #expect(event.comment == "vu")
    }

    @Test func aSilenceKeepsItsMatchersAndDurationAsCanonicalJSON() throws {
        let event = try #require(
            Self.event(operator: #"{"op":"silence","by":"paul","for":"2h","matchers":["kpi=a/b"],"comment":null}"#)
        )
        #expect(event.kind == .silence)
        #expect(event.payload == #"{"for":"2h","matchers":["kpi=a/b"]}"#)
        #expect(event.comment == nil)
        let unsilence = try #require(Self.event(operator: #"{"op":"unsilence","id":"s-3","by":"paul"}"#))
        #expect(unsilence.payload == #"{"silence_id":"s-3"}"#)
    }

    @Test func otherRequestsAndNonJSONAreNotEvents() {
        #expect(Self.event(operator: #"{"op":"snapshot"}"#) == nil)
        #expect(Self.event(operator: #"{"rule":"x"}"#) == nil)
        #expect(Self.event(operator: "ack") == nil)
    }

    @Test func anAlertBodyBecomesAnAlertEvent() throws {
        let body =
            #"{"type":"alert","rule":"longue","kpi":"attente","group":{"site":"nord"},"state":"firing","severity":"warning","value":45,"threshold":30.5,"since":"2026-12-07T08:00:00Z","message":"m","reason":"threshold","flapping":false,"ts":"2026-12-07T08:00:01Z"}"#
        let event = try #require(Array(body.utf8).withUnsafeBytes { HistoryEvent(alertFeedBody: $0) })
        #expect(event.kind == .alert)
        #expect(event.state == "firing")
        #expect(event.value == 45)
        #expect(event.threshold == 30.5)
        #expect(event.ts == Timestamps.parseRFC3339("2026-12-07T08:00:01Z"))
        #expect(
            event.payload == #"{"flapping":false,"message":"m","reason":"threshold","since":"2026-12-07T08:00:00Z"}"#
        )
        #expect(Array(#"{"rule":"x"}"#.utf8).withUnsafeBytes { HistoryEvent(alertFeedBody: $0) } == nil)
    }
}
