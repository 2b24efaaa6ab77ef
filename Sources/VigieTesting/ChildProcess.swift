import Foundation
import VigieProcess

/// A child process spawned with `posix_spawn` and reaped with `waitpid`, for tests.
///
/// Foundation's `Process` on Linux can miss the exit of a short-lived child when many
/// are spawned at once (the child stays a zombie and `waitUntilExit` never returns), so
/// the harness spawns and reaps its own children.
public final class ChildProcess: @unchecked Sendable {
    /// The child's process id.
    public let pid: pid_t
    private var status: Int32?

    /// Spawns `path` with `arguments`. Stdin reads `stdinPath` (or /dev/null); stdout goes
    /// to `stdoutFD`, else the file `stdoutPath` (or /dev/null); stderr to the file at
    /// `stderrPath` (or /dev/null). The environment is the runner's plus `environment`.
    public init(
        path: String,
        arguments: [String],
        stdinPath: String? = nil,
        stdoutFD: Int32? = nil,
        stdoutPath: String? = nil,
        stderrPath: String? = nil,
        environment extra: [String: String] = [:]
    ) throws {
        // The runner's environment, with `extra` set (replacing any variable of that name).
        // Signal dispositions the runner ignores (SIGPIPE, SIGHUP…) are reset to their
        // defaults by the spawn, as a shell would.
        var variables = ProcessInfo.processInfo.environment
        for (key, value) in extra { variables[key] = value }
        let spawned = SupervisedChild.spawn(
            [path] + arguments,
            environment: variables.map { "\($0.key)=\($0.value)" },
            ownProcessGroup: false
        ) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
            if let stdoutFD {
                posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
            } else {
                posix_spawn_file_actions_addopen(
                    &actions,
                    1,
                    stdoutPath ?? "/dev/null",
                    O_WRONLY | O_CREAT | O_TRUNC,
                    0o644
                )
            }
            posix_spawn_file_actions_addopen(
                &actions,
                2,
                stderrPath ?? "/dev/null",
                O_WRONLY | O_CREAT | O_APPEND,
                0o644
            )
        }
        let child: pid_t
        switch spawned {
        case .success(let pid): child = pid
        case .failure(let error): throw HarnessError("\(error)")
        }
        pid = child
    }

    /// Runs `path` to completion (at most `timeout` seconds, then SIGKILL); returns its exit status.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String], timeout: Double = 10) -> Int32? {
        guard let child = try? ChildProcess(path: path, arguments: arguments) else { return nil }
        if let status = child.wait(timeout: timeout) { return status }
        child.signal(SIGKILL)
        return child.wait(timeout: 5)
    }

    /// Sends `signal` to the child.
    public func signal(_ signal: Int32) {
        if status == nil { kill(pid, signal) }
    }

    /// True until the child has exited (and been reaped).
    public var isRunning: Bool {
        poll()
        return status == nil
    }

    /// Waits up to `timeout` seconds. Returns the exit code (128 + n when killed by
    /// signal n), or `nil` if it is still running.
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            poll()
            if let status { return status }
            if Date() >= deadline { return nil }
            usleep(5_000)
        }
    }

    private func poll() {
        guard status == nil else { return }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            let signal = raw & 0x7F
            status = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
        }
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            _ = wait(timeout: 5)
        }
    }
}
