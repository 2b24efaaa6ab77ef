import Foundation
import Testing

@testable import ZeroMQ

/// Generous upper bound for anything that should happen "at once" on loopback, so that a slow, shared CI
/// machine does not make tests flaky while a real hang still fails.
let patience: Int32 = 5_000

/// A unique `inproc://` name, so that parallel tests never collide.
func uniqueInproc(_ label: String = "test") -> String {
    "inproc://\(label)-\(UUID().uuidString)"
}

/// A unique `ipc://` path under the temporary directory.
func uniqueIPC(_ label: String = "test") -> String {
    "ipc://\(NSTemporaryDirectory())vigie-\(label)-\(UUID().uuidString.prefix(8)).sock"
}

/// Binds `socket` to an ephemeral loopback port and returns the resolved endpoint.
func bindLoopback(_ socket: Socket) throws -> String {
    try socket.bind("tcp://127.0.0.1:*")
    return try socket.lastEndpoint
}

/// Work running on its own thread (a socket's owner thread, as in the daemon).
final class ThreadTask<T: Sendable>: @unchecked Sendable {
    private let box = ResultBox<T>()
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body` on a new thread.
    init(_ body: @escaping @Sendable () throws -> T) {
        let thread = Thread { [box, done] in
            box.set(Result { try body() })
            done.signal()
        }
        thread.start()
    }

    /// Waits at most `seconds` for the outcome; `nil` if the thread has not finished by then (the test then
    /// fails instead of hanging, and the thread is abandoned).
    func wait(seconds: Double) -> Result<T, any Error>? {
        guard done.wait(timeout: .now() + seconds) == .success else {
            return nil
        }
        done.signal()  // later waits return at once
        return box.get()
    }
}

/// Runs `body` on a new thread and waits at most `seconds` for it.
func runOnThread<T: Sendable>(
    within seconds: Double,
    _ body: @escaping @Sendable () throws -> T
) -> Result<T, any Error>? {
    ThreadTask(body).wait(seconds: seconds)
}

/// A value handed from one thread to another.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?

    func set(_ newValue: Result<T, any Error>) {
        lock.withLock { value = newValue }
    }

    func get() -> Result<T, any Error>? {
        lock.withLock { value }
    }
}

/// Terminates `context` on another thread, failing the test (instead of hanging) if that takes over 10 s.
func terminate(_ context: ZMQContext, sourceLocation: SourceLocation = #_sourceLocation) {
    let outcome = runOnThread(within: 10) { try context.terminate() }
    #expect(outcome != nil, "zmq_ctx_term did not return: a socket was left open", sourceLocation: sourceLocation)
    if case .failure(let error) = outcome {
        Issue.record(error, sourceLocation: sourceLocation)
    }
}

extension ZMQError {
    /// The error's `errno`, for `#expect` messages.
    var codeName: String { "\(code) (\(message))" }
}
