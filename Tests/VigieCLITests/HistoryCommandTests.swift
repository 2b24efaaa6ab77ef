import ArgumentParser
import Foundation
import Testing
import VigieCore

@testable import VigieCLI

/// 2026-06-01T00:00:00Z.
let t0: Int64 = 1_780_272_000_000_000_000
let hour: Int64 = 3_600_000_000_000
let day: Int64 = 24 * hour

/// A request as it goes on the wire, as a JSON object.
func decoded(_ json: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
}

/// A reply as the daemon sends it, decoded the way the commands decode it.
func decodedReply<R: Decodable>(_ type: R.Type, _ json: String) throws -> R {
    try ControlReply.decode(type, from: Array(json.utf8)).get()
}

/// An empty `history` reply for KPI `kpi`.
func emptyHistory(_ kpi: String) -> String {
    """
    {"ok":true,"kpi":"\(kpi)","unit":null,"aggregate":"mean","step_s":3600,"resolution":"hour",\
    "from":"2026-06-01T00:00:00.000Z","to":"2026-06-01T02:00:00.000Z","points":[]}
    """
}

@Suite("vigie history and vigie events")
struct HistoryCommandTests {
    @Test("--from and --to: relative, now, dates and RFC 3339, sent as integer nanoseconds")
    func timeArguments() throws {
        let command = try HistoryCommand.parse(["etat_civil.attente_p90", "--group", "site=nord", "--from", "-7d"])
        let request = try command.request(now: t0)
        #expect(
            request
                == .history(
                    .init(
                        kpi: "etat_civil.attente_p90",
                        group: ["site": "nord"],
                        from: .nanoseconds(t0 - 7 * day),
                        to: .nanoseconds(t0),
                        step: hour
                    )
                )
        )
        // On the wire: integer nanoseconds, the step as duration text.
        let wire = try decoded(String(decoding: request.jsonBytes, as: UTF8.self))
        #expect(wire["op"] as? String == "history")
        #expect(wire["from"] as? Int64 == t0 - 7 * day)
        #expect(wire["step"] as? String == "1h")
        #expect(wire["group"] as? [String: String] == ["site": "nord"])

        let defaults = try HistoryCommand.parse(["k"]).request(now: t0)
        #expect(defaults == .history(.init(kpi: "k", from: .nanoseconds(t0 - day), to: .nanoseconds(t0), step: hour)))

