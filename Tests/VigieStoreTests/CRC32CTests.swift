import Testing
import VigieStore

@Suite struct CRC32CTests {
    @Test func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    /// RFC 3720 (iSCSI), appendix B.4.
    @Test(arguments: [
        ([UInt8](repeating: 0, count: 32), UInt32(0x8A91_36AA)),
        ([UInt8](repeating: 0xFF, count: 32), UInt32(0x62A8_AB43)),
        ((0..<32).map { UInt8($0) }, UInt32(0x46DD_794E)),
        ((0..<32).map { UInt8(31 - $0) }, UInt32(0x113F_DB5C)),
    ])
    func rfc3720Vectors(bytes: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(bytes) == expected)
    }

    @Test func emptyIsZero() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.update(0x1234_5678, UnsafeRawBufferPointer(start: nil, count: 0)) == 0x1234_5678)
    }

    /// Any split, at any alignment, gives the one-shot value (slicing-by-8 vs bytewise paths).
    @Test func incrementalMatchesOneShotAtEveryAlignment() {
        var state: UInt32 = 42
        let data = (0..<1_000).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        data.withUnsafeBytes { all in
            for start in 0..<9 {
                let slice = UnsafeRawBufferPointer(rebasing: all[start...])
                let whole = CRC32C.checksum(slice)
                #expect(whole == bitwiseCRC32C(Array(slice)))
                for split in [0, 1, 3, 7, 8, 9, 63, 500, slice.count] {
                    let head = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: slice[..<split]))
                    #expect(CRC32C.update(head, UnsafeRawBufferPointer(rebasing: slice[split...])) == whole)
                }
            }
        }
    }

    private func bitwiseCRC32C(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func hardwareAndSoftwareAgreeAtEveryLengthAndAlignment() {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<4_200).map { _ in UInt8.random(in: 0...255, using: &rng) }
        data.withUnsafeBytes { raw in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 15, 16, 63, 64, 65, 1_000, 4_096] {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    #expect(CRC32C.update(0, slice) == CRC32C.softwareUpdate(0, slice))
                    #expect(CRC32C.update(0x1234_5678, slice) == CRC32C.softwareUpdate(0x1234_5678, slice))
                }
            }
        }
        // This machine (x86-64 with SSE 4.2) takes the hardware path.
        #if arch(x86_64)
        #expect(CRC32C.hardware)
        #endif
    }
}
