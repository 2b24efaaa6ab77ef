import VigieConfig

/// Something the agent measures by itself every `interval`: an `exec` command, an `http`
/// probe or a tailed `file`.
///
/// `collect` is called by the `CollectorScheduler` on the collector's own thread, never
/// twice at once for one collector; it may block that thread (up to its timeout) and
/// must return soon after `stopping()` turns true.
public protocol Collector: Sendable {
    /// The collector's name: the `collector` tag of its health samples.
    var name: String { get }
    /// `exec`, `http` or `file`, for status output.
    var kind: String { get }
    /// Runs once. `now` is the wall-clock time of the run, ns since the epoch: the
    /// timestamp of the samples the collector makes up itself.
    func collect(now: Int64, stopping: @escaping @Sendable () -> Bool) -> CollectorReport

    /// Called after each run that produced lines, once the agent has spooled them
    /// (`spooled`) or could not take them (its queue full, the spool failing): a
    /// collector that keeps a position saves it only now, or goes back so that the next
    /// run reads the same lines again. Returns a problem to report, nil when none.
    func settle(spooled: Bool) -> String?
}

extension Collector {
    /// Collectors without a position have nothing to settle: a run refused is lost
    /// (the scheduler counts it), the next run measures again.
    public func settle(spooled: Bool) -> String? { nil }
}

/// What one collector run produced.
public struct CollectorReport: Sendable, Equatable {
    /// Line protocol for the sink, each line `\n`-terminated (empty when nothing came).
    public var lines: String
    /// How many lines `lines` holds.
    public var lineCount: Int
    /// The run's result for status output: `ok`, `exit 3`, `timeout`,
    /// `bad output (2 lines rejected)`, `HTTP 404`, `connection refused`…
    public var result: String
    /// True when the run counts as a failure (consecutive failures are counted).
    public var failed: Bool
    /// The first KiB of an `exec` command's stderr, when it wrote any.
    public var stderr: String?

    /// Creates a report.
    public init(lines: String, lineCount: Int, result: String, failed: Bool, stderr: String? = nil) {
        self.lines = lines
        self.lineCount = lineCount
        self.result = result
        self.failed = failed
        self.stderr = stderr
    }
}

/// Builds the collectors a configuration describes.
public enum Collectors {
    /// One collector per `[[collector]]` table; `stateDirectory` holds the `file`
    /// collectors' offsets (`<spool dir>/collectors`).
    public static func make(
        _ configurations: [CollectorConfiguration],
        stateDirectory: String
    ) -> [any Collector] {
        configurations.map { configuration in
            switch configuration.kind {
            case .exec(let command, let timeout):
                return ExecCollector(name: configuration.name, command: command, timeout: timeout)
            case .http(let url, let timeout, let expectStatus):
                return HTTPCollector(name: configuration.name, url: url, timeout: timeout, expectStatus: expectStatus)
            case .file(let path, let format):
                return FileCollector(
                    name: configuration.name,
                    path: path,
                    format: format,
                    stateDirectory: stateDirectory
                )
            }
        }
    }
}
