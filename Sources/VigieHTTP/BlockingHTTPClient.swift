import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// One HTTP request at a time from a worker thread that may block: the webhook
/// notifier's POSTs and the `http` collector's probes.
///
/// Built on AsyncHTTPClient over swift-nio and BoringSSL (no libcurl, so the release
/// binaries link statically). The calling thread waits for the reply, checking
/// `stopping()` every 50 ms; the request is cancelled when it turns true. Connection
/// failures are not retried here (the callers have their own retry policy), each
/// request opens a fresh connection (a probe's latency includes connect and handshake),
/// and redirects are not followed: a 3xx is the outcome, so nothing is sent to, or
/// read from, a host the configuration did not name.
public final class BlockingHTTPClient: Sendable {
    /// What one request gave.
    public enum Outcome: Sendable, Equatable {
        /// A reply came with this status (bodies are read and discarded).
        case status(Int)
        /// No reply: `reason` is one of "connection refused", "unknown host", "timeout",
        /// "connection lost", "TLS error: …" or another short description.
        case failed(String)
        /// `stopping()` turned true before the reply.
        case abandoned
    }

    private let client: HTTPClient
    private let timeout: Int64

    /// Creates a client whose requests give up after `timeout` ns (connect, read and the
    /// whole request).
    public init(timeout: Int64) {
        let amount = TimeAmount.nanoseconds(max(timeout, 1_000_000))
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: amount, read: amount)
        )
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.maximumUsesPerConnection = 1
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        self.timeout = amount.nanoseconds
    }

    deinit {
        client.shutdown { _ in }
    }

    /// Cancels what is in flight and releases the connections; later requests fail.
    /// Does not block, and may be called more than once.
    public func close() {
        client.shutdown { _ in }
    }

    /// Sends one request, blocking the calling thread until the reply, the timeout or
    /// `stopping()`. `url` must be an absolute http or https URL.
    public func send(
        _ method: HTTPMethod,
        url: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        stopping: @Sendable () -> Bool
    ) -> Outcome {
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: url,
                method: method,
                headers: HTTPHeaders(headers),
                body: body.map { .bytes($0) }
            )
        } catch {
            return .failed("bad url")
        }
        let task = client.execute(
            request: request,
            delegate: StatusDelegate(),
            deadline: .now() + .nanoseconds(timeout)
        )
        switch Self.wait(for: task.futureResult, stopping: stopping, onStop: { task.cancel() }) {
        case .success(let status): return .status(status)
        case .failure(let error): return .failed(Self.describe(error))
        case nil: return .abandoned
        }
    }

    /// Waits for `future` on the calling thread (never an event loop), checking
    /// `stopping()` every 50 ms; nil when it turned true (after `onStop()`).
    static func wait<Value: Sendable>(
        for future: EventLoopFuture<Value>,
        stopping: () -> Bool,
        onStop: () -> Void
    ) -> Result<Value, any Error>? {
        let box = ResultBox<Value>()
        future.whenComplete { box.set($0) }
        while true {
            if let result = box.wait(milliseconds: 50) { return result }
            if stopping() {
                onStop()
                return nil
            }
        }
    }

    /// A short reason for a failed request, stable enough to count and display.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .readTimeout, .deadlineExceeded, .writeTimeout: return "timeout"
            case .cancelled: return "stopped"
            case .remoteConnectionClosed: return "connection lost"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.contains(where: { Self.isRefused($0.error) }) { return "connection refused" }
            if error.connectionErrors.isEmpty { return "unknown host" }
            return error.connectionErrors.first.map { describe($0.error) } ?? "connection failed"
        }
        if isRefused(error) { return "connection refused" }
        if error is SocketAddressError { return "unknown host" }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timeout" }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return "TLS error: \(error)"
        }
        return "\(error)"
    }

    private static func isRefused(_ error: any Error) -> Bool {
        (error as? IOError)?.errnoCode == ECONNREFUSED
    }
}

/// Keeps the reply's status; the body is read and dropped.
private final class StatusDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    // Touched only on the request's event loop, as AsyncHTTPClient calls its delegate.
    private var status = 0

    func didReceiveHead(task: HTTPClient.Task<Int>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = Int(head.status.code)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Int>) throws -> Int { status }
}

/// A result handed from an event loop to a waiting thread.
final class ResultBox<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let signal = DispatchSemaphore(value: 0)

    func set(_ result: Result<Value, any Error>) {
        self.result.withLock { $0 = result }
        signal.signal()
    }

    /// The result, waiting up to `milliseconds` for it.
    func wait(milliseconds: Int) -> Result<Value, any Error>? {
        if let value = result.withLock({ $0 }) { return value }
        _ = signal.wait(timeout: .now() + .milliseconds(milliseconds))
        return result.withLock { $0 }
    }
}
