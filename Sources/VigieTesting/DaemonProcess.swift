import Foundation
import VigieCore

/// The real `vigied` binary, started on loopback with wildcard ports, for end-to-end tests.
///
/// Writes `toml` (plus `[daemon]` and `[endpoints]` tables of its own) into a fresh
/// temporary directory, starts the daemon, and waits for its `vigied ready …` line to
/// learn the ports it bound. Its stderr goes to `logPath`.
public final class DaemonProcess: @unchecked Sendable {
    private let child: ChildProcess
    public let directory: URL
    public let configPath: String
    public let logPath: String
    /// `ingest`, `push`, `feed` and `control` endpoints as bound.
    public private(set) var endpoints: [String: String] = [:]
    /// Every endpoint of each role as bound, in the ready line's order (control: the
    /// operator ipc socket first, then `[endpoints] control`).
    public private(set) var endpointLists: [String: [String]] = [:]
    /// True when `directory` was made here (and is removed with this object).
    private let ownsDirectory: Bool

    /// - Parameters:
    ///   - directory: where the config, log and state go; a fresh temporary directory
    ///     (removed when this object goes) unless given — give the same one to restart a
    ///     daemon on its state (the caller removes it).
    ///   - daemonSettings: extra `[daemon]` lines, e.g. `fsync = "always"`.
    ///   - environment: variables set for the daemon (e.g. `NOTIFY_SOCKET`).
    ///   - endpoints: fixed endpoints by name (`ingest`, `push`, `feed`, `control`)
    ///     instead of wildcard ports, e.g. those a previous run bound.
    ///   - arguments: extra `vigied` arguments (e.g. `--accept-state-loss`).
    ///   - wrapper: a command that runs vigied (e.g. `strace -f -o FILE`); `pid` is then
    ///     the wrapper's.
    public convenience init(
        kpis toml: String,
        publishInterval: String = "0s",
        readyTimeout: Double = 20,
        directory given: URL? = nil,
        daemonSettings: String = "",
        endpointSettings: String = "",
        endpoints fixed: [String: String] = [:],
        environment: [String: String] = [:],
        arguments: [String] = [],
        wrapper: [String] = [],
        filePath: String = #filePath
    ) throws {
        let directory = given ?? Self.freshDirectory()
        func endpoint(_ name: String) -> String { fixed[name] ?? "tcp://127.0.0.1:*" }
        let config = """
            [daemon]
            timezone = "Pacific/Noumea"
            state_dir = "\(directory.appendingPathComponent("state").path)"
            runtime_dir = "\(directory.appendingPathComponent("run").path)"
            publish_interval = "\(publishInterval)"
            \(daemonSettings)

            [endpoints]
            ingest = ["\(endpoint("ingest"))"]
            push = ["\(endpoint("push"))"]
            feed = ["\(endpoint("feed"))"]
            control = ["\(endpoint("control"))"]
            \(endpointSettings)

            """ + toml
        try self.init(
            text: config,
            directory: directory,
            ownsDirectory: given == nil,
            arguments: arguments,
            wrapper: wrapper,
            readyTimeout: readyTimeout,
            environment: environment,
            filePath: filePath
        )
    }

    /// `vigied` with a whole configuration file of the caller's (say config/vigie.toml with
    /// its endpoints rewritten to wildcard ports), written as is to `DIRECTORY/vigie.toml`
    /// and run with `--state-dir DIRECTORY/state`, as `make demo` runs the example.
    ///
    /// - Parameters:
    ///   - directory: as for `init(kpis:…)`: a fresh temporary directory unless given.
    ///   - environment: variables set for the daemon.
    public convenience init(
        configuration text: String,
        readyTimeout: Double = 20,
        directory given: URL? = nil,
        environment: [String: String] = [:],
        filePath: String = #filePath
    ) throws {
        let directory = given ?? Self.freshDirectory()
        try self.init(
            text: text,
            directory: directory,
            ownsDirectory: given == nil,
            arguments: ["--state-dir", directory.appendingPathComponent("state").path],
            readyTimeout: readyTimeout,
            environment: environment,
            filePath: filePath
        )
    }

