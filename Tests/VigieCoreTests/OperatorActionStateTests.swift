import Testing
import VigieCore
import VigieTesting

/// Checkpoints of acknowledgments and silences.
@Suite("Operator action state")
struct OperatorActionStateTests {
    let nord = [TagPair(key: "site", value: "nord")]
    let sud = [TagPair(key: "site", value: "sud")]

    /// A store with two acknowledgments and two silences left of three (the next id is 4).
    func filledStore() -> InMemoryOperatorActionStore {
        let store = InMemoryOperatorActionStore()
        store.acknowledge(AlertAcknowledgment(rule: "attente", group: nord, by: "marie", comment: "je regarde", at: 10))
        store.acknowledge(AlertAcknowledgment(rule: "attente", group: sud, by: "paul", comment: "", at: 20))
        store.acknowledge(AlertAcknowledgment(rule: "collecte", group: [], by: "ana", comment: "camion ✓", at: 30))
        store.clearAcknowledgment(rule: "attente", group: sud)
        _ = store.addSilence(
            matchers: [AlertMatcher(key: "rule", value: "attente"), AlertMatcher(key: "site", value: "nord")],
            startsAt: 100,
            endsAt: 5_000,
            by: "marie",
            comment: "travaux"
        )
        _ = store.addSilence(matchers: [], startsAt: 0, endsAt: 1_000, by: "paul", comment: "tout")
        _ = store.addSilence(
            matchers: [AlertMatcher(key: "kpi", value: "collecte.*")],
            startsAt: 200,
            endsAt: 9_000,
            by: "ana",
            comment: "grève"
        )
        _ = store.removeSilence(id: "s-2")
        return store
    }

    func encoded(_ store: InMemoryOperatorActionStore) -> [UInt8] {
        var writer = BinaryWriter()
        store.encodeState(into: &writer)
        return writer.bytes
    }

    func restore(_ store: InMemoryOperatorActionStore, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            try store.restoreState(from: &reader)
            #expect(reader.isAtEnd)
        }
    }

    @Test("acknowledgments, silences and the next silence id come back")
    func roundTrip() throws {
        let original = filledStore()
        let bytes = encoded(original)
        let restored = InMemoryOperatorActionStore()
        try restore(restored, bytes)
        for (rule, group) in [("attente", nord), ("attente", sud), ("collecte", []), ("autre", nord)] {
            #expect(
                restored.acknowledgment(rule: rule, group: group) == original.acknowledgment(rule: rule, group: group)
            )
        }
        #expect(restored.acknowledgment(rule: "collecte", group: [])?.comment == "camion ✓")
        #expect(restored.silences(now: 150) == original.silences(now: 150))
        #expect(restored.silences(now: 150).map(\.id) == ["s-1", "s-3"])
        #expect(encoded(restored) == bytes)
        let next = restored.addSilence(matchers: [], startsAt: 0, endsAt: 10, by: "x", comment: "")
        #expect(next.id == original.addSilence(matchers: [], startsAt: 0, endsAt: 10, by: "x", comment: "").id)
        #expect(next.id == "s-4")
    }

    @Test("restoring replaces what the store held; corrupt input throws and changes nothing")
    func replacesOrThrows() throws {
        let bytes = encoded(filledStore())
        let store = InMemoryOperatorActionStore()
        store.acknowledge(AlertAcknowledgment(rule: "vieux", group: [], by: "x", comment: "", at: 1))
        try restore(store, bytes)
        #expect(store.acknowledgment(rule: "vieux", group: []) == nil)

        let kept = encoded(store)
        for cut in 0..<bytes.count {
            #expect(throws: BinaryDecodingError.self) { try restore(store, Array(bytes[..<cut])) }
        }
        var rng = SeededGenerator(seed: 31)
        for _ in 0..<500 {
            var flipped = bytes
            let i = Int.random(in: 0..<flipped.count, using: &rng)
            flipped[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            let target = filledStore()
            let restored: Void? = try? flipped.withUnsafeBytes { raw in
                var reader = BinaryReader(raw)
                try target.restoreState(from: &reader)
            }
            if restored == nil {
                #expect(encoded(target) == kept)
            }
            _ = target.silences(now: 150)
            _ = target.addSilence(matchers: [], startsAt: 0, endsAt: 1, by: "", comment: "")
        }
    }
}
