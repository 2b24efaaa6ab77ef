import Testing
import VigieCore

@Suite struct BinaryCodingTests {
    @Test func integersDoublesVarintsAndStringsRoundTrip() throws {
        var w = BinaryWriter()
        w.writeUInt8(7)
        w.writeBool(true)
        w.writeUInt32(0xDEAD_BEEF)
        w.writeInt64(-42)
        w.writeDouble(-0.125)
        w.writeDouble(.infinity)
        for v: UInt64 in [0, 1, 127, 128, 300, .max] { w.writeVarUInt(v) }
        for v: Int64 in [0, -1, 1, -64, 64, .min, .max] { w.writeVarInt(v) }
        w.writeString("Nouméa ✓")
        try reading(w.bytes) { (r: inout BinaryReader) throws in
            #expect(try r.readUInt8() == 7)
            #expect(try r.readBool())
            #expect(try r.readUInt32() == 0xDEAD_BEEF)
            #expect(try r.readInt64() == -42)
            #expect(try r.readDouble() == -0.125)
            #expect(try r.readDouble() == .infinity)
            for v: UInt64 in [0, 1, 127, 128, 300, .max] { #expect(try r.readVarUInt() == v) }
            for v: Int64 in [0, -1, 1, -64, 64, .min, .max] { #expect(try r.readVarInt() == v) }
            #expect(try r.readString() == "Nouméa ✓")
            #expect(r.isAtEnd)
        }
    }

    @Test func truncatedInputThrowsWithTheOffset() {
        var w = BinaryWriter()
        w.writeString("abcdef")
        let cut = Array(w.bytes.dropLast(2))
        cut.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            #expect(throws: BinaryDecodingError.self) { try r.readString() }
        }
        ([0xFF, 0xFF] as [UInt8]).withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            #expect(throws: BinaryDecodingError(offset: 0, reason: "truncated varint")) { try r.readVarUInt() }
        }
    }

    @Test(arguments: [0, 5, 40, 5_000])
    func sketchRoundTripAnswersTheSameQuantiles(values: Int) throws {
        var sketch = QuantileSketch()
        var generator = SystemRandomNumberGenerator()
        for i in 0..<values {
            let v = i % 7 == 0 ? 0 : Double.random(in: -50...1e6, using: &generator)
            sketch.add(v)
        }
        var w = BinaryWriter()
        sketch.encode(into: &w)
        let decoded = try reading(w.bytes) { (r: inout BinaryReader) throws in
            let s = try QuantileSketch.decode(from: &r)
            #expect(r.isAtEnd)
            return s
        }
        #expect(decoded.count == sketch.count)
        #expect(decoded.min == sketch.min)
        #expect(decoded.max == sketch.max)
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
            #expect(decoded.quantile(q) == sketch.quantile(q))
        }
    }

    @Test func sketchWithInconsistentCountsIsRejected() throws {
        var sketch = QuantileSketch()
        for v in [1.0, 2, 3] { sketch.add(v) }
        var w = BinaryWriter()
        sketch.encode(into: &w)
        var bytes = w.bytes
        // Byte 1 + 8 (accuracy) + 2 (max bins varint 2048) = count.
        bytes[11] = 9
        bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            #expect(throws: BinaryDecodingError.self) { try QuantileSketch.decode(from: &r) }
        }
    }

    @Test func sketchBinIndexAtIntMinThrowsInsteadOfTrapping() throws {
        var w = BinaryWriter()
        w.writeUInt8(1)
        w.writeDouble(QuantileSketch.defaultRelativeAccuracy)
        w.writeCount(QuantileSketch.defaultMaxBins)
        w.writeVarUInt(1)  // count
        w.writeVarUInt(0)  // zeros
        w.writeDouble(1)
        w.writeDouble(1)
        w.writeCount(1)  // one positive bin…
        w.writeVarInt(.min)  // …whose index is Int.min
        w.writeVarUInt(1)
        w.writeCount(0)
        w.bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            #expect(throws: BinaryDecodingError.self) { try QuantileSketch.decode(from: &r) }
        }
        // A bin cap above the caller's limit is refused before anything is allocated.
        var sketch = QuantileSketch(maxBins: 4_096)
        sketch.add(3)
        var big = BinaryWriter()
        sketch.encode(into: &big)
        big.bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            #expect(throws: BinaryDecodingError.self) { try QuantileSketch.decode(from: &r, maxBinsLimit: 2_048) }
        }
    }
}

/// Runs `body` with a reader over `bytes`.
private func reading<T>(_ bytes: [UInt8], _ body: (inout BinaryReader) throws -> T) throws -> T {
    try bytes.withUnsafeBytes { raw in
        var reader = BinaryReader(raw)
        return try body(&reader)
    }
}
