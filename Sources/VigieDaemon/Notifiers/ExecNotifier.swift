import Foundation
import Logging
import VigieConfig
import VigieCore

/// Runs an `exec` notifier's command for one transition: spawned with `posix_spawnp` in
/// its own process group, the alert in `VIGIE_*` environment variables and its JSON on
/// stdin; SIGTERM after the timeout, SIGKILL a second later; reaped with `waitpid`.
///
/// Runs on a notifier worker thread; blocks that thread (never the engine) until the
/// child exits.
struct ExecNotifier {
    let name: String
    let configuration: ExecNotifierConfiguration
    let logger: Logger

    /// Serialises pipe creation and spawning across exec workers.
    private static let spawnLock = NSLock()

    /// What became of one run.
    enum Outcome: Equatable {
        case exited(Int32)
        case signaled(Int32)
        case timedOut
        case abandoned
        case spawnFailed(String)
    }

    /// The environment of a run: `VIGIE_*` for the alert plus the daemon's `PATH`.
    static func environment(for event: NotifierEvent) -> [String] {
        let m = event.message
        var env = [
            "VIGIE_RULE=\(m.rule)", "VIGIE_KPI=\(m.kpi)", "VIGIE_STATE=\(m.state)", "VIGIE_SEVERITY=\(m.severity)",
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
        env.append("PATH=\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")")
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

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP)
        )
        let argv: [UnsafeMutablePointer<CChar>?] = configuration.command.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        let envp: [UnsafeMutablePointer<CChar>?] = Self.environment(for: event).map { strdup($0) } + [nil]
        defer { for p in envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, configuration.command[0], &actions, &attributes, argv, envp)
        Self.spawnLock.unlock()
        close(readEnd)
        guard rc == 0 else {
            close(writeEnd)
            return .spawnFailed("cannot run \(configuration.command[0]): \(String(cString: strerror(rc)))")
        }
        writeStdin(event.json, to: writeEnd)
        close(writeEnd)
        return wait(for: pid, stopping: stopping)
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

    private func wait(for pid: pid_t, stopping: () -> Bool) -> Outcome {
        let deadline = monotonicNanoseconds() &+ UInt64(configuration.timeout)
        var killAt: UInt64?
        var timedOut = false
        var pause: UInt32 = 500
        while true {
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid {
                if timedOut { return .timedOut }
                let signal = raw & 0x7F
                return signal == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(signal)
            }
            if reaped < 0 && errno != EINTR {
                return .spawnFailed("waitpid: \(String(cString: strerror(errno)))")
            }
            if stopping() {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                return .abandoned
            }
            let now = monotonicNanoseconds()
            if let at = killAt {
                if now >= at {
                    kill(-pid, SIGKILL)
                    kill(pid, SIGKILL)
                    killAt = .max
                }
            } else if now >= deadline {
                timedOut = true
                kill(-pid, SIGTERM)
                kill(pid, SIGTERM)
                killAt = now + 1_000_000_000
            }
            usleep(pause)
            pause = min(pause * 2, 10_000)
        }
    }
}
