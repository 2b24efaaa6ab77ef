import Foundation
import VigieCore
import ZeroMQ

/// A feed subscriber that collects decoded messages, for tests.
public final class FeedSubscriber {
    public let socket: Socket

    public init(context: ZMQContext, endpoint: String, prefixes: [String]) throws {
        socket = try context.makeSocket(.sub)
        try socket.setLinger(0)
        for prefix in prefixes { try socket.subscribe(prefix) }
        try socket.connect(endpoint)
    }

    /// Waits until a message whose topic starts with `topicPrefix` satisfies `match`; returns it.
    public func waitFor(
        _ topicPrefix: String,
        timeoutMilliseconds: Int = 5_000,
        where match: ([String: Any]) -> Bool = { _ in true }
    ) throws -> (topic: String, body: [String: Any], raw: String)? {
        let deadline = monotonicNanoseconds() + UInt64(timeoutMilliseconds) * 1_000_000
        while monotonicNanoseconds() < deadline {
            let left = Int((deadline - monotonicNanoseconds()) / 1_000_000) + 1
            guard let frames = try socket.receiveMultipart(timeoutMilliseconds: left), frames.count == 2 else {
                continue
            }
            let topic = String(decoding: frames[0], as: UTF8.self)
            let raw = String(decoding: frames[1], as: UTF8.self)
            guard topic.hasPrefix(topicPrefix),
                let body = try? JSONSerialization.jsonObject(with: Data(frames[1])) as? [String: Any], match(body)
            else { continue }
            return (topic, body, raw)
        }
        return nil
    }

    public func close() { socket.close(linger: 0) }
}
