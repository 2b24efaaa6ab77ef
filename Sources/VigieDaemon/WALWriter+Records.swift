import VigieCore
import VigieStore
import ZeroMQ

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

    /// Flushes what is buffered and waits, at most `timeout` nanoseconds, until the
    /// syncer has made it durable (or failed); returns ``durableLSN``. At shutdown, so
    /// that the last replies go out and history reads the last records.
    func flushAndWaitUntilDurable(timeout: UInt64 = 5_000_000_000) throws -> UInt64 {
        let flushed = try flush()
        requestSync()
        var poller = Poller()
        poller.register(fileDescriptor: notificationFD)
        let deadline = monotonicNanoseconds() + timeout
        while durableLSN < flushed, syncFailure == nil, monotonicNanoseconds() < deadline {
            _ = try? poller.poll(timeoutMilliseconds: 10)
            drainNotification()
        }
        return durableLSN
    }
}
