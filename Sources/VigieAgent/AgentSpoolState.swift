import Foundation

/// What the agent persists next to its spool segments (`state.json`): how far the daemon
/// has acknowledged, and how much the size bound dropped.
///
/// Written atomically (temporary file, `fsync`, `rename`) at most once a second and on
/// close, so after a crash it may lag: the forwarder then resends records the daemon
/// already applied, and the daemon's anti-replay window answers them as duplicates.
public struct AgentSpoolState: Codable, Sendable, Equatable {
    /// Highest upstream sequence number acknowledged contiguously by the daemon.
    public var ackedSequence: UInt64 = 0
    /// End LSN of the highest contiguously acknowledged record.
    public var ackedLSN: UInt64 = 0
    /// Highest sequence number ever written to the spool (so sequence numbers stay
    /// increasing even when every segment holding records was deleted).
    public var lastSequence: UInt64 = 0
    /// Samples (lines) dropped by the size bound before the daemon acknowledged them.
    public var droppedSamples: UInt64 = 0
    /// Batches (records) dropped by the size bound.
    public var droppedBatches: UInt64 = 0

    /// An empty state (a new spool).
    public init() {}

    /// Reads `path`; a missing file is an empty state.
    ///
    /// - Throws: if the file exists but cannot be read or decoded (the message names the
    ///   file; delete it to start over, at the cost of resending the whole spool).
    public static func load(path: String) throws -> AgentSpoolState {
        guard FileManager.default.fileExists(atPath: path) else { return AgentSpoolState() }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(AgentSpoolState.self, from: data)
        } catch {
            throw AgentError("\(path): unreadable spool state (\(error)); remove it to resend the whole spool")
        }
    }

    /// Writes the state to `path` atomically: `path.tmp`, `fsync`, `rename`, directory `fsync`.
    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(self)
        try AtomicFile.replace(path, with: data)
    }
}
