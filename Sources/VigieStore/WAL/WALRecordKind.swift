/// What a write-ahead log record holds.
///
/// Readers pass records of kinds they do not know through as ``WALRecord/kindRaw``
/// (with ``WALRecord/kind`` `nil`), so a log written by a newer daemon does not stop an
/// older reader.
public enum WALRecordKind: UInt8, Sendable, CaseIterable {
    /// An acknowledged ingest batch: producer id, its sequence number, the payload frames.
    case ingest = 1
    /// A fire-and-forget push message: empty producer, sequence 0, the payload frames.
    case push = 2
    /// An operator action (ack, silence, unsilence…): one JSON frame.
    case operatorAction = 3
    /// An alert state transition: one JSON frame.
    case alertTransition = 4
}
