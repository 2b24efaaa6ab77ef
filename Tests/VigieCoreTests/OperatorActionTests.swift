import Testing

@testable import VigieCore

@Suite("Acknowledgments and silences")
struct OperatorActionTests {
    let nord = [TagPair(key: "site", value: "nord")]
    let sud = [TagPair(key: "site", value: "sud")]

    @Test(arguments: [
        ("rule=attente", true), ("rule=attente*", true), ("rule=att*", true), ("rule=other", false),
        ("kpi=etat_civil.attente_p90", true), ("kpi=etat_civil.*", true), ("severity=warning", true),
        ("severity=critical", false), ("site=nord", true), ("site=sud", false), ("quartier=x", false),
    ])
    func matcher(text: String, expected: Bool) throws {
        let m = try #require(AlertMatcher(parsing: text))
        #expect(m.matches(rule: "attente", kpi: "etat_civil.attente_p90", severity: "warning", group: nord) == expected)
    }

    @Test(arguments: ["", "=", "rule=", "=x", "rule"])
    func badMatcher(text: String) {
        #expect(AlertMatcher(parsing: text) == nil)
    }

    @Test func silenceCoversOnlyWhileActiveAndMatching() {
        let store = InMemoryOperatorActionStore()
        let s = store.addSilence(
            matchers: [AlertMatcher(key: "rule", value: "attente"), AlertMatcher(key: "site", value: "nord")],
            startsAt: 100,
            endsAt: 200,
            by: "marie",
            comment: "travaux"
        )
        #expect(s.id == "s-1")
        #expect(store.silence(rule: "attente", kpi: "k", severity: "warning", group: nord, now: 150)?.id == "s-1")
        #expect(store.silence(rule: "attente", kpi: "k", severity: "warning", group: sud, now: 150) == nil)
        #expect(store.silence(rule: "attente", kpi: "k", severity: "warning", group: nord, now: 99) == nil)
        #expect(store.silence(rule: "attente", kpi: "k", severity: "warning", group: nord, now: 200) == nil)
        #expect(store.silences(now: 300).isEmpty, "expired silences are dropped")
        let t = store.addSilence(matchers: [], startsAt: 0, endsAt: 1_000, by: "paul", comment: "")
        #expect(t.id == "s-2")
        #expect(store.removeSilence(id: "s-2") == t)
        #expect(store.removeSilence(id: "s-2") == nil)
    }

    @Test func acknowledgmentIsPerRuleAndGroup() {
        let store = InMemoryOperatorActionStore()
        store.acknowledge(AlertAcknowledgment(rule: "attente", group: nord, by: "marie", comment: "vu", at: 5))
        #expect(store.acknowledgment(rule: "attente", group: nord)?.by == "marie")
        #expect(store.acknowledgment(rule: "attente", group: sud) == nil)
        store.clearAcknowledgment(rule: "attente", group: nord)
        #expect(store.acknowledgment(rule: "attente", group: nord) == nil)
    }
}
