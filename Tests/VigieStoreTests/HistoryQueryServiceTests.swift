import Foundation
import Testing
import VigieCore
import VigieTesting

@testable import VigieStore

@Suite("HistoryQueryService")
struct HistoryQueryServiceTests {
    static let kpis = [
        historyKPI("etat_civil.attente_p90", groupBy: ["site"], aggregate: .quantile(0.9)),
        historyKPI("accueil.appels", groupBy: ["site", "guichet"], aggregate: .count, unit: nil),
    ]

    /// A service over a fresh store holding two minutes of `etat_civil.attente_p90` at
    /// site nord and one of `accueil.appels`; the clock reads t0 + 1 h.
    static func service(in dir: HistoryDirectory) throws -> HistoryQueryService {
        let store = try HistoryStore(path: dir.file("h.sqlite"))
        let nord = [TagPair(key: "site", value: "nord")]
        try store.write(
            rollups: [
                KPIRollup(kpi: kpis[0].name, group: nord, minute: t0, stats: stats([(12.5, t0)], sketch: true)),
                KPIRollup(
                    kpi: kpis[0].name,
                    group: nord,
                    minute: t0 + 20 * minute,
                    stats: stats([(20, t0 + 20 * minute), (8, t0 + 20 * minute + 1)], sketch: true)
                ),
                KPIRollup(
                    kpi: kpis[1].name,
                    group: [TagPair(key: "site", value: "sud"), TagPair(key: "guichet", value: "1")],
                    minute: t0,
                    stats: stats([(1, t0)])
                ),
            ],
            events: [
                HistoryEvent(
                    ts: t0 + 5 * minute,
                    kind: .ack,
                    rule: "attente_excessive",
                    kpi: kpis[0].name,
                    group: nord,
                    actor: "marie",
                    comment: "renfort envoyé",
                    payload: "{\"note\":1}"
                ),
                HistoryEvent(ts: t0 + 6 * minute, kind: .unsilence, actor: "paul", payload: "not json"),
            ],
            position: 1
        )
        return HistoryQueryService(store: store, kpis: kpis, clock: ManualClock(t0 + hour))
    }

    /// The reply to `json` as the daemon gives it: decoded by `ControlRequest` (as on
    /// the engine thread; a refusal is the reply), then answered by the service.
    func reply(_ service: HistoryQueryService, _ json: String) -> String {
        switch ControlRequest.decode(Array(json.utf8), now: t0 + hour) {
        case .success(let request): String(decoding: service.answer(request), as: UTF8.self)
        case .failure(let refusal): String(decoding: HistoryQueryService.failure(refusal.message), as: UTF8.self)
        }
    }

