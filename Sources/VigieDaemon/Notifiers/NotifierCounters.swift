import Synchronization

/// Per-notifier counters, written by its workers and the engine thread, read by `stats`.
final class NotifierCounters: Sendable {
    /// Transitions delivered (exec: exit 0; webhook: 2xx).
    let sent = Atomic<UInt64>(0)
    /// Transitions that failed (non-zero exit, timeout, spawn error; webhook: retries exhausted or 4xx).
    let failed = Atomic<UInt64>(0)
    /// Transitions refused because the notifier's queue was full.
    let dropped = Atomic<UInt64>(0)
    /// Webhook retries (attempts after the first).
    let retries = Atomic<UInt64>(0)
    /// Exec runs killed after their timeout.
    let timeouts = Atomic<UInt64>(0)

}
