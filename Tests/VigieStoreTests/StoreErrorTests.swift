import Testing
import VigieStore

@Suite struct StoreErrorTests {
    @Test func namesTheFileTheOperationAndTheSystemError() {
        let error = StoreError(path: "/var/lib/vigie/wal/1.wal", operation: "write", code: 28)
        #expect(error.description == "write /var/lib/vigie/wal/1.wal: No space left on device")
        #expect(error.isOutOfSpace)
        #expect(!StoreError(path: "x", operation: "read", code: 5).isOutOfSpace)
    }
}
