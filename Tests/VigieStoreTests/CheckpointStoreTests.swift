import Foundation
import Testing
import VigieStore

@Suite struct CheckpointStoreTests {
    private func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("vigie-ckpt-\(UUID().uuidString)").path
    }

    @Test func newestIntactCheckpointIsLoadedAndOldOnesPruned() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CheckpointStore(directory: dir, keep: 2)
        try store.write(lsn: 100, payload: [1, 2, 3])
        try store.write(lsn: 250, payload: Array(repeating: 7, count: 10_000))
        try store.write(lsn: 400, payload: [9])
        #expect(store.list() == [250, 400])
        let (loaded, problems) = store.loadNewest()
        #expect(loaded?.lsn == 400)
        #expect(loaded?.payload == [9])
        #expect(problems.isEmpty)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test(arguments: ["flip", "truncate", "version"])
    func damagedNewestFallsBackToThePreviousAndSaysWhy(damage: String) throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CheckpointStore(directory: dir, keep: 3)
        try store.write(lsn: 10, payload: Array("older".utf8))
        try store.write(lsn: 20, payload: Array("newer state".utf8))
        let path = dir + "/" + CheckpointStore.fileName(lsn: 20)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        switch damage {
        case "flip": bytes[bytes.count - 3] ^= 0x10
        case "truncate": bytes.removeLast(4)
        default: bytes[8] = 9  // version 9: the header CRC no longer matches either
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (loaded, problems) = store.loadNewest()
        #expect(loaded?.lsn == 10)
        #expect(loaded.map { String(decoding: $0.payload, as: UTF8.self) } == "older")
        #expect(problems.count == 1)
        #expect(problems.first?.contains(CheckpointStore.fileName(lsn: 20)) == true)
    }

    /// A forged LSN no log can reach would make the writer overflow: refused on load.
    @Test func aCheckpointBeyondAnyLogIsRefused() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CheckpointStore(directory: dir, keep: 2)
        try store.write(lsn: UInt64.max - 3, payload: [1])
        let (loaded, problems) = store.loadNewest()
        #expect(loaded == nil)
        #expect(problems.first?.contains("is beyond any log") == true, "\(problems)")
    }

    /// A flag this version does not know (a newer format) is refused, not ignored.
    @Test func unknownHeaderFlagsAreRefused() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CheckpointStore(directory: dir, keep: 2)
        try store.write(lsn: 10, payload: [1, 2])
        let path = dir + "/" + CheckpointStore.fileName(lsn: 10)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[12] = 1
        let crc = CRC32C.checksum(bytes[0..<36]).littleEndian
        withUnsafeBytes(of: crc) { for (i, byte) in $0.enumerated() { bytes[36 + i] = byte } }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (loaded, problems) = store.loadNewest()
        #expect(loaded == nil)
        #expect(problems.first?.contains("unknown checkpoint flags 1") == true, "\(problems)")
    }

    @Test func noCheckpointAtAll() {
        let store = CheckpointStore(directory: directory())
        let (loaded, problems) = store.loadNewest()
        #expect(loaded == nil)
        #expect(problems.isEmpty)
    }
}