    @Test("history: the reply is byte-exact, times as RFC 3339 or integer nanoseconds")
    func history() throws {
        let dir = try HistoryDirectory()
        let service = try Self.service(in: dir)
        var sketch = QuantileSketch()
        for v in [12.5, 20, 8] { sketch.add(v) }
        var p90 = JSONWriter()
        p90.number(sketch.quantile(0.9))
        let expected = """
            {"ok":true,"kpi":"etat_civil.attente_p90","unit":"min","aggregate":"p90","step_s":1800,\
            "resolution":"minute","from":"2026-06-01T00:00:00.000Z","to":"2026-06-01T01:00:00.000Z","points":[\
            {"ts":"2026-06-01T00:00:00.000Z","group":{"site":"nord"},"value":\(p90.string),"samples":3},\
            {"ts":"2026-06-01T00:30:00.000Z","group":{"site":"nord"},"value":null,"samples":0}]}
            """
        #expect(
            reply(
                service,
                #"{"op":"history","kpi":"etat_civil.attente_p90","from":"2026-06-01T00:00:00Z","to":"now","step":"30m"}"#
            ) == expected
        )
        #expect(
            reply(
                service,
                #"{"op":"history","kpi":"etat_civil.attente_p90","group":{"site":"nord"},"from":\#(t0),"to":\#(t0 + hour),"step":1800}"#
            ) == expected
        )
        // Defaults: the last 24 h, 1 h steps (hour rows).
        let defaults = reply(service, #"{"op":"history","kpi":"accueil.appels"}"#)
        let header = """
            {"ok":true,"kpi":"accueil.appels","unit":null,"aggregate":"count","step_s":3600,"resolution":"hour",\
            "from":"2026-05-31T01:00:00.000Z","to":"2026-06-01T01:00:00.000Z","points":[
            """
        let points = (0..<24).map { h in
            let ts = Timestamps.rfc3339(nanoseconds: t0 - 23 * hour + Int64(h) * hour)
            let (value, samples) = h == 23 ? ("1", 1) : ("null", 0)
            return #"{"ts":"\#(ts)","group":{"site":"sud","guichet":"1"},"value":\#(value),"samples":\#(samples)}"#
        }
        #expect(defaults == header + points.joined(separator: ",") + "]}")
        // A filter on a value no series has: no points.
        #expect(
            reply(service, #"{"op":"history","kpi":"accueil.appels","group":{"site":"nord"}}"#).hasSuffix(
                #""points":[]}"#
            )
        )
    }

    @Test(
        "history errors name the bad field",
        arguments: [
            (#"{"op":"history"}"#, #"\"kpi\" is missing"#),
            (#"{"op":"history","kpi":"etat_civil.attente_p9"}"#, #"did you mean \"etat_civil.attente_p90\"?"#),
            (#"{"op":"history","kpi":"nope"}"#, #"\"kpi\" \"nope\" is not a configured KPI: vigie status lists them"#),
            (#"{"op":"history","kpi":"accueil.appels","group":{"stie":"nord"}}"#, #"did you mean \"site\"?"#),
            (#"{"op":"history","kpi":"accueil.appels","group":["site"]}"#, #"\"group\" must be an object"#),
            (#"{"op":"history","kpi":"accueil.appels","group":{"site":3}}"#, #"tag \"site\" must have a string value"#),
            (#"{"op":"history","kpi":"accueil.appels","from":"hier"}"#, #"\"from\" \"hier\" is not a time"#),
            (#"{"op":"history","kpi":"accueil.appels","to":1.5}"#, #"\"to\" must be integer nanoseconds"#),
            (#"{"op":"history","kpi":"accueil.appels","to":true}"#, #"\"to\" must be integer nanoseconds"#),
            (#"{"op":"history","kpi":"accueil.appels","from":"now","to":"-1h"}"#, #"\"to\" must be after \"from\""#),
            (#"{"op":"history","kpi":"accueil.appels","step":"1 hour"}"#, #"\"step\" \"1 hour\" is not a duration"#),
            (#"{"op":"history","kpi":"accueil.appels","step":"30s"}"#, #"\"step\" must be a whole number of minutes"#),
            (#"{"op":"history","kpi":"accueil.appels","step":-5}"#, #"\"step\" must be a duration string"#),
            (#"{"op":"history","kpi":"accueil.appels","from":"-400d","step":"1m"}"#, #"use a larger step"#),
            (#"{"op":"events","limit":0}"#, #"\"limit\" must be an integer from 1 to 10000"#),
            (#"{"op":"events","from":"now","to":"-1d"}"#, #"\"to\" must be after"#),
            (#"{"op":"backtest"}"#, #"unknown op \"backtest\""#),
            (#"{"kpi":"x"}"#, #"missing \"op\""#),
            (#"["history"]"#, "request must be a JSON object"),
            (#"{"op":"#, "request is not valid JSON"),
        ]
    )
    func errors(request: String, fragment: String) throws {
        let dir = try HistoryDirectory()
        let text = reply(try Self.service(in: dir), request)
        #expect(text.hasPrefix(#"{"ok":false,"error":""#), "\(text)")
        #expect(text.contains(fragment), "\(text)")
    }

    @Test("events: every field, payload inlined when it is a JSON object, latest by limit")
    func events() throws {
        let dir = try HistoryDirectory()
        let service = try Self.service(in: dir)
        let ack = """
            {"id":1,"ts":"2026-06-01T00:05:00.000Z","kind":"ack","rule":"attente_excessive",\
            "kpi":"etat_civil.attente_p90","group":{"site":"nord"},"state":null,"severity":null,"value":null,\
            "threshold":null,"actor":"marie","comment":"renfort envoyé","payload":{"note":1}}
            """
        let unsilence = """
            {"id":2,"ts":"2026-06-01T00:06:00.000Z","kind":"unsilence","rule":null,"kpi":null,"group":{},\
            "state":null,"severity":null,"value":null,"threshold":null,"actor":"paul","comment":null,\
            "payload":"not json"}
            """
        #expect(reply(service, #"{"op":"events"}"#) == #"{"ok":true,"events":["# + ack + "," + unsilence + "]}")
        #expect(reply(service, #"{"op":"events","limit":1}"#) == #"{"ok":true,"events":["# + unsilence + "]}")
        #expect(
            reply(service, #"{"op":"events","from":"2026-06-01T00:00:00Z","to":\#(t0 + 6 * minute)}"#)
                == #"{"ok":true,"events":["# + ack + "]}"
        )
    }

    @Test("requests decoded elsewhere are answered alike")
    func decodedRequests() throws {
        let dir = try HistoryDirectory()
        let service = try Self.service(in: dir)
        let bytes = service.answer(.events(.init(limit: 1)))
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""kind":"unsilence""#))
        #expect(String(decoding: bytes, as: UTF8.self) == reply(service, #"{"op":"events","limit":1}"#))
    }

    @Test("JSON integers: exact values, not booleans or fractions")
    func integers() throws {
        func parse(_ json: String) -> Int64? {
            JSONValue.decode(Array("[\(json)]".utf8))?.array?.first?.integer
        }
        #expect(parse("1780272000123456789") == 1_780_272_000_123_456_789)
        #expect(parse("-5") == -5)
        #expect(parse("1.5") == nil)
        // An exponent form that names an integer is that integer (JSON numbers have no
        // integer type; JSONSerialization used to make it a double, JSONDecoder does not).
        #expect(parse("1e3") == 1_000)
        #expect(parse("1.5e1") == 15)
        #expect(parse("1e-3") == nil)
        #expect(parse("true") == nil)
        #expect(parse("1") == 1)
        #expect(parse("0") == 0)
        #expect(parse("18446744073709551615") == nil)
        #expect(parse("\"5\"") == nil)
    }

}
