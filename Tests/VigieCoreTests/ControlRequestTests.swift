import Testing
import VigieCore

/// Control requests are decoded to typed values, every field checked and bounded,
/// before anything reads them.
struct ControlRequestTests {
    static let now: Int64 = 1_800_000_000_000_000_000

    static func decode(_ json: String) -> Result<ControlRequest, ControlRequest.Refusal> {
        ControlRequest.decode(Array(json.utf8), now: now)
    }

    static let acceptedCases: [(String, ControlRequest)] = [
        (#"{"op":"snapshot"}"#, .snapshot(prefix: nil)),
        (#"{"op":"snapshot","prefix":null}"#, .snapshot(prefix: nil)),
        (#"{"op":"snapshot","prefix":"etat_civil."}"#, .snapshot(prefix: "etat_civil.")),
        (#"{"op":"stats","extra":[1,2,{"x":null}]}"#, .stats),
        (#"{"op":"metrics","hand_over":true}"#, .metrics(handOver: true)),
        (#"{"op":"metrics","hand_over":"yes"}"#, .metrics(handOver: false)),
        (#"{"op":"unsilence","id":"s-1"}"#, .operatorAction(.unsilence(id: "s-1"))),
        (
            #"{"op":"history","kpi":"k","group":{"site":"nord"},"from":"-7d","to":1800000000000000000,"step":"15m"}"#,
            .history(
                .init(
                    kpi: "k",
                    group: ["site": "nord"],
                    from: .text("-7d"),
                    to: .nanoseconds(1_800_000_000_000_000_000),
                    step: 900_000_000_000
                )
            )
        ),
        (#"{"op":"history","kpi":"k","step":3600}"#, .history(.init(kpi: "k", step: 3_600_000_000_000))),
        (#"{"op":"events","limit":10000}"#, .events(.init(limit: 10_000))),
        (#"{"op":"events","from":null}"#, .events(.init())),
    ]

    @Test(arguments: acceptedCases)
    func accepted(_ json: String, _ expected: ControlRequest) {
        #expect(Self.decode(json) == .success(expected))
        if case .success(let request) = Self.decode(json) {
            #expect(json.contains(#""op":"\#(request.op)""#))
        }
    }

    @Test(arguments: acceptedCases)
    func whatAClientSendsDecodesToTheSameRequest(_ json: String, _ request: ControlRequest) {
        #expect(ControlRequest.decode(request.jsonBytes, now: Self.now) == .success(request))
    }

    @Test func operatorActionsRoundTripWithTheirDurationAndMatchers() {
        let requests: [ControlRequest] = [
            .operatorAction(.ack(rule: "r", group: ["site": "a=b"], by: "m", comment: "vu")),
            .operatorAction(.ack(rule: "r", group: [:], by: "m", comment: "")),
            .operatorAction(
                .silence(
                    matchers: [AlertMatcher(key: "kpi", value: "a/b=c")],
                    duration: 5_400_000_000_000,
                    by: "p",
                    comment: ""
                )
            ),
            .events(.init(from: .text("-7d"), to: .text("now"), limit: 3)),
        ]
        for request in requests {
            #expect(ControlRequest.decode(request.jsonBytes, now: Self.now) == .success(request))
        }
    }

    static let refusedCases: [(String, String)] = [
        ("", "request is not valid JSON"),
        ("{\"op\":", "request is not valid JSON"),
        (#"["op","stats"]"#, "request must be a JSON object"),
        (#""stats""#, "request must be a JSON object"),
        (#"{"op":7}"#, "missing \"op\""),
        (#"{"kpi":"x"}"#, "missing \"op\""),
        (#"{"op":"freeze","seconds":10}"#, "unknown op \"freeze\""),
        (#"{"op":"snapshot","prefix":5}"#, "\"prefix\" must be a string"),
        (#"{"op":"ack","by":"m"}"#, "ack needs \"rule\""),
        (#"{"op":"silence","matchers":["rule=x"],"for":"99999999999999999999d","by":"a"}"#, "not a duration"),
        (#"{"op":"history"}"#, "\"kpi\" is missing"),
        (#"{"op":"history","kpi":"k","group":["site"]}"#, "\"group\" must be an object"),
        (#"{"op":"history","kpi":"k","group":{"site":1}}"#, "tag \"site\" must have a string value"),
        (#"{"op":"history","kpi":"k","from":"hier"}"#, "\"from\" \"hier\" is not a time"),
        (#"{"op":"history","kpi":"k","to":1.5}"#, "\"to\" must be integer nanoseconds"),
        (#"{"op":"history","kpi":"k","to":true}"#, "\"to\" must be integer nanoseconds"),
        (#"{"op":"history","kpi":"k","step":-5}"#, "\"step\" must be a duration string"),
        (#"{"op":"history","kpi":"k","step":99999999999}"#, "\"step\" must be a duration string"),
        (#"{"op":"history","kpi":"k","step":"5 minutes"}"#, "\"step\""),
        (#"{"op":"events","limit":0}"#, "\"limit\" must be an integer from 1 to 10000"),
        (#"{"op":"events","limit":10001}"#, "\"limit\" must be an integer from 1 to 10000"),
        (#"{"op":"events","limit":2.5}"#, "\"limit\" must be an integer"),
    ]

    @Test(arguments: refusedCases)
    func refused(_ json: String, _ reason: String) {
        guard case .failure(let refusal) = Self.decode(json) else {
            Issue.record("\(json) was accepted")
            return
        }
        #expect(refusal.message.contains(reason), "\(refusal.message)")
    }

    @Test func theOpIsReadBeforeTheFieldsAreChecked() throws {
        // A socket's access is decided on the op alone: a malformed ack is still an ack.
        guard case .success(let parsed) = ControlRequest.parse(Array(#"{"op":"ack","rule":[]}"#.utf8)) else {
            Issue.record("not parsed")
            return
        }
        #expect(parsed.op == "ack")
        #expect(ControlRequest.operatorOperations.contains(parsed.op))
        #expect(
            ControlRequest.decode(op: parsed.op, parsed.body, now: Self.now) == .failure(.init("ack needs \"rule\""))
        )
    }

    @Test func relativeTimesResolveWhenTheQueryRuns() {
        let point = ControlRequest.TimePoint.text("-1h")
        #expect(point.resolve(now: Self.now) == Self.now - 3_600_000_000_000)
        #expect(ControlRequest.TimePoint.nanoseconds(5).resolve(now: Self.now) == 5)
    }
}
