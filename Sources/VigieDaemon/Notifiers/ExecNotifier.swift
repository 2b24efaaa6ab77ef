import Foundation
import Logging
import VigieConfig
import VigieCore
import VigieProcess

/// Runs an `exec` notifier's command for one transition: spawned with `posix_spawnp` in
/// its own process group, the alert in `VIGIE_*` environment variables and its JSON on
/// stdin; SIGTERM after the timeout, SIGKILL a second later; reaped with `waitpid`.
///
/// Runs on a notifier worker thread; blocks that thread (never the engine) until the
/// child exits.
struct ExecNotifier {
    let name: String
    let configuration: ExecNotifierConfiguration
    /// The daemon's state directory (absolute), passed as `VIGIE_STATE_DIR`.
    let stateDirectory: String
    let logger: Logger

    /// Serialises pipe creation and spawning across exec workers.
    private static let spawnLock = NSLock()

    /// What became of one run.
    typealias Outcome = ChildOutcome

    /// The directories systemd gives the daemon (`LogsDirectory=`, `StateDirectory=`,
    /// `RuntimeDirectory=`), passed on to exec notifiers when set.
    static let inheritedDirectories = ["LOGS_DIRECTORY", "STATE_DIRECTORY", "RUNTIME_DIRECTORY"]

    /// The environment of a run: `VIGIE_*` for the alert, `VIGIE_STATE_DIR` (the daemon's
    /// state directory), the daemon's `PATH`, and those of `LOGS_DIRECTORY`,
    /// `STATE_DIRECTORY` and `RUNTIME_DIRECTORY` that are set in `inherited` (the
    /// daemon's environment), so a command can write
    /// `"${LOGS_DIRECTORY:-$VIGIE_STATE_DIR}/alertes.log"` under systemd and outside it.
    static func environment(
        for event: NotifierEvent,
        stateDirectory: String,
        inherited: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        let m = event.message
        var env = [
            "VIGIE_RULE=\(m.rule)", "VIGIE_KPI=\(m.kpi)", "VIGIE_STATE=\(m.state.rawValue)",
            "VIGIE_SEVERITY=\(m.severity)",
            "VIGIE_VALUE=\(m.value.map(AlertMessage.format) ?? "")",
            "VIGIE_THRESHOLD=\(m.threshold.map(AlertMessage.format) ?? "")",
            "VIGIE_MESSAGE=\(m.message)", "VIGIE_SINCE=\(Timestamps.rfc3339(nanoseconds: m.since))",
        ]
        for pair in m.group {
            let tag = String(
                String.UnicodeScalarView(
                    pair.key.uppercased().unicodeScalars.map { scalar in
                        switch scalar {
                        case "A"..."Z", "0"..."9": return scalar
                        default: return "_"
                        }
                    }
                )
            )
            env.append("VIGIE_GROUP_\(tag)=\(pair.value)")
        }
        env.append("VIGIE_STATE_DIR=\(stateDirectory)")
        for name in inheritedDirectories {
            if let value = inherited[name], !value.isEmpty { env.append("\(name)=\(value)") }
        }
        env.append("PATH=\(inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")")
        return env
    }

    /// Runs the command for `event`; `stopping` is polled while the child runs, and
    /// when it turns true the child's process group is killed at once.
    func run(_ event: NotifierEvent, stopping: () -> Bool) -> Outcome {
        // pipe + FD_CLOEXEC + spawn under one lock, so a child spawned by another worker
        // never inherits this pipe's write end (its reader would then never see EOF).
        Self.spawnLock.lock()
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            Self.spawnLock.unlock()
            return .spawnFailed("pipe: \(String(cString: strerror(errno)))")
        }
        let readEnd = pipeFDs[0]
        let writeEnd = pipeFDs[1]
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        let environment = Self.environment(for: event, stateDirectory: stateDirectory)
        let spawned = SupervisedChild.spawn(configuration.command, environment: environment) {
            posix_spawn_file_actions_adddup2(&$0, readEnd, 0)
            posix_spawn_file_actions_addopen(&$0, 1, "/dev/null", O_WRONLY, 0)
        }
        Self.spawnLock.unlock()
        close(readEnd)
        let pid: pid_t
        switch spawned {
        case .success(let child): pid = child
        case .failure(let error):
            close(writeEnd)
            return .spawnFailed(error.description)
        }
        writeStdin(event.json, to: writeEnd)
        close(writeEnd)
        return SupervisedChild.wait(for: pid, timeout: configuration.timeout, stopping: stopping)
    }

    /// Writes what fits in the pipe without blocking (a child that does not read its
    /// stdin must not hold the worker); SIGPIPE is ignored by the dispatcher.
    private func writeStdin(_ bytes: [UInt8], to fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count, let base = raw.baseAddress {
                let n = write(fd, base + offset, raw.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
        }
    }
}
