/// A source of wall-clock time, in nanoseconds since the Unix epoch.
///
/// Everything in `VigieCore` takes `now` as a parameter; the daemon reads it from a
/// `WallClock` once per loop turn. Tests use `ManualClock` from `VigieTesting`.
public protocol WallClock: Sendable {
    /// The current time in nanoseconds since 1970-01-01T00:00:00Z.
    func now() -> Int64
}

/// The real clock (`CLOCK_REALTIME`).
public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// Monotonic time in nanoseconds, for measuring durations (not for sample time).
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
