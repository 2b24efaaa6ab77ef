import VigieCore

/// The agent's own health, as line-protocol samples it appends to its spool (so they
/// reach the daemon like any other sample, and the daemon's KPIs can watch agents).
public enum AgentHealth {
    /// What one health report says.
    public struct Snapshot: Sendable, Equatable {
        /// Spool segment bytes on disk.
        public var spoolBytes: Int64
        /// Batches written and not yet acknowledged by the daemon.
        public var spoolUnsent: UInt64
        /// Age of the oldest unacknowledged batch, seconds (0 when none).
        public var oldestUnsentSeconds: Double
        /// Cumulative drop counters (size bound).
        public var droppedSamples: UInt64
        public var droppedBatches: UInt64
        /// Batches moved to the dead-letter file.
        public var deadLetters: Int
        /// True while the forwarder holds a WELCOMEd connection.
        public var connected: Bool

        /// A snapshot with every value given.
        public init(
            spoolBytes: Int64,
            spoolUnsent: UInt64,
            oldestUnsentSeconds: Double,
            droppedSamples: UInt64,
            droppedBatches: UInt64,
            deadLetters: Int,
            connected: Bool
        ) {
            self.spoolBytes = spoolBytes
            self.spoolUnsent = spoolUnsent
            self.oldestUnsentSeconds = oldestUnsentSeconds
            self.droppedSamples = droppedSamples
            self.droppedBatches = droppedBatches
            self.deadLetters = deadLetters
            self.connected = connected
        }
    }

    /// The health lines (no timestamps: the agent stamps them with the receive time
    /// like any batch). Always one `vigie_agent` line; plus, once anything was dropped,
    /// one `vigie_agent_dropped` line whose `samples` and `batches` are the totals since
    /// the spool was created (counters: a report that is itself dropped by a full spool
    /// is made good by the next one; watch them with `max` or `last`).
    ///
    /// Byte-exact, e.g.
    /// `vigie_agent,agent=a1 spool_bytes=4096i,spool_unsent=2i,oldest_unsent_s=1.5,dropped_samples=0i,dropped_batches=0i,dead_letters=0i,connected=true`.
    public static func lines(agent: String, _ s: Snapshot) -> String {
        var escaped: [UInt8] = []
        LineTagDefaults.appendEscaped(agent, to: &escaped)
        let tag = String(decoding: escaped, as: UTF8.self)
        var text =
            "vigie_agent,agent=\(tag) spool_bytes=\(s.spoolBytes)i,spool_unsent=\(s.spoolUnsent)i,"
            + "oldest_unsent_s=\(format(s.oldestUnsentSeconds)),dropped_samples=\(s.droppedSamples)i,"
            + "dropped_batches=\(s.droppedBatches)i,dead_letters=\(s.deadLetters)i,connected=\(s.connected)\n"
        if s.droppedSamples > 0 || s.droppedBatches > 0 {
            text += "vigie_agent_dropped,agent=\(tag) samples=\(s.droppedSamples)i,batches=\(s.droppedBatches)i\n"
        }
        return text
    }

    private static func format(_ seconds: Double) -> String {
        let rounded = (max(0, seconds) * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
}
