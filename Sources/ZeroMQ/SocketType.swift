import CZeroMQ

/// The ZeroMQ socket patterns this module supports.
public enum SocketType: Sendable, CaseIterable, CustomStringConvertible {
    /// Exclusive pair, one peer (used for `inproc://` pipes and monitors).
    case pair
    /// Publisher: fan-out to subscribers, drops when a subscriber is slow.
    case pub
    /// Subscriber: receives the publisher's messages that match a subscribed prefix.
    case sub
    /// Strict request/reply client.
    case req
    /// Strict request/reply server.
    case rep
    /// Asynchronous client: round-robin out, fair-queued in.
    case dealer
    /// Asynchronous server: each message carries the peer's routing id as its first frame.
    case router
    /// Fair-queued receiver of a pipeline.
    case pull
    /// Round-robin sender of a pipeline.
    case push
    /// Publisher that also receives subscription messages.
    case xpub
    /// Subscriber that sends subscriptions as messages.
    case xsub

    /// libzmq's constant for this type (`ZMQ_PAIR`…).
    var zmqValue: Int32 {
        switch self {
        case .pair: return ZMQ_PAIR
        case .pub: return ZMQ_PUB
        case .sub: return ZMQ_SUB
        case .req: return ZMQ_REQ
        case .rep: return ZMQ_REP
        case .dealer: return ZMQ_DEALER
        case .router: return ZMQ_ROUTER
        case .pull: return ZMQ_PULL
        case .push: return ZMQ_PUSH
        case .xpub: return ZMQ_XPUB
        case .xsub: return ZMQ_XSUB
        }
    }

    /// The libzmq name, e.g. `ROUTER`.
    public var description: String {
        switch self {
        case .pair: return "PAIR"
        case .pub: return "PUB"
        case .sub: return "SUB"
        case .req: return "REQ"
        case .rep: return "REP"
        case .dealer: return "DEALER"
        case .router: return "ROUTER"
        case .pull: return "PULL"
        case .push: return "PUSH"
        case .xpub: return "XPUB"
        case .xsub: return "XSUB"
        }
    }
}
