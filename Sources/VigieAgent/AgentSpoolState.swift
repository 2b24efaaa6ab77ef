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
    /// Names this spool's life: made when the spool starts from nothing (a new install,
    /// a wiped spool, a deleted `state.json`) and sent upstream after the producer id
    /// (`agent-mairie.3f9a1c2e`). Its sequence numbers then start at 1 under an id the
    /// daemon has never seen, instead of under one whose highest the daemon remembers
    /// (the forwarder would skip records as already applied: silent loss). Nil for a
    /// spool made before incarnations existed: it keeps the plain producer id.
    public var incarnation: String?

    /// A new incarnation: 8 random hex digits.
    public static func newIncarnation() -> String {
        let hex = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The id sent upstream for `producerID`: `producerID.incarnation`, the producer id
    /// shortened (by whole characters) so that the whole stays within 128 bytes.
    public func upstreamProducer(_ producerID: String) -> String {
        guard let incarnation else { return producerID }
        let room = 128 - 1 - incarnation.utf8.count
        var base = ""
        for character in producerID where base.utf8.count + character.utf8.count <= room { base.append(character) }
        return base + "." + incarnation
    }

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
