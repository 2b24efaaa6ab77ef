import VigieCore

/// An `exec` collector: runs `command` (an argv, no shell) every interval; its stdout is
/// line protocol.
///
/// Good lines go to the sink as written (a line without a timestamp is stamped by
/// whoever receives the batch). Every run adds
/// `vigie_collector_up,collector=NAME value=1|0 <now>` (0 after a non-zero exit, a
/// signal, a timeout, a failed spawn or any rejected line) and
/// `vigie_collector_duration_seconds,collector=NAME value=<s> <now>`. The command is
/// sent SIGTERM (its whole process group) after `timeout` and SIGKILL one second later;
/// what it printed before is still used. A run cut short by `stop()` reports
/// `stopped`, with no health samples. Only the first 16 MiB of stdout are read.
public struct ExecCollector: Collector {
    public let name: String
    public var kind: String { "exec" }
    /// The argv; `command[0]` is looked up in `PATH`.
    public let command: [String]
    /// Longest run before SIGTERM, ns.
    public let timeout: Int64

    /// Creates the collector.
    public init(name: String, command: [String], timeout: Int64) {
        self.name = name
        self.command = command
        self.timeout = timeout
    }

    public func collect(now: Int64, stopping: @escaping @Sendable () -> Bool) -> CollectorReport {
        let started = monotonicNanoseconds()
        let run = CollectorProcess.run(command, timeout: timeout, stopping: stopping)
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        let checked = LineProtocolText.validate(run.stdout, parser: LineProtocolParser())
        let result: String
        switch run.outcome {
        case .exited(0):
            result = checked.rejected > 0 ? "bad output (\(checked.rejected) lines rejected)" : "ok"
        case .exited(let code):
            result = "exit \(code)"
        case .signaled(let signal):
            result = "signal \(signal)"
        case .timedOut:
            result = "timeout"
        case .abandoned:
            result = "stopped"
        case .spawnFailed(let reason):
            result = reason
        }
        let stderr = run.stderr.isEmpty ? nil : run.stderr
        if run.outcome == .abandoned {
            // The agent is stopping: no health samples for a run it cut short.
            return CollectorReport(
                lines: checked.lines,
                lineCount: checked.accepted,
                result: result,
                failed: false,
                stderr: stderr
            )
        }
        let up = result == "ok"
        let tag = "collector=\(LineProtocolText.key(name))"
        var lines = checked.lines
        lines += "vigie_collector_up,\(tag) value=\(up ? 1 : 0) \(now)\n"
        lines += "vigie_collector_duration_seconds,\(tag) value=\(LineProtocolText.float(seconds)) \(now)\n"
        return CollectorReport(
            lines: lines,
            lineCount: checked.accepted + 2,
            result: result,
            failed: !up,
            stderr: stderr
        )
    }
}
