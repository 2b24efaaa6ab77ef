import Foundation
import Logging
import VigieConfig
import VigieCore
import VigieHTTP

/// POSTs one transition to a `webhook` notifier's URL (Alertmanager webhook v4 body),
/// retrying connection errors and 5xx replies with exponential backoff from 500 ms,
/// capped at 30 s. Redirects are not followed: a 3xx reply is a refusal, so an alert
/// body is never re-sent to a host the configuration did not name.
///
/// Runs on the notifier's worker thread, blocking it (never the engine) for the
/// request and the backoff; both end early when the dispatcher stops.
final class WebhookNotifier: Sendable {
    let name: String
    let configuration: WebhookNotifierConfiguration
    let url: URL
    private let client: BlockingHTTPClient

    /// Longest pause between two attempts.
    static let maxBackoff: Int64 = 30_000_000_000

    /// What became of one POST attempt.
    typealias Attempt = BlockingHTTPClient.Outcome

    init?(name: String, configuration: WebhookNotifierConfiguration) {
        guard let url = URL(string: configuration.url) else { return nil }
        self.name = name
        self.configuration = configuration
        self.url = url
        client = BlockingHTTPClient(timeout: configuration.timeout)
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

    private func post(_ body: [UInt8], stopping: @Sendable () -> Bool) -> Attempt {
        client.send(
            .POST,
            url: configuration.url,
            headers: [("Content-Type", "application/json")],
            body: body,
            stopping: stopping
        )
    }

    /// Ends the HTTP client (an in-flight request is cancelled).
    func close() {
        client.close()
    }
}
