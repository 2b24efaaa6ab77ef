import Testing
import VigieCore
import VigieTesting

/// Checkpoints of the producers' anti-replay windows: every sequence number keeps its
/// verdict across a restart.
@Suite("Producer state")
struct ProducerStateTests {
    /// Producers with gaps, out-of-order arrivals, a jump past the window, and none.
    static func table() -> ByteKeyTable<AntiReplayWindow> {
        var table = ByteKeyTable<AntiReplayWindow>(capacity: 4)
        var rng = SeededGenerator(seed: 41)
        let ids: [[UInt8]] = [
            Array("agent-mairie".utf8), Array("script-collecte".utf8), [0, 255, 7], Array(repeating: 0x61, count: 128),
            Array("jamais".utf8),
        ]
        for (p, id) in ids.enumerated() {
            let index = id.withUnsafeBytes { table.insert($0, value: AntiReplayWindow()) }
            guard p < 4 else { continue }
            var next: UInt64 = p == 2 ? (1 << 62) : 1
            for i in 0..<3_000 {
                // Mostly in order, some skipped, some resent late; once, a jump past the window.
                if i == 1_000 { next += 2_000 }
                switch Int.random(in: 0..<100, using: &rng) {
                case 0..<70: table[index].markApplied(next)
                case 70..<85:
                    let back = UInt64.random(in: 1...900, using: &rng)
                    if next > back { table[index].markApplied(next - back) }
                default: break
                }
                next += 1
            }
        }
        return table
    }

    func encoded(_ table: ByteKeyTable<AntiReplayWindow>) -> [UInt8] {
        var writer = BinaryWriter()
        table.encodeState(into: &writer)
        return writer.bytes
    }

    func restored(_ bytes: [UInt8]) throws -> ByteKeyTable<AntiReplayWindow> {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            return try ByteKeyTable<AntiReplayWindow>(restoringStateFrom: &reader)
        }
    }

    @Test("fresh, duplicate and too-old verdicts are the same after a restore")
    func sameVerdicts() throws {
        let original = Self.table()
        let bytes = encoded(original)
        let copy = try restored(bytes)
        #expect(copy.count == original.count)
        #expect(copy.allKeys == original.allKeys)
        #expect(encoded(copy) == bytes)
        var verdicts: [AntiReplayWindow.Verdict: Int] = [:]
        for (index, key) in original.allKeys.enumerated() {
            let restoredIndex = try #require(key.withUnsafeBytes { copy.index(of: $0) })
            #expect(restoredIndex == index)
            let window = original[index]
            #expect(copy[restoredIndex] == window)
            let highest = window.highest
            let low = highest > 1_100 ? highest - 1_100 : 0
            for sequence in low...(highest + 3) {
                let verdict = window.verdict(for: sequence)
                #expect(copy[restoredIndex].verdict(for: sequence) == verdict)
                verdicts[verdict, default: 0] += 1
            }
        }
        #expect(verdicts[.fresh, default: 0] > 100)
        #expect(verdicts[.duplicate, default: 0] > 1_000)
        #expect(verdicts[.tooOld, default: 0] > 100)
    }

    @Test("truncated or corrupt producer state throws or restores something usable, never crashes")
    func corruptInput() throws {
        let bytes = encoded(Self.table())
        for cut in 0..<bytes.count {
            #expect(throws: BinaryDecodingError.self) { try restored(Array(bytes[..<cut])) }
        }
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<500 {
            var flipped = bytes
            let i = Int.random(in: 0..<flipped.count, using: &rng)
            flipped[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            guard var table = try? restored(flipped) else { continue }
            for index in 0..<table.count {
                _ = table[index].verdict(for: 5)
                table[index].markApplied(.max)
            }
        }
        // A producer listed twice is refused.
        var twice = BinaryWriter()
        twice.writeUInt8(0x50)
        twice.writeUInt8(1)
        twice.writeCount(2)
        for _ in 0..<2 {
            twice.writeBytes(Array("p".utf8))
            twice.writeVarUInt(3)
            twice.writeCount(0)
        }
        #expect(throws: BinaryDecodingError.self) { try restored(twice.bytes) }
    }
}
