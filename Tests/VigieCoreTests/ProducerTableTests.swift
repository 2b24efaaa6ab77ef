import Testing
import VigieCore

/// Admission of acknowledged batches, decided by ``ProducerTable`` alone: no sockets,
/// no log, a hand-moved clock.
struct ProducerTableTests {
    static let second: Int64 = 1_000_000_000

    static func table(
        maxProducers: Int = 4,
        maxPerKey: Int = 2,
        maxInFlight: Int = 2,
        idle: Int64 = 3_600 * second,
        floor: Int64 = 10 * second
    ) -> ProducerTable {
        ProducerTable(
            limits: .init(
                maxProducers: maxProducers,
                maxPerKey: maxPerKey,
                maxInFlight: maxInFlight,
                idle: idle,
                evictionFloor: floor
            ),
            now: 0
        )
    }

    static func admit(
        _ table: inout ProducerTable,
        _ id: String,
        _ sequence: UInt64,
        at now: Int64
    )
        -> ProducerTable.Admission
    {
        Array(id.utf8).withUnsafeBytes { table.admit(producer: $0, sequence: sequence, now: now) }
    }

    /// Admits and applies `sequence`, as the ingest server does with a logged batch.
    static func apply(_ table: inout ProducerTable, _ id: String, _ sequence: UInt64, at now: Int64) {
        guard case .apply(let slot) = admit(&table, id, sequence, at: now) else {
            Issue.record("\(id) \(sequence) was not admitted")
            return
        }
        table.markApplied(slot: slot, sequence: sequence, now: now)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// Batches applied first (id, sequence), one second apart from t = 1 s.
        let applied: [(String, UInt64)]
        let id: String
        let sequence: UInt64
        let expected: Expected
        var testDescription: String { name }
    }

    enum Expected: Equatable, Sendable {
        case apply
        case duplicate
        case refuse(ProducerTable.Refusal)
    }

    static let cases: [Case] = [
        Case(name: "a new producer's first batch", applied: [], id: "a", sequence: 1, expected: .apply),
        Case(name: "the next batch", applied: [("a", 1)], id: "a", sequence: 2, expected: .apply),
        Case(name: "a resent batch", applied: [("a", 1), ("a", 2)], id: "a", sequence: 1, expected: .duplicate),
        Case(name: "a gap is fine", applied: [("a", 1)], id: "a", sequence: 500, expected: .apply),
        Case(name: "a missed batch inside the window", applied: [("a", 5)], id: "a", sequence: 3, expected: .apply),
        Case(
            name: "the oldest sequence the window holds",
            applied: [("a", 5_000)],
            id: "a",
            sequence: 5_000 - AntiReplayWindow.size,
            expected: .apply
        ),
        Case(
            name: "older than the window",
            applied: [("a", 5_000)],
            id: "a",
            sequence: 5_000 - AntiReplayWindow.size - 1,
            expected: .refuse(.sequenceTooOld)
        ),
        Case(
            name: "another producer's sequence is its own",
            applied: [("a", 9)],
            id: "b",
            sequence: 9,
            expected: .apply
        ),
        Case(
            name: "a full table of recent producers",
            applied: [("a", 1), ("b", 1), ("c", 1), ("d", 1)],
            id: "e",
            sequence: 1,
            expected: .refuse(.tooManyProducers(limit: 4, evictionFloor: 10 * second))
        ),
        Case(
            name: "a key at its share",
            applied: [("k\u{1F}1", 1), ("k\u{1F}2", 1)],
            id: "k\u{1F}3",
            sequence: 1,
            expected: .refuse(.tooManyForKey(name: "k", limit: 2))
        ),
        Case(
            name: "another key is not counted against it",
            applied: [("k\u{1F}1", 1), ("k\u{1F}2", 1)],
            id: "j\u{1F}1",
            sequence: 1,
            expected: .apply
        ),
    ]

    @Test(arguments: cases)
    func admission(_ c: Case) {
        var table = Self.table()
        for (i, (id, sequence)) in c.applied.enumerated() {
            Self.apply(&table, id, sequence, at: Int64(i + 1) * Self.second)
        }
        let now = Int64(c.applied.count + 1) * Self.second
        let got: Expected
        switch Self.admit(&table, c.id, c.sequence, at: now) {
        case .apply: got = .apply
        case .duplicate: got = .duplicate
        case .refuse(let refusal): got = .refuse(refusal)
        }
        #expect(got == c.expected)
    }

    @Test func inFlightIsBoundedPerProducerAndFreedByRelease() {
        var table = Self.table(maxInFlight: 2)
        for sequence: UInt64 in 1...2 {
            guard case .apply(let slot) = Self.admit(&table, "a", sequence, at: Self.second) else {
                Issue.record("batch \(sequence) refused")
                return
            }
            table.markApplied(slot: slot, sequence: sequence, now: Self.second)
            table.hold(slot: slot)
        }
        #expect(Self.admit(&table, "a", 3, at: Self.second) == .refuse(.tooManyInFlight(limit: 2)))
        // A duplicate is refused too while the producer is at its limit.
        #expect(Self.admit(&table, "a", 1, at: Self.second) == .refuse(.tooManyInFlight(limit: 2)))
        #expect(Self.admit(&table, "b", 1, at: Self.second) == .apply(slot: 1))
        table.release(slot: 0)
        #expect(Self.admit(&table, "a", 3, at: Self.second) == .apply(slot: 0))
        // Releasing more than was held never goes negative.
        table.release(slot: 0)
        table.release(slot: 0)
        #expect(table.inFlight[0] == 0)
    }