        let dates = try HistoryCommand.parse([
            "k", "--from", "2026-05-01", "--to", "2026-06-01T11:00:00+11:00", "--step", "1d",
        ])
        .request(now: t0)
        #expect(dates == .history(.init(kpi: "k", from: .nanoseconds(t0 - 31 * day), to: .nanoseconds(t0), step: day)))
    }

    @Test(
        "bad arguments are usage errors (exit 64) that say what would work",
        arguments: [
            (["k", "--from", "yesterday"], "--from 'yesterday' is not a time: use now, -7d"),
            (["k", "--to", "2026-02-30"], "--to '2026-02-30' is not a time"),
            (["k", "--from", "now", "--to", "-1h"], "must be after --from"),
            (["k", "--step", "30s"], "--step '30s' is shorter than 1m"),
            (["k", "--step", "hourly"], "--step: \"hourly\" is not a duration"),
            (["k", "--step", "2562047h"], "--step: \"2562047h\" is longer than 36500d"),
            (["k", "--group", "site"], "--group 'site' must be key=value"),
            (["k", "--csv", "--json"], "choose one of --csv and --json"),
        ]
    )
    func usageErrors(arguments: [String], message: String) {
        do {
            _ = try HistoryCommand.parseAsRoot(arguments)
            Issue.record("\(arguments) parsed")
        } catch {
            #expect(HistoryCommand.exitCode(for: error).rawValue == 64)
            #expect(HistoryCommand.message(for: error).contains(message), "\(HistoryCommand.message(for: error))")
        }
    }

    @Test("events: defaults to the last 7 days and 100 events; --limit is checked")
    func eventsArguments() throws {
        let request = try EventsCommand.parse([]).request(now: t0)
        #expect(request == .events(.init(from: .nanoseconds(t0 - 7 * day), to: .nanoseconds(t0), limit: 100)))
        #expect(throws: (any Error).self) { _ = try EventsCommand.parseAsRoot(["--limit", "0"]) }
        #expect(throws: (any Error).self) { _ = try EventsCommand.parseAsRoot(["--from", "then"]) }
    }

    static let reply = """
        {"ok":true,"kpi":"accueil.taux","unit":"ratio","aggregate":"ratio","step_s":3600,"resolution":"hour",\
        "from":"2026-06-01T00:00:00.000Z","to":"2026-06-01T02:00:00.000Z","points":[\
        {"ts":"2026-06-01T00:00:00.000Z","group":{"site":"nord","guichet":"1"},"value":0.8534,"samples":41},\
        {"ts":"2026-06-01T01:00:00.000Z","group":{"site":"nord","guichet":"1"},"value":null,"samples":0},\
        {"ts":"2026-06-01T00:00:00.000Z","group":{"site":"sud, est","guichet":"\\"2\\""},"value":1,"samples":3}]}
        """

    @Test("table: time, group, value with its unit, samples")
    func table() throws {
        let text = HistoryCommand.renderTable(try decodedReply(ControlReply.History.self, Self.reply))
        let lines = text.split(separator: "\n").map { $0.replacingOccurrences(of: "\u{1B}[1m", with: "") }
            .map { $0.replacingOccurrences(of: "\u{1B}[0m", with: "") }
        #expect(
            lines == [
                "Time (UTC)                Group                      Value    Samples",
                "2026-06-01T00:00:00.000Z  guichet=1 site=nord        85.3 %   41     ",
                "2026-06-01T01:00:00.000Z  guichet=1 site=nord        —        0      ",
                "2026-06-01T00:00:00.000Z  guichet=\"2\" site=sud, est  100.0 %  3      ",
            ]
        )
        #expect(
            HistoryCommand.renderTable(try decodedReply(ControlReply.History.self, emptyHistory("k")))
                == "no history for k in that range\n"
        )
    }

    @Test("CSV: one column per group tag, exact values, empty when unknown, quoted when needed")
    func csv() throws {
        #expect(
            HistoryCommand.renderCSV(try decodedReply(ControlReply.History.self, Self.reply))
                == """
                ts,guichet,site,value,samples
                2026-06-01T00:00:00.000Z,1,nord,0.8534,41
                2026-06-01T01:00:00.000Z,1,nord,,0
                2026-06-01T00:00:00.000Z,\"\"\"2\"\"\",\"sud, est\",1,3

                """
        )
        #expect(
            HistoryCommand.renderCSV(try decodedReply(ControlReply.History.self, emptyHistory("k")))
                == "ts,value,samples\n"
        )
    }

    @Test("events table")
    func eventsTable() throws {
        let events = try decodedReply(
            ControlReply.Events.self,
            """
            {"ok":true,"events":[\
            {"id":1,"ts":"2026-06-01T00:05:00.000Z","kind":"alert","rule":"attente","kpi":"etat_civil.attente_p90",\
            "group":{"site":"nord"},"state":"firing","severity":"warning","value":31.5,"threshold":30,"actor":null,\
            "comment":null,"payload":{"message":"m"}},\
            {"id":2,"ts":"2026-06-01T00:06:00.000Z","kind":"ack","rule":"attente","kpi":null,"group":{},\
            "state":null,"severity":null,"value":null,"threshold":null,"actor":"marie","comment":"renfort","payload":null}]}
            """
        )
        let lines = EventsCommand.render(events).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(
            lines[1].hasPrefix("2026-06-01T00:05:00.000Z  alert  attente  etat_civil.attente_p90  site=nord  firing")
        )
        #expect(lines[1].contains("31.50 / 30"))
        #expect(lines[2].contains("marie  renfort"))
        #expect(
            EventsCommand.render(try decodedReply(ControlReply.Events.self, #"{"ok":true,"events":[]}"#))
                == "no events in that range\n"
        )
    }
}
