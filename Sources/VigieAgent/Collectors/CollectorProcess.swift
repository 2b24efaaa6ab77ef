import Foundation
import VigieCore
import VigieProcess

/// Runs one command for a collector: `posix_spawnp` of an argv (no shell) in its own
/// process group, stdout and stderr into unlinked temporary files (a chatty child can
/// never block on a full pipe), SIGTERM to the group after the timeout and SIGKILL one
/// second later; reaped with `waitpid`.
///
/// Blocks the calling collector thread until the child is gone.
struct CollectorProcess {
    /// What became of one run.
    typealias Outcome = ChildOutcome

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
        let spawned = SupervisedChild.spawn(argv) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, outFD, 1)
            posix_spawn_file_actions_adddup2(&actions, errFD, 2)
        }
        let pid: pid_t
        switch spawned {
        case .success(let child): pid = child
        case .failure(let error): return Result(outcome: .spawnFailed(error.description), stdout: [], stderr: "")
        }
        let outcome = SupervisedChild.wait(for: pid, timeout: timeout, stopping: stopping)
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

    static func errorText(_ code: Int32) -> String { SupervisedChild.errorText(code) }
}
