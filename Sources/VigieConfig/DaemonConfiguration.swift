import Foundation

/// The `[daemon]` table: how `vigied` keeps time, where it keeps state, how often it publishes.
public struct DaemonConfiguration: Sendable, Equatable {
    /// IANA time zone of calendar windows (`today`, `week`, `month`) and reports,
    /// e.g. `Pacific/Noumea`. Default `UTC`.
    public var timezone: String
    /// Directory of the WAL, checkpoints and history. Default `/var/lib/vigie`.
    public var stateDir: String
    /// Minimum time between two feed updates of one KPI series, in nanoseconds;
    /// `0` publishes on every change. Default 1 s.
    public var publishInterval: Int64
    /// Time between two `hb` feed messages, in nanoseconds. Default 1 s.
    public var heartbeatInterval: Int64
    /// Directory of the ipc control socket (created 0750). Default `/run/vigie`.
    public var runtimeDir: String

    /// Creates a `[daemon]` table; the defaults are those of an absent table.
    public init(
        timezone: String = "UTC",
        stateDir: String = "/var/lib/vigie",
        publishInterval: Int64 = 1_000_000_000,
        heartbeatInterval: Int64 = 1_000_000_000,
        runtimeDir: String = "/run/vigie"
    ) {
        self.timezone = timezone
        self.stateDir = stateDir
        self.publishInterval = publishInterval
        self.heartbeatInterval = heartbeatInterval
        self.runtimeDir = runtimeDir
    }

    /// `timezone` as a Foundation time zone; GMT if the identifier is unknown, which
    /// a loaded configuration never has (the loader rejects it).
    public var timeZone: TimeZone {
        TimeZone(identifier: timezone) ?? TimeZone(secondsFromGMT: 0) ?? .current
    }
}
