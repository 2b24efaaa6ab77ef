import Foundation
import Testing
import VigieTesting

@testable import VigieCore

/// Word-at-a-time name comparison and hashing agree with byte-by-byte definitions.
@Suite("Name bytes")
struct NameBytesTests {
    /// Calls `body` with a view of `raw` (escaped per `escapes`) placed at the very end
    /// of its allocation, so that any read past the name would leave it.
    func withView<R>(_ raw: [UInt8], escapes: EscapeSet, _ body: (ByteView) -> R) -> R {
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, raw.count))
        defer { storage.deallocate() }
        storage.initialize(from: raw, count: raw.count)
        return body(ByteView(base: storage, count: raw.count, escapes: escapes))
    }

    @Test("matches agrees with equals for every length up to 40", arguments: 0...40)
    func matchesEveryLength(length: Int) {
        var rng = SeededGenerator(seed: UInt64(length) + 1)
        let name = (0..<length).map { _ in UInt8.random(in: 0x21...0x7E, using: &rng) }
        withView(name, escapes: .none) { view in
            #expect(name.withUnsafeBufferPointer { view.matches($0) })
            // Any single byte changed, and any other length, does not match.
            for i in 0..<length {
                var other = name
                other[i] ^= 0x01
                #expect(!other.withUnsafeBufferPointer { view.matches($0) }, "byte \(i)")
            }
            #expect(!(name + [0x41]).withUnsafeBufferPointer { view.matches($0) })
            if length > 0 { #expect(!Array(name.dropLast()).withUnsafeBufferPointer { view.matches($0) }) }
        }
    }

    @Test("nameHash: escaped views hash like their unescaped value; lengths and splits differ")
    func hashes() {
        func hash(_ raw: String, _ escapes: EscapeSet = .none, seed: UInt64 = 7) -> UInt64 {
            withView(Array(raw.utf8), escapes: escapes) { $0.nameHash(seed: seed) }
        }
        for n in 0...40 {
            let plain = String(repeating: "a,b", count: n / 3) + String(repeating: "z", count: n % 3)
            let escaped = plain.replacingOccurrences(of: ",", with: "\\,")
            #expect(hash(escaped, .key) == hash(plain), "length \(n)")
            #expect(hash(plain) != hash(plain + "\u{0}"), "length \(n)")
        }
        // The value boundary matters: ("x", "yz") and ("xy", "z") are different keys.
        #expect(hash("yz", seed: hash("x")) != hash("z", seed: hash("xy")))
    }
}
