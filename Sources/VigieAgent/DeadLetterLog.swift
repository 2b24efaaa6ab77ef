import Foundation

/// The dead-letter file (`spool.directory/dead-letter.log`): batches the daemon refused
/// as malformed, one JSON object per line, kept for a human to read and fix:
/// `{"at":"…","sequence":N,"received_at":ns,"reason":"…","payload":"…"}`.
///
/// A dead-lettered batch counts as acknowledged: it is never retried.
///
/// Bounded: an entry keeps at most ``maxPayloadBytes`` of its payload (the rest is
/// counted in `payload_truncated_bytes`), and a file past ``maxFileBytes`` is renamed
/// `dead-letter.log.1` (replacing the previous one) before the next entry, so the two
/// files together stay under about twice that.
struct DeadLetterLog {
    /// The file's path.
    let path: String
    var maxFileBytes = 16 << 20
    var maxPayloadBytes = 64 << 10

    /// Appends one entry and `fsync`s the file.
    func append(sequence: UInt64, receivedAt: Int64, reason: String, payload: [[UInt8]]) throws {
        var kept: [UInt8] = []
        var truncated = 0
        for frame in payload {
            let room = max(0, maxPayloadBytes - kept.count)
            kept += frame.prefix(room)
            truncated += frame.count - min(frame.count, room)
        }
        var entry: [String: Any] = [
            "at": ISO8601DateFormatter().string(from: Date()),
            "sequence": sequence,
            "received_at": receivedAt,
            "reason": reason,
            "payload": String(decoding: kept, as: UTF8.self),
        ]
        if truncated > 0 { entry["payload_truncated_bytes"] = truncated }
        var info = stat()
        if stat(path, &info) == 0, Int(info.st_size) >= maxFileBytes {
            _ = rename(path, path + ".1")
        }
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
