/// One thing recovery found wrong, where, and what it did about it.
public struct WALRecoveryIssue: Sendable, Equatable, CustomStringConvertible {
    /// What recovery did.
    public enum Action: Sendable, Equatable {
        /// The last segment was cut at `offset` (a torn or corrupt tail); `bytes` removed.
        case truncated
        /// A segment other than the last is unreadable from `offset` on: its `bytes`
        /// there are lost; recovery went on with the next segment.
        case lost
        /// A segment with a bad header was renamed to `<name>.corrupt` and skipped.
        case renamed
        /// Nothing was changed (e.g. a gap between segments).
        case noted
    }

    /// The segment file name.
    public var file: String
    /// The byte offset in that file.
    public var offset: Int
    /// What was wrong, e.g. `CRC mismatch`.
    public var reason: String
    /// Bytes cut or lost (0 for a note).
    public var bytes: Int
    /// What recovery did about it.
    public var action: Action

    /// An issue as recovery reports it.
    public init(file: String, offset: Int, reason: String, bytes: Int, action: Action) {
        self.file = file
        self.offset = offset
        self.reason = reason
        self.bytes = bytes
        self.action = action
    }

    /// `file:offset: reason (what was done)`, e.g.
    /// `00000000000000000000.wal:1234: CRC mismatch (truncated 560 bytes)`.
    public var description: String {
        let outcome: String
        switch action {
        case .truncated: outcome = " (truncated \(bytes) bytes)"
        case .lost: outcome = " (\(bytes) bytes LOST: records after this point in this segment were not replayed)"
        case .renamed: outcome = " (segment renamed to \(file).corrupt, \(bytes) bytes not replayed)"
        case .noted: outcome = ""
        }
        return "\(file):\(offset): \(reason)\(outcome)"
    }
}

/// What ``WALRecovery/recover(directory:from:visit:)`` read and repaired.
public struct WALRecoveryReport: Sendable, Equatable {
    /// Segments read (those wholly before the start LSN are skipped unread).
    public var segments = 0
    /// Records handed to the visit closure.
    public var records = 0
    /// Bytes of those records (headers included).
    public var bytes = 0
    /// Where a new ``WALWriter`` continues: the end of the last valid record, or the
    /// highest segment start if that is later (an empty last segment), and never below
    /// the requested start LSN.
    public var endLSN: UInt64 = 0
    /// Every problem found, in order, with what was done.
    public var issues: [WALRecoveryIssue] = []
    /// Bytes cut from the tail of the last segment.
    public var truncatedBytes = 0
    /// Bytes of other segments that could not be replayed (corruption, bad headers).
    public var lostBytes = 0

    /// One human-readable line per issue, `file:offset: reason (…)`.
    public var problems: [String] { issues.map(\.description) }
}
