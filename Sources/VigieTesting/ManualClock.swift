import Synchronization
import VigieCore

/// A `WallClock` that moves only when told to, for deterministic tests.
///
/// Thread-safe (a `Mutex`): a test may advance it while a daemon thread reads it.
public final class ManualClock: WallClock {
    private let current: Mutex<Int64>

    /// A clock reading `start` (ns since the epoch); by default 2026-05-28T00:53:20Z.
    public init(_ start: Int64 = 1_780_000_000_000_000_000) {
        current = Mutex(start)
    }

    /// The current reading, ns since the epoch.
    public func now() -> Int64 {
        current.withLock { $0 }
    }

    /// Moves the clock forward (or back, for a negative value) by `nanoseconds`.
    public func advance(by nanoseconds: Int64) {
        current.withLock { $0 += nanoseconds }
    }

    /// Moves the clock by `duration` (attosecond remainder dropped).
    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        advance(by: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Sets the reading to `nanoseconds` since the epoch.
    public func set(_ nanoseconds: Int64) {
        current.withLock { $0 = nanoseconds }
    }
}
