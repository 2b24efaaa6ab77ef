import Foundation
import VigieCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What became of a supervised child.
public enum ChildOutcome: Equatable, Sendable {
    /// Exited on its own with this status.
    case exited(Int32)
    /// Killed by this signal (not ours).
    case signaled(Int32)
    /// Outlived its timeout: SIGTERM to its group, SIGKILL a second later.
    case timedOut
    /// The caller gave up on it (stopping): its group was killed at once.
    case abandoned
    /// It could not be started (or waited for); why.
    case spawnFailed(String)
}

/// Children the daemons run (exec notifiers, exec collectors): `posix_spawnp` of an argv
/// (no shell) in a process group of its own, with every signal disposition reset to its
/// default and nothing blocked (the parent ignores SIGPIPE and SIGHUP), then a
/// supervised wait: SIGTERM to the group at the timeout, SIGKILL a second later, reaped
/// with `waitpid`.
public enum SupervisedChild {
    /// Spawns `argv`. `environment` (as `KEY=value`) replaces the parent's when given;
    /// `files` adds the file actions (stdin, stdout, stderr). `ownProcessGroup: false`
    /// keeps the child in the caller's group (the test kit's daemons).
    ///
    /// - Returns: the child's pid, or why it could not be started.
    public static func spawn(
        _ argv: [String],
        environment: [String]? = nil,
        ownProcessGroup: Bool = true,
        files: (inout posix_spawn_file_actions_t) -> Void
    ) -> Result<pid_t, ChildSpawnError> {
        guard let program = argv.first, !program.isEmpty else { return .failure(ChildSpawnError("empty command")) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        files(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgv { free(p) } }
        var pid: pid_t = 0
        let rc: Int32
        if let environment {
            let cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
            defer { for p in cEnv { free(p) } }
            rc = posix_spawnp(&pid, program, &actions, &attributes, cArgv, cEnv)
        } else {
            rc = posix_spawnp(&pid, program, &actions, &attributes, cArgv, environ)
        }
        guard rc == 0 else { return .failure(ChildSpawnError("cannot run \(program): \(errorText(rc))")) }
        return .success(pid)
    }

    /// Waits for `pid` at most `timeout` ns, then SIGTERM to its group and SIGKILL one
    /// second later; `stopping` is polled meanwhile, and when it turns true the group is
    /// killed at once (`.abandoned`). Polls with `WNOHANG`, backing off from 0.5 to 10 ms.
    public static func wait(for pid: pid_t, timeout: Int64, stopping: () -> Bool) -> ChildOutcome {
        let deadline = monotonicNanoseconds() &+ UInt64(max(0, timeout))
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
                return .spawnFailed("waitpid: \(errorText(errno))")
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

    /// `strerror` of `code`.
    public static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// Why a child could not be started.
public struct ChildSpawnError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