    @Test func aFullTableForgetsItsLeastRecentIdleProducerAndRenumbers() {
        var table = Self.table(maxProducers: 3)
        Self.apply(&table, "old", 7, at: 1 * Self.second)
        Self.apply(&table, "mid", 1, at: 2 * Self.second)
        Self.apply(&table, "new", 1, at: 3 * Self.second)
        // Within the floor of everyone: refused, nothing forgotten.
        #expect(
            Self.admit(&table, "x", 1, at: 5 * Self.second)
                == .refuse(.tooManyProducers(limit: 3, evictionFloor: 10 * Self.second))
        )
        #expect(table.takeEviction() == nil)
        // "old" and "mid" passed the floor; the least recently seen goes (one: 3/64 < 1).
        #expect(Self.admit(&table, "x", 1, at: 12 * Self.second + 500) == .apply(slot: 2))
        #expect(table.takeEviction() == ProducerTable.Eviction(mapping: [nil, 0, 1]))
        #expect(table.count == 3)
        // "old" came back as a stranger: its sequence 7 is new again.
        #expect(Array("old".utf8).withUnsafeBytes { table.highest(of: $0) } == 0)
        #expect(Array("mid".utf8).withUnsafeBytes { table.highest(of: $0) } == 1)
    }

    @Test func aProducerWithAnAckInFlightIsNeverForgotten() {
        var table = Self.table(maxProducers: 1, idle: 5 * Self.second)
        guard case .apply(let slot) = Self.admit(&table, "a", 1, at: Self.second) else {
            Issue.record("refused")
            return
        }
        table.markApplied(slot: slot, sequence: 1, now: Self.second)
        table.hold(slot: slot)
        table.evictIdle(now: 100 * Self.second)
        #expect(table.count == 1)
        #expect(
            Self.admit(&table, "b", 1, at: 100 * Self.second)
                == .refuse(.tooManyProducers(limit: 1, evictionFloor: 10 * Self.second))
        )
        table.release(slot: slot)
        table.evictIdle(now: 100 * Self.second)
        #expect(table.count == 0)
        #expect(table.takeEviction()?.count == 1)
    }

    @Test func aKeyAtItsShareForgetsOnlyItsOwnIdleProducers() {
        var table = Self.table(maxProducers: 10, maxPerKey: 2)
        Self.apply(&table, "other", 1, at: 0)
        Self.apply(&table, "k\u{1F}1", 1, at: 1 * Self.second)
        Self.apply(&table, "k\u{1F}2", 1, at: 2 * Self.second)
        #expect(Self.admit(&table, "k\u{1F}3", 1, at: 20 * Self.second) == .apply(slot: 2))
        // "other" was the idlest, but not the key's: k 1 went.
        #expect(table.takeEviction() == ProducerTable.Eviction(mapping: [0, nil, 1]))
        #expect(Array("other".utf8).withUnsafeBytes { table.highest(of: $0) } == 1)
    }

    @Test func stateRoundTripsAndRestoredProducersAgeFromTheRestore() throws {
        var table = Self.table(idle: 60 * Self.second)
        Self.apply(&table, "a", 41, at: Self.second)
        var writer = BinaryWriter(capacity: 64)
        table.encodeState(into: &writer)
        var restored = try writer.bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            return try ProducerTable(limits: table.limits, restoringStateFrom: &reader, now: 1_000 * Self.second)
        }
        #expect(Self.admit(&restored, "a", 41, at: 1_000 * Self.second) == .duplicate(slot: 0))
        restored.evictIdle(now: 1_030 * Self.second)
        #expect(restored.count == 1)
        restored.evictIdle(now: 1_061 * Self.second)
        #expect(restored.count == 0)
    }

    @Test func replayKeepsNoWindowForIdsTooLongToKeep() {
        var table = Self.table()
        let long = [UInt8](repeating: 0x61, count: 70_000)
        long.withUnsafeBytes { table.replayApplied(producer: $0, sequence: 3) }
        #expect(table.count == 0)
        Array("a".utf8).withUnsafeBytes { table.replayApplied(producer: $0, sequence: 3) }
        #expect(Array("a".utf8).withUnsafeBytes { table.highest(of: $0) } == 3)
    }

    @Test func recentListsTheLastSeenFirst() {
        var table = Self.table()
        Self.apply(&table, "a", 1, at: 1 * Self.second)
        Self.apply(&table, "b", 5, at: 3 * Self.second)
        Self.apply(&table, "c", 2, at: 2 * Self.second)
        let recent = table.recent(limit: 2)
        #expect(recent.map { String(decoding: $0.id, as: UTF8.self) } == ["b", "c"])
        #expect(recent.map(\.sequence) == [5, 2])
    }
}
