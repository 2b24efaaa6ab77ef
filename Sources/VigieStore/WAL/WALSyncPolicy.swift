/// When a ``WALWriter`` makes flushed records durable with `fdatasync`.
public enum WALSyncPolicy: Sendable, Equatable {
    /// `fdatasync` as soon as anything flushed is not synced yet. Under load, syncs
    /// still group every record flushed while the previous sync ran.
    case always
    /// At most one `fdatasync` per interval (default 5 ms), covering everything flushed
    /// when it starts: fewer syncs, up to one interval more acknowledgement latency.
    case batch(intervalNanoseconds: UInt64 = 5_000_000)
    /// Never `fdatasync`: the durable LSN is the flushed LSN at once. Lossy: a power
    /// failure or kernel crash loses what the page cache held (a daemon crash alone
    /// does not). For tests and throwaway deployments.
    case off
}
