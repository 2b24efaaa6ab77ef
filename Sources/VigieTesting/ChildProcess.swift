import Foundation

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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
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
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        // Signals the test runner ignores (SIGPIPE, SIGHUP, …) must not stay ignored in
        // the child: reset every disposition to its default, as a shell would.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        // The runner's environment, with `extra` set (replacing any variable of that name).
        var variables = ProcessInfo.processInfo.environment
        for (key, value) in extra { variables[key] = value }
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in envp { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw HarnessError("cannot spawn \(path): \(String(cString: strerror(rc)))") }
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
