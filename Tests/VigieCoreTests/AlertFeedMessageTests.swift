import Testing

@testable import VigieCore

@Suite("Alert feed message")
struct AlertFeedMessageTests {
    @Test func byteExact() {
        let m = AlertFeedMessage(
            rule: "attente_excessive",
            kpi: "etat_civil.attente_p90",
            group: [TagPair(key: "site", value: "nord")],
            state: .firing,
            severity: "warning",
            value: 31.5,
            threshold: 30,
            since: 0,
            message: "Attente p90 de 31.5 min au site nord",
            reason: "threshold",
            flapping: false,
            acknowledgment: AlertAcknowledgment(
                rule: "attente_excessive",
                group: [],
                by: "marie",
                comment: "vu",
                at: 0
            ),
            silence: nil,
            ts: 1_000_000
        )
        var w = JSONWriter()
        m.encode(seq: 7, epoch: "e1", into: &w)
        #expect(
            w.string
                == #"{"type":"alert","rule":"attente_excessive","kpi":"etat_civil.attente_p90","group":{"site":"nord"},"#
                + #""state":"firing","severity":"warning","value":31.5,"threshold":30,"since":"1970-01-01T00:00:00.000Z","#
                + #""message":"Attente p90 de 31.5 min au site nord","reason":"threshold","flapping":false,"#
                + #""acknowledged":true,"acknowledged_by":"marie","ack_comment":"vu","silenced":false,"silence_id":null,"#
                + #""silenced_until":null,"ts":"1970-01-01T00:00:00.001Z","seq":7,"epoch":"e1"}"#
        )
    }
}
