import VigieCore

/// One collector's state for `vigie agent status`: a snapshot taken by
/// `CollectorScheduler.statuses()`.
public struct CollectorStatus: Sendable, Equatable {
    /// The collector's name.
    public var name: String
    /// `exec`, `http` or `file`.
    public var kind: String
    /// Time between two runs, ns.
    public var interval: Int64
    /// Runs finished since the scheduler started.
    public var runs: Int
    /// Wall-clock start of the last finished run, ns since the epoch; nil before the
    /// first one ends.
    public var lastRunAt: Int64?
    /// How long the last run took, ns.
    public var lastDuration: Int64?
    /// The last run's result (`ok`, `exit 3`, `timeout`, `bad output (2 lines rejected)`,
    /// `HTTP 404`…); nil before the first run ends.
    public var result: String?
    /// Lines the last run handed to the sink.
    public var linesProduced: Int
    /// Lines handed to the sink since the scheduler started.
    public var totalLines: Int
    /// Failed runs in a row (0 after a good run).
    public var consecutiveFailures: Int
    /// The first KiB of the last run's stderr (`exec`), if any.
    public var stderr: String?

    /// A status for a collector that has not run yet.
    public init(name: String, kind: String, interval: Int64) {
        self.name = name
        self.kind = kind
        self.interval = interval
        runs = 0
        linesProduced = 0
        totalLines = 0
        consecutiveFailures = 0
    }

    /// The status as a JSON object (``AgentStatusReply/Collector`` reads it): keys
    /// `name`, `kind`, `interval_ms`, `runs`, `last_run` (RFC 3339, absent before the
    /// first run), `last_run_ns`, `duration_ms`, `result`, `lines`, `total_lines`,
    /// `consecutive_failures` and `stderr` when set.
    public var jsonObject: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "name": .string(name),
            "kind": .string(kind),
            "interval_ms": .integer(Int64(interval / 1_000_000)),
            "runs": .integer(Int64(runs)),
            "lines": .integer(Int64(linesProduced)),
            "total_lines": .integer(Int64(totalLines)),
            "consecutive_failures": .integer(Int64(consecutiveFailures)),
        ]
        if let lastRunAt {
            object["last_run"] = .string(Timestamps.rfc3339(nanoseconds: lastRunAt))
            object["last_run_ns"] = .integer(lastRunAt)
        }
        if let lastDuration { object["duration_ms"] = .number(Double(lastDuration) / 1e6) }
        if let result { object["result"] = .string(result) }
        if let stderr, !stderr.isEmpty { object["stderr"] = .string(stderr) }
        return object
    }
}
