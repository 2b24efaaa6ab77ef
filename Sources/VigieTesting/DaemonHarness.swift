import Foundation
import Logging
import VigieConfig
import VigieCore
import VigieDaemon
import ZeroMQ

/// An in-process `vigied` on loopback with wildcard ports, for component tests.
///
/// The daemon runs its real engine thread and real sockets; the test talks to it with
/// real ZeroMQ clients from `context`. Call `stop()` at the end of the test.
public final class DaemonHarness: @unchecked Sendable {
    public let daemon: Daemon
    public let endpoints: BoundEndpoints
    /// A context for the test's client sockets.
    public let context: ZMQContext
    /// The daemon's `state_dir` (WAL, checkpoints, history): fresh unless given.
    public let stateDirectory: String
    /// True when the harness made `stateDirectory` and removes it in `stop()`.
    private let ownsState: Bool

    /// Starts a daemon with the `[[kpi]]` (and other) tables of `toml`; endpoints are
    /// replaced by `tcp://127.0.0.1:*`.
    public init(
        toml: String,
        publishInterval: String = "0s",
        clock: any WallClock = SystemClock(),
        stateDirectory: String? = nil,
        adjust: (inout VigieConfiguration) -> Void = { _ in }
    ) throws {
        let state =
            stateDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("vigie-harness-\(UUID().uuidString)").path
        self.stateDirectory = state
        self.ownsState = stateDirectory == nil
        var configuration = try ConfigLoader.parse(
            """
            [daemon]
            timezone = "Pacific/Noumea"
            publish_interval = "\(publishInterval)"
            state_dir = "\(state)"
            runtime_dir = "\(state)/run"
            [endpoints]
            ingest = ["tcp://127.0.0.1:*"]
            push = ["tcp://127.0.0.1:*"]
            feed = ["tcp://127.0.0.1:*"]
            control = ["tcp://127.0.0.1:*"]

            """ + toml,
            path: "<harness>"
        )
        adjust(&configuration)
        var logger = Logger(label: "vigied-test")
        logger.logLevel = .warning
        daemon = try Daemon(configuration: configuration, logger: logger, clock: clock)
        endpoints = try daemon.start()
        context = try ZMQContext(defaultLinger: 0)
    }

    /// Stops the daemon and waits for its engine thread and context to end.
    public func stop() async {
        daemon.stop()
        await daemon.waitUntilStopped()
        context.shutdown()
        try? context.terminate()
        if ownsState { try? FileManager.default.removeItem(atPath: stateDirectory) }
    }

    /// Asks the daemon to stop and blocks this thread until it has (up to `timeout`
    /// seconds); returns how long that took. Measures shutdown without depending on
    /// when the cooperative pool resumes an `await`. Call `stop()` afterwards.
    public func stopSynchronously(timeout: Double = 10) -> Duration {
        let start = ContinuousClock.now
        daemon.stop()
        let deadline = Date().addingTimeInterval(timeout)
        while !daemon.isStopped, Date() < deadline { usleep(2_000) }
        return ContinuousClock.now - start
    }

    /// A DEALER connected to the ingest endpoint.
    public func ingestSocket() throws -> Socket {
        let socket = try context.makeSocket(.dealer)
        try socket.setLinger(0)
        try socket.connect(endpoints.ingest[0])
        return socket
    }

    /// Sends one control request and returns the decoded reply.
    public func control(_ request: String, timeout: Int = 3_000) throws -> [String: Any] {
        let socket = try context.makeSocket(.dealer)
        defer { socket.close(linger: 0) }
        try socket.connect(endpoints.control[0])
        try socket.sendMultipart([[], Array(request.utf8)])
        guard let frames = try socket.receiveMultipart(timeoutMilliseconds: timeout), let body = frames.last else {
            throw HarnessError("no control reply within \(timeout) ms")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw HarnessError("control reply is not an object")
        }
        return object
    }
}

/// A failure of the test harness itself.
public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Socket {
    /// Receives one multipart message, waiting at most `timeoutMilliseconds`; `nil` on timeout.
    public func receiveMultipart(timeoutMilliseconds: Int) throws -> [[UInt8]]? {
        var poller = Poller()
        poller.register(self)
        let deadline = monotonicNanoseconds() + UInt64(timeoutMilliseconds) * 1_000_000
        while monotonicNanoseconds() < deadline {
            let left = Int((deadline - monotonicNanoseconds()) / 1_000_000) + 1
            if try poller.poll(timeoutMilliseconds: left) > 0, let frames = try receiveMultipart(dontWait: true) {
                return frames.map(\.bytes)
            }
        }
        return nil
    }

    /// Sends a `VGI1 PUSH` request.
    public func sendPush(producer: String, sequence: String, payloads: [String]) throws {
        try sendMultipart(
            [Array("VGI1".utf8), Array("PUSH".utf8), Array(producer.utf8), Array(sequence.utf8)]
                + payloads.map { Array($0.utf8) }
        )
    }
}

/// A decoded ingest reply, for assertions.
public struct IngestReplyFrames: Equatable, Sendable {
    /// `ACK`, `ERR` or `WELCOME`.
    public var command: String
    /// Every frame after the command, as text.
    public var rest: [String]

    /// Decodes a reply; an empty delimiter frame first (the reply to a request that
    /// began with one, as REQ sockets send) is skipped.
    public init?(_ frames: [[UInt8]]) {
        let body = frames.first == [] ? Array(frames.dropFirst()) : frames
        guard body.count >= 2, body[0] == Array("VGI1".utf8) else { return nil }
        command = String(decoding: body[1], as: UTF8.self)
        rest = body.dropFirst(2).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The JSON body (last frame) decoded.
    public var body: [String: Any] {
        guard let last = rest.last, let data = last.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }
}
