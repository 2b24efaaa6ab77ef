import Testing
import VigieCore
import VigieTesting

/// Removing entries (idle producers) keeps every other key findable at its new index.
@Suite struct ByteKeyTableRemovalTests {
    static func key(_ n: Int) -> [UInt8] { Array("producer-\(n)".utf8) }

    @Test func removalCompactsAndReportsTheNewIndices() {
        var table = ByteKeyTable<Int>(capacity: 4)
        for n in 0..<10 { _ = Self.key(n).withUnsafeBytes { table.insert($0, value: n * 100) } }
        let mapping = table.remove { $0 % 3 == 0 }
        #expect(mapping == [nil, 0, 1, nil, 2, 3, nil, 4, 5, nil])
        #expect(table.count == 6)
        for n in 0..<10 {
            let found = Self.key(n).withUnsafeBytes { table.index(of: $0) }
            if n % 3 == 0 {
                #expect(found == nil)
            } else {
                #expect(found == mapping[n])
                #expect(found.map { table[$0] } == n * 100)
                #expect(found.map { table.key(at: $0) } == Self.key(n))
            }
        }
        // A removed key can come back, as a new entry.
        let again = Self.key(3).withUnsafeBytes { table.insert($0, value: 7) }
        #expect(again == 6 && table[again] == 7)
        #expect(table.remove { _ in false } == Array(0..<7))
    }

    @Test func randomChurnMatchesADictionary() {
        var rng = SeededGenerator(seed: 0xB17E)
        var table = ByteKeyTable<Int>(capacity: 8)
        var model: [[UInt8]: Int] = [:]
        for round in 0..<300 {
            for _ in 0..<Int.random(in: 0...20, using: &rng) {
                let key = Self.key(Int.random(in: 0..<500, using: &rng))
                if model[key] == nil {
                    _ = key.withUnsafeBytes { table.insert($0, value: round) }
                    model[key] = round
                }
            }
            let cutoff = round - Int.random(in: 0...10, using: &rng)
            let values = table.values
            _ = table.remove { values[$0] < cutoff }
            model = model.filter { $0.value >= cutoff }
            #expect(table.count == model.count)
        }
        for (key, value) in model {
            let index = key.withUnsafeBytes { table.index(of: $0) }
            #expect(index.map { table[$0] } == value)
        }
    }
}
