import Foundation

/// The dead-letter file (`spool.directory/dead-letter.log`): batches the daemon refused
/// as malformed, one JSON object per line, kept for a human to read and fix:
/// `{"at":"…","sequence":N,"received_at":ns,"reason":"…","payload":"…"}`.
///
/// A dead-lettered batch counts as acknowledged: it is never retried.
struct DeadLetterLog {
    /// The file's path.
    let path: String

    /// Appends one entry and `fsync`s the file.
    func append(sequence: UInt64, receivedAt: Int64, reason: String, payload: [[UInt8]]) throws {
        var text = ""
        for frame in payload { text += String(decoding: frame, as: UTF8.self) }
        let entry: [String: Any] = [
            "at": ISO8601DateFormatter().string(from: Date()),
            "sequence": sequence,
            "received_at": receivedAt,
            "reason": reason,
            "payload": text,
        ]
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]))
        bytes.append(0x0A)
        try AtomicFile.append(bytes, to: path)
    }

    /// Entries already in the file (lines), 0 if it does not exist.
    func count() -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}
