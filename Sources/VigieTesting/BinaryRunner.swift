import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished run of a built binary produced.
public struct BinaryRunResult: Sendable {
    /// Exit status (or the terminating signal number when `terminatedBySignal`).
    public var status: Int32
    /// True when the process died from a signal (for example after a timeout).
    public var terminatedBySignal: Bool
    /// Everything written to standard output, decoded as UTF-8.
    public var stdout: String
    /// Everything written to standard error, decoded as UTF-8.
    public var stderr: String
}

/// Why `BinaryRunner.run` failed.
public enum BinaryRunnerError: Error, CustomStringConvertible {
    /// The binary is not where `locate` looked; build first or set `VIGIE_BIN_DIR`.
    case notFound(URL)
    /// The process outlived its timeout and was killed; holds what it had written.
    case timedOut(seconds: Double, partial: BinaryRunResult)

    /// A message naming the path or the timeout.
    public var description: String {
        switch self {
        case .notFound(let url):
            return "no executable at \(url.path): run `swift build` or set VIGIE_BIN_DIR"
        case .timedOut(let seconds, let partial):
            return "process did not finish within \(seconds)s; stderr so far: \(partial.stderr)"
        }
    }
}

/// Runs the package's built executables (`vigie`, `vigied`) the way a user would, for end-to-end tests.
///
/// Pipes are drained on their own threads, so a chatty process never blocks on a full pipe, and stdin is fed
/// on another; a run that exceeds its timeout gets SIGTERM, then SIGKILL after a second.
public enum BinaryRunner {
    /// The directory holding built executables: `$VIGIE_BIN_DIR`, or `<package root>/.build/debug`, where the
    /// package root is the nearest directory above `filePath` that has a `Package.swift`.
    public static func binDirectory(filePath: String = #filePath) -> URL {
        if let dir = ProcessInfo.processInfo.environment["VIGIE_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir, isDirectory: true)
        }
        var dir = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                return dir.appendingPathComponent(".build/debug", isDirectory: true)
            }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug", isDirectory: true)
    }

    /// The URL of the built executable `name` (see `binDirectory`).
    public static func locate(_ name: String, filePath: String = #filePath) -> URL {
        binDirectory(filePath: filePath).appendingPathComponent(name)
    }

    /// Runs `name` (a built executable, or an absolute path such as `/usr/bin/promtool`)
    /// with `arguments`, feeding `stdin` (or /dev/null), and waits at most `timeout` seconds.
    ///
    /// Standard input, output and error go through temporary files (no pipes, no reader
    /// threads), and the child is reaped with `waitpid` (see `ChildProcess`). A run that
    /// exceeds its timeout gets SIGTERM, then SIGKILL after a second.
    public static func run(
        _ name: String,
        arguments: [String] = [],
        stdin: Data? = nil,
        timeout: Double = 30,
        filePath: String = #filePath
    ) throws -> BinaryRunResult {
        let url = name.hasPrefix("/") ? URL(fileURLWithPath: name) : locate(name, filePath: filePath)
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw BinaryRunnerError.notFound(url) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inPath = dir.appendingPathComponent("stdin").path
        let outPath = dir.appendingPathComponent("stdout").path
        let errPath = dir.appendingPathComponent("stderr").path
        try (stdin ?? Data()).write(to: URL(fileURLWithPath: inPath))

        let child = try ChildProcess(
            path: url.path,
            arguments: arguments,
            stdinPath: inPath,
            stdoutPath: outPath,
            stderrPath: errPath
        )
        var status = child.wait(timeout: timeout)
        let timedOut = status == nil
        if timedOut {
            child.signal(SIGTERM)
            status = child.wait(timeout: 1)
            if status == nil {
                child.signal(SIGKILL)
                status = child.wait(timeout: 5)
            }
        }
        let code = status ?? -1
        let result = BinaryRunResult(
            status: code > 128 ? code - 128 : code,
            terminatedBySignal: code > 128,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
        if timedOut { throw BinaryRunnerError.timedOut(seconds: timeout, partial: result) }
        return result
    }
}
