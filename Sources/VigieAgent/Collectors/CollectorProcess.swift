import Foundation
import VigieCore

/// Runs one command for a collector: `posix_spawnp` of an argv (no shell) in its own
/// process group, stdout and stderr into unlinked temporary files (a chatty child can
/// never block on a full pipe), SIGTERM to the group after the timeout and SIGKILL one
/// second later; reaped with `waitpid`.
///
/// Blocks the calling collector thread until the child is gone.
struct CollectorProcess {
    /// What became of one run.
    enum Outcome: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
        case timedOut
        case abandoned
        case spawnFailed(String)
    }

    /// One finished run: how it ended, its stdout (at most `maxOutputBytes`) and the
    /// first KiB of its stderr.
    struct Result: Sendable {
        var outcome: Outcome
        var stdout: [UInt8]
        var stderr: String
    }

    /// Most stdout bytes read back (the rest is ignored).
    static let maxOutputBytes = 16 << 20
    /// Most stderr bytes kept.
    static let maxErrorBytes = 1024

    /// Runs `argv` with stdin from `stdinPath` (or /dev/null); `timeout` in ns;
    /// `stopping` is polled while the child runs: when it turns true the child's group is
    /// killed at once and the outcome is `.abandoned`.
    static func run(
        _ argv: [String],
        stdinPath: String? = nil,
        timeout: Int64,
        stopping: () -> Bool
    ) -> Result {
        guard let program = argv.first, !program.isEmpty else {
            return Result(outcome: .spawnFailed("empty command"), stdout: [], stderr: "")
        }
        guard let outFD = temporaryFile() else {
            return Result(
                outcome: .spawnFailed("cannot create a temporary file: \(errorText(errno))"),
                stdout: [],
                stderr: ""
            )
        }
        defer { close(outFD) }
        guard let errFD = temporaryFile() else {
            return Result(
                outcome: .spawnFailed("cannot create a temporary file: \(errorText(errno))"),
                stdout: [],
                stderr: ""
            )
        }
        defer { close(errFD) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outFD, 1)
        posix_spawn_file_actions_adddup2(&actions, errFD, 2)
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
        let cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, program, &actions, &attributes, cArgv, environ)
        guard rc == 0 else {
            return Result(outcome: .spawnFailed("cannot run \(program): \(errorText(rc))"), stdout: [], stderr: "")
        }
        let outcome = wait(for: pid, timeout: timeout, stopping: stopping)
        let stdout = readAll(outFD, limit: maxOutputBytes)
        let stderrBytes = readAll(errFD, limit: maxErrorBytes)
        return Result(outcome: outcome, stdout: stdout, stderr: String(decoding: stderrBytes, as: UTF8.self))
    }

    /// An unlinked temporary file opened read-write and marked close-on-exec (files, not
    /// pipes: a child of another thread that inherits one in the short window before
    /// `FD_CLOEXEC` cannot block anyone), or nil.
    private static func temporaryFile() -> Int32? {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(directory)/vigie-collector-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { unlink(base) }
        }
        return fd
    }

    /// Reads `fd` from offset 0, at most `limit` bytes.
    private static func readAll(_ fd: Int32, limit: Int) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var offset: off_t = 0
        while output.count < limit {
            let wanted = min(chunk.count, limit - output.count)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            output.append(contentsOf: chunk[0..<n])
            offset += off_t(n)
        }
        return output
    }

    private static func wait(for pid: pid_t, timeout: Int64, stopping: () -> Bool) -> Outcome {
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

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
