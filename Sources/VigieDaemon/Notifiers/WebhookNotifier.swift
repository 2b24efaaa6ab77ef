import Foundation
import Logging
import Synchronization
import VigieConfig
import VigieCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs one transition to a `webhook` notifier's URL (Alertmanager webhook v4 body),
/// retrying connection errors and 5xx replies with exponential backoff from 500 ms,
/// capped at 30 s.
///
/// Runs on the notifier's worker thread, blocking it (never the engine) for the
/// request and the backoff; both end early when the dispatcher stops.
final class WebhookNotifier: Sendable {
    let name: String
    let configuration: WebhookNotifierConfiguration
    let url: URL
    private let session: URLSession

    /// Longest pause between two attempts.
    static let maxBackoff: Int64 = 30_000_000_000

    /// What became of one POST attempt.
    enum Attempt: Equatable {
        case status(Int)
        case failed(String)
        case abandoned
    }

    init?(name: String, configuration: WebhookNotifierConfiguration) {
        guard let url = URL(string: configuration.url) else { return nil }
        self.name = name
        self.configuration = configuration
        self.url = url
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = Double(configuration.timeout) / 1e9
        sessionConfiguration.timeoutIntervalForResource = Double(configuration.timeout) / 1e9
        sessionConfiguration.httpMaximumConnectionsPerHost = 1
        session = URLSession(configuration: sessionConfiguration)
    }

    /// The pause before retry number `retry` (1-based): 500 ms, 1 s, 2 s, … up to 30 s.
    static func backoff(retry: Int) -> Int64 {
        let shift = min(max(retry - 1, 0), 16)
        return min(500_000_000 << Int64(shift), maxBackoff)
    }

    /// Delivers `event`, retrying as configured. Returns true when a 2xx reply came.
    func deliver(
        _ event: NotifierEvent,
        counters: NotifierCounters,
        logger: Logger,
        stopping: @escaping @Sendable () -> Bool,
        sleep: (Int64) -> Bool
    ) -> Bool {
        let body = AlertmanagerPayload.encode(event, receiver: name)
        var retry = 0
        while true {
            let attempt = post(body, stopping: stopping)
            var problem: String
            switch attempt {
            case .status(let code) where (200..<300).contains(code):
                return true
            case .status(let code) where (500..<600).contains(code):
                problem = "HTTP \(code)"
            case .status(let code):
                logger.warning(
                    "webhook notifier refused",
                    metadata: ["notifier": "\(name)", "status": "\(code)", "rule": "\(event.message.rule)"]
                )
                return false
            case .failed(let message):
                problem = message
            case .abandoned:
                return false
            }
            guard retry < configuration.maxRetries else {
                logger.warning(
                    "webhook notifier failed",
                    metadata: [
                        "notifier": "\(name)", "error": "\(problem)", "attempts": "\(retry + 1)",
                        "rule": "\(event.message.rule)",
                    ]
                )
                return false
            }
            retry += 1
            counters.retries.add(1, ordering: .relaxed)
            guard sleep(Self.backoff(retry: retry)) else { return false }
        }
    }

    private final class Reply: Sendable {
        let value = Mutex<Attempt?>(nil)
    }

    private func post(_ body: [UInt8], stopping: @Sendable () -> Bool) -> Attempt {
        var request = URLRequest(url: url, timeoutInterval: Double(configuration.timeout) / 1e9)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        let reply = Reply()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { _, response, error in
            let attempt: Attempt
            if let error {
                attempt = .failed(error.localizedDescription)
            } else if let http = response as? HTTPURLResponse {
                attempt = .status(http.statusCode)
            } else {
                attempt = .failed("no HTTP response")
            }
            reply.value.withLock { $0 = attempt }
            done.signal()
        }
        task.resume()
        while done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if stopping() {
                task.cancel()
                return .abandoned
            }
        }
        return reply.value.withLock { $0 } ?? .failed("no reply")
    }

    /// Ends the URL session (in-flight requests are cancelled).
    func close() {
        session.invalidateAndCancel()
    }
}
