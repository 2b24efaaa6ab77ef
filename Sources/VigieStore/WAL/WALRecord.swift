/// One write-ahead log record, as handed to a visit closure by ``WALRecovery`` or
/// ``WALTailReader``.
///
/// Borrows the reader's buffers: `producer` and every `frame(_:)` are valid only inside
/// the visit closure. Copy what must outlive it.
public struct WALRecord {
    /// The kind byte as stored, known or not.
    public let kindRaw: UInt8
    /// The LSN of the record (of its length field).
    public let lsn: UInt64
    /// When the daemon received the batch, in nanoseconds since the Unix epoch.
    public let receivedAt: Int64
    /// The producer's sequence number (ingest), 0 when there is none.
    public let sequence: UInt64
    /// The producer id (empty for push and internal records). Borrowed.
    public let producer: UnsafeRawBufferPointer
    /// Number of frames.
    public let frameCount: Int
    private let body: UnsafeRawBufferPointer
    private let frameStarts: UnsafePointer<Int>

    init(lsn: UInt64, body: UnsafeRawBufferPointer, frames: FrameIndex) {
        self.lsn = lsn
        self.body = body
        kindRaw = body[0]
        receivedAt = Int64(littleEndian: body.loadUnaligned(fromByteOffset: 1, as: Int64.self))
        sequence = UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 9, as: UInt64.self))
        let producerLength = Int(body[17])
        producer = UnsafeRawBufferPointer(rebasing: body[18..<(18 + producerLength)])
        frameCount = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: 18 + producerLength, as: UInt32.self)))
        frameStarts = UnsafePointer(frames.starts)
    }

    /// The kind, or `nil` for a kind this build does not know (see ``kindRaw``).
    public var kind: WALRecordKind? { WALRecordKind(rawValue: kindRaw) }

    /// The LSN just past the record: where the next one starts.
    public var endLSN: UInt64 { lsn + UInt64(WALFormat.recordHeaderSize + body.count) }

    /// Frame `index` (0..<``frameCount``), borrowed. O(1).
    public func frame(_ index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < frameCount, "WAL frame index \(index) out of range 0..<\(frameCount)")
        let start = frameStarts[index]
        let length = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: start - 4, as: UInt32.self)))
        return UnsafeRawBufferPointer(rebasing: body[start..<(start + length)])
    }
}