    /// A new path under the temporary directory (not created).
    private static func freshDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("vigie-e2e-\(UUID().uuidString)")
    }

    private init(
        text config: String,
        directory: URL,
        ownsDirectory: Bool,
        arguments extra: [String],
        wrapper: [String] = [],
        readyTimeout: Double,
        environment: [String: String],
        filePath: String
    ) throws {
        self.ownsDirectory = ownsDirectory
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("vigie.toml").path
        logPath = directory.appendingPathComponent("vigied.log").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        if FileManager.default.fileExists(atPath: logPath) {
            // A restart: keep the previous runs' log, marked.
            if let handle = FileHandle(forWritingAtPath: logPath) {
                handle.seekToEndOfFile()
                handle.write(Data("--- restart ---\n".utf8))
                try? handle.close()
            }
        } else {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }

        let url = BinaryRunner.locate("vigied", filePath: filePath)
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw BinaryRunnerError.notFound(url) }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw HarnessError("pipe failed") }
        defer { close(fds[0]) }
        do {
            let command = wrapper + [url.path, "--config", configPath, "--log-level", "info"] + extra
            child = try ChildProcess(
                path: command[0],
                arguments: Array(command.dropFirst()),
                stdoutFD: fds[1],
                stderrPath: logPath,
                environment: environment
            )
        } catch {
            close(fds[1])
            throw error
        }
        close(fds[1])
        let line = Self.readLine(fds[0], timeout: readyTimeout)
        guard line.hasPrefix("vigied ready ") else {
            child.signal(SIGKILL)
            throw HarnessError("vigied did not start: \(line)\n\(log)")
        }
        for part in line.dropFirst("vigied ready ".count).split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            endpoints[String(kv[0])] = String(kv[1].split(separator: ",").first ?? "")
            endpointLists[String(kv[0])] = kv[1].split(separator: ",").map(String.init)
        }
    }

    /// `--ingest … --push … --feed … --control …` for `vigie` subcommands.
    public var endpointArguments: [String] {
        ["ingest", "push", "feed", "control"].flatMap { ["--\($0)", endpoints[$0] ?? ""] }
    }

    /// Waits up to `timeout` seconds for the process to exit on its own; its exit status
    /// (nil if it is still running).
    public func waitForExit(timeout: Double) -> Int32? { child.wait(timeout: timeout) }

    /// What the daemon logged so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Sends `signal` (e.g. SIGHUP) without waiting.
    /// The daemon's process id.
    public var pid: pid_t { child.pid }

    /// The daemon's resident set size in KiB (`VmRSS` in /proc), or nil if unreadable.
    public var residentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }

    public func send(_ signal: Int32) {
        child.signal(signal)
    }

    /// Sends `signal` and waits for the exit; returns the status and how long it took.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 10) -> (status: Int32, seconds: Double) {
        let start = monotonicNanoseconds()
        child.signal(signal)
        var status = child.wait(timeout: timeout)
        if status == nil {
            child.signal(SIGKILL)
            status = child.wait(timeout: 5)
        }
        return (status ?? -1, Double(monotonicNanoseconds() - start) / 1e9)
    }

    deinit {
        child.signal(SIGKILL)
        _ = child.wait(timeout: 5)
        if ownsDirectory { try? FileManager.default.removeItem(at: directory) }
    }

    private static func readLine(_ fd: Int32, timeout: Double) -> String {
        var buffer: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            var byte: UInt8 = 0
            let n = read(fd, &byte, 1)
            if n <= 0 { break }
            if byte == 0x0A { return String(decoding: buffer, as: UTF8.self) }
            buffer.append(byte)
        }
        return String(decoding: buffer, as: UTF8.self)
    }
}
