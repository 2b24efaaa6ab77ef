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

    /// Runs `name` with `arguments`, feeding `stdin` (or /dev/null), and waits at most `timeout` seconds.
    public static func run(
        _ name: String,
        arguments: [String] = [],
        stdin: Data? = nil,
        timeout: Double = 30,
        filePath: String = #filePath
    ) throws -> BinaryRunResult {
        let url = locate(name, filePath: filePath)
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw BinaryRunnerError.notFound(url) }
        signal(SIGPIPE, SIG_IGN)  // Writing to a process that already exited must not kill the test runner.

        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        let output = CollectedOutput()
        let group = DispatchGroup()
        let outHandle = outPipe.fileHandleForReading
        let errHandle = errPipe.fileHandleForReading
        DispatchQueue.global().async(group: group) { output.setStdout(outHandle.readDataToEndOfFile()) }
        DispatchQueue.global().async(group: group) { output.setStderr(errHandle.readDataToEndOfFile()) }
        if let stdin {
            let inHandle = inPipe.fileHandleForWriting
            DispatchQueue.global().async {
                try? inHandle.write(contentsOf: stdin)
                try? inHandle.close()
            }
        }

        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            if exited.wait(timeout: .now() + 1) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
        }
        _ = group.wait(timeout: .now() + 5)
        let result = BinaryRunResult(
            status: process.terminationStatus,
            terminatedBySignal: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: output.stdout, as: UTF8.self),
            stderr: String(decoding: output.stderr, as: UTF8.self)
        )
        if timedOut { throw BinaryRunnerError.timedOut(seconds: timeout, partial: result) }
        return result
    }
}

/// Output gathered by the reader threads.
private final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    func setStdout(_ data: Data) { lock.withLock { out = data } }
    func setStderr(_ data: Data) { lock.withLock { err = data } }
    var stdout: Data { lock.withLock { out } }
    var stderr: Data { lock.withLock { err } }
}
