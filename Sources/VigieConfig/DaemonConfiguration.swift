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
    /// Directory of the operator control socket `control.sock` (created 0750; an existing
    /// one must not be open to others). Default `/run/vigie`; `vigied --state-dir DIR`
    /// moves it to `DIR/run` unless `--runtime-dir` is given too.
    public var runtimeDir: String
    /// Start even when no usable checkpoint is left and the log no longer starts at its
    /// beginning (KPI windows and producers' sequence numbers lost). Not in the file:
    /// `vigied --accept-state-loss`, for the one start after such a loss.
    public var acceptStateLoss = false
    /// When acknowledged batches reach the disk (`fsync`). Default `.batch`.
    public var fsync: FsyncMode
    /// Longest time between two group commits under `fsync = "batch"`, ns. Default 5 ms.
    public var fsyncInterval: Int64
    /// Time between two checkpoints of the engine state, ns. Default 5 min.
    public var checkpointInterval: Int64
    /// Write-ahead log bytes since the last checkpoint that trigger one early (bounds
    /// recovery time). Default 256 MiB.
    public var checkpointWALBytes: Int64

    /// The `fsync` policy of the write-ahead log.
    public enum FsyncMode: String, Sendable, Equatable, CaseIterable {
        /// Group commit: one fdatasync at most every `fsync_interval`, covering every
        /// batch appended before it; ACKs wait for it.
        case batch
        /// One fdatasync as soon as anything is appended (still grouping what arrives
        /// during one); ACKs wait for it.
        case always
        /// Never fsync: ACKs once the batch is written to the OS. Lossy on power cut or
        /// kernel crash (not on a daemon crash).
        case off
    }

    /// Creates a `[daemon]` table; the defaults are those of an absent table.
    public init(
        timezone: String = "UTC",
        stateDir: String = "/var/lib/vigie",
        publishInterval: Int64 = 1_000_000_000,
        heartbeatInterval: Int64 = 1_000_000_000,
        runtimeDir: String = "/run/vigie",
        fsync: FsyncMode = .batch,
        fsyncInterval: Int64 = 5_000_000,
        checkpointInterval: Int64 = 300_000_000_000,
        checkpointWALBytes: Int64 = 256 << 20
    ) {
        self.fsync = fsync
        self.fsyncInterval = fsyncInterval
        self.checkpointInterval = checkpointInterval
        self.checkpointWALBytes = checkpointWALBytes
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
