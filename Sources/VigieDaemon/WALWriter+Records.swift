import VigieStore

extension WALWriter {
    /// Appends one record without a producer (push batches, operator actions, alert
    /// transitions: `frames` adds its frames), writes it and asks for a sync unless told
    /// not to (the caller then does); returns the log position its reply must wait for.
    func appendRecord(
        kind: WALRecordKind,
        at now: Int64,
        requestingSync: Bool = true,
        frames: (WALWriter) throws -> Void
    ) throws -> UInt64 {
        try beginRecord(
            kind: kind,
            receivedAt: now,
            sequence: 0,
            producer: UnsafeRawBufferPointer(start: nil, count: 0)
        )
        try frames(self)
        endRecord()
        try flush()
        if requestingSync { requestSync() }
        return flushedLSN
    }
}
