import CZeroMQ

/// Typed socket options. Setters are methods because they can fail; getters are throwing properties. Every one
/// goes through the generic `setOption` / `getOption` of `SocketOptionValue.swift`.
///
/// Set options before ``Socket/bind(_:)`` / ``Socket/connect(_:)``: most take effect on new connections only.
extension Socket {
    // MARK: - Lifecycle and queues

    /// How long (ms) queued messages may still be delivered after close (`ZMQ_LINGER`); -1 is forever, 0 drops.
    public var linger: Int32 {
        get throws { try getOption(ZMQ_LINGER, "ZMQ_LINGER") }
    }

    /// Sets ``linger`` (ms): -1 waits forever at ``ZMQContext/terminate()``, 0 drops queued messages at close.
    public func setLinger(_ milliseconds: Int32) throws {
        try setOption(ZMQ_LINGER, "ZMQ_LINGER", milliseconds)
    }

    /// The outbound queue limit in messages (`ZMQ_SNDHWM`, default 1000; 0 is unlimited).
    public var sendHighWaterMark: Int32 {
        get throws { try getOption(ZMQ_SNDHWM, "ZMQ_SNDHWM") }
    }

    /// Sets ``sendHighWaterMark``: past it, sends block (or return `false` with `dontWait`), or PUB drops.
    public func setSendHighWaterMark(_ messages: Int32) throws {
        try setOption(ZMQ_SNDHWM, "ZMQ_SNDHWM", messages)
    }

    /// The inbound queue limit in messages (`ZMQ_RCVHWM`, default 1000; 0 is unlimited).
    public var receiveHighWaterMark: Int32 {
        get throws { try getOption(ZMQ_RCVHWM, "ZMQ_RCVHWM") }
    }

    /// Sets ``receiveHighWaterMark``: past it libzmq stops reading from the peers (or drops, for SUB).
    public func setReceiveHighWaterMark(_ messages: Int32) throws {
        try setOption(ZMQ_RCVHWM, "ZMQ_RCVHWM", messages)
    }

    /// How long (ms) a blocking send waits before throwing ``ZMQError/Kind/wouldBlock`` (`ZMQ_SNDTIMEO`);
    /// -1 (default) is forever.
    public var sendTimeout: Int32 {
        get throws { try getOption(ZMQ_SNDTIMEO, "ZMQ_SNDTIMEO") }
    }

    /// Sets ``sendTimeout`` (ms; -1 forever).
    public func setSendTimeout(_ milliseconds: Int32) throws {
        try setOption(ZMQ_SNDTIMEO, "ZMQ_SNDTIMEO", milliseconds)
    }

    /// How long (ms) a blocking receive waits before throwing ``ZMQError/Kind/wouldBlock`` (`ZMQ_RCVTIMEO`);
    /// -1 (default) is forever.
    public var receiveTimeout: Int32 {
        get throws { try getOption(ZMQ_RCVTIMEO, "ZMQ_RCVTIMEO") }
    }

    /// Sets ``receiveTimeout`` (ms; -1 forever).
    public func setReceiveTimeout(_ milliseconds: Int32) throws {
        try setOption(ZMQ_RCVTIMEO, "ZMQ_RCVTIMEO", milliseconds)
    }

    /// The largest inbound message accepted, in bytes (`ZMQ_MAXMSGSIZE`); -1 (default) is no limit.
    public var maxMessageSize: Int64 {
        get throws { try getOption(ZMQ_MAXMSGSIZE, "ZMQ_MAXMSGSIZE") }
    }

    /// Sets ``maxMessageSize`` (bytes; -1 no limit). A peer that sends a larger frame is disconnected; the
    /// frame is never delivered and this socket carries on.
    public func setMaxMessageSize(_ bytes: Int64) throws {
        try setOption(ZMQ_MAXMSGSIZE, "ZMQ_MAXMSGSIZE", bytes)
    }

    /// Whether messages are queued only to completed connections (`ZMQ_IMMEDIATE`, default `false`).
    public var immediate: Bool {
        get throws { try getOption(ZMQ_IMMEDIATE, "ZMQ_IMMEDIATE") }
    }

    /// Sets ``immediate``: with `true`, a DEALER/PUSH with no live peer blocks (or returns `false` with
    /// `dontWait`) instead of queueing for a peer that may never come.
    public func setImmediate(_ enabled: Bool) throws {
        try setOption(ZMQ_IMMEDIATE, "ZMQ_IMMEDIATE", enabled)
    }

    /// Whether only whole new messages are kept, the last one (`ZMQ_CONFLATE`, default `false`).
    public var conflate: Bool {
        get throws { try getOption(ZMQ_CONFLATE, "ZMQ_CONFLATE") }
    }

    /// Sets ``conflate``: keep only the latest message (single-frame messages only; not for multipart).
    public func setConflate(_ enabled: Bool) throws {
        try setOption(ZMQ_CONFLATE, "ZMQ_CONFLATE", enabled)
    }

    // MARK: - Routing

    /// Sets `ZMQ_ROUTER_MANDATORY` (ROUTER only, write-only): with `true`, sending to a routing id that is not
    /// connected throws `EHOSTUNREACH` (kind ``ZMQError/Kind/other``) instead of dropping silently, and a full
    /// peer queue blocks (or returns `false` with `dontWait`).
    public func setRouterMandatory(_ enabled: Bool) throws {
        try setOption(ZMQ_ROUTER_MANDATORY, "ZMQ_ROUTER_MANDATORY", enabled)
    }

    /// Sets `ZMQ_ROUTER_HANDOVER` (ROUTER only, write-only): with `true`, a new connection with a routing id
    /// already in use takes it over (a reconnecting client) instead of being refused.
    public func setRouterHandover(_ enabled: Bool) throws {
        try setOption(ZMQ_ROUTER_HANDOVER, "ZMQ_ROUTER_HANDOVER", enabled)
    }

    /// The routing id this socket announces to ROUTER peers (`ZMQ_ROUTING_ID`); empty if none was set.
    public var routingId: [UInt8] {
        get throws { try getOption(ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID") }
    }

    /// Sets ``routingId``: 1 to 255 bytes, not starting with a zero byte; set before connecting.
    public func setRoutingId(_ id: [UInt8]) throws {
        try setOption(ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID", id)
    }

    /// Sets ``routingId`` to the UTF-8 bytes of `id`.
    public func setRoutingId(_ id: String) throws {
        try setOption(ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID", id)
    }

    // MARK: - Subscriptions (SUB, XSUB)

    /// Subscribes to messages whose first frame starts with `prefix` (an empty prefix takes everything).
    public func subscribe(_ prefix: [UInt8]) throws {
        try setOption(ZMQ_SUBSCRIBE, "ZMQ_SUBSCRIBE", prefix)
    }

    /// Subscribes to messages whose first frame starts with the UTF-8 bytes of `prefix` (e.g. `kpi.`).
    public func subscribe(_ prefix: String) throws {
        try setOption(ZMQ_SUBSCRIBE, "ZMQ_SUBSCRIBE", prefix)
    }

    /// Removes one earlier subscription to exactly `prefix`.
    public func unsubscribe(_ prefix: [UInt8]) throws {
        try setOption(ZMQ_UNSUBSCRIBE, "ZMQ_UNSUBSCRIBE", prefix)
    }

    /// Removes one earlier subscription to exactly the UTF-8 bytes of `prefix`.
    public func unsubscribe(_ prefix: String) throws {
        try setOption(ZMQ_UNSUBSCRIBE, "ZMQ_UNSUBSCRIBE", prefix)
    }

    // MARK: - Connections

    /// Whether TCP keepalive is on (`ZMQ_TCP_KEEPALIVE`): -1 system default, 0 off, 1 on.
    public var tcpKeepalive: Int32 {
        get throws { try getOption(ZMQ_TCP_KEEPALIVE, "ZMQ_TCP_KEEPALIVE") }
    }

    /// Sets ``tcpKeepalive`` (-1 system default, 0 off, 1 on).
    public func setTCPKeepalive(_ mode: Int32) throws {
        try setOption(ZMQ_TCP_KEEPALIVE, "ZMQ_TCP_KEEPALIVE", mode)
    }

    /// Seconds of idleness before the first keepalive probe (`ZMQ_TCP_KEEPALIVE_IDLE`; -1 system default).
    public var tcpKeepaliveIdle: Int32 {
        get throws { try getOption(ZMQ_TCP_KEEPALIVE_IDLE, "ZMQ_TCP_KEEPALIVE_IDLE") }
    }

    /// Sets ``tcpKeepaliveIdle`` (seconds).
    public func setTCPKeepaliveIdle(_ seconds: Int32) throws {
        try setOption(ZMQ_TCP_KEEPALIVE_IDLE, "ZMQ_TCP_KEEPALIVE_IDLE", seconds)
    }

    /// Seconds between keepalive probes (`ZMQ_TCP_KEEPALIVE_INTVL`; -1 system default).
    public var tcpKeepaliveInterval: Int32 {
        get throws { try getOption(ZMQ_TCP_KEEPALIVE_INTVL, "ZMQ_TCP_KEEPALIVE_INTVL") }
    }

    /// Sets ``tcpKeepaliveInterval`` (seconds).
    public func setTCPKeepaliveInterval(_ seconds: Int32) throws {
        try setOption(ZMQ_TCP_KEEPALIVE_INTVL, "ZMQ_TCP_KEEPALIVE_INTVL", seconds)
    }

    /// Unanswered keepalive probes before the connection is dropped (`ZMQ_TCP_KEEPALIVE_CNT`; -1 default).
    public var tcpKeepaliveCount: Int32 {
        get throws { try getOption(ZMQ_TCP_KEEPALIVE_CNT, "ZMQ_TCP_KEEPALIVE_CNT") }
    }

    /// Sets ``tcpKeepaliveCount``.
    public func setTCPKeepaliveCount(_ probes: Int32) throws {
        try setOption(ZMQ_TCP_KEEPALIVE_CNT, "ZMQ_TCP_KEEPALIVE_CNT", probes)
    }

    /// The first reconnection delay in ms (`ZMQ_RECONNECT_IVL`, default 100; -1 never reconnects).
    public var reconnectInterval: Int32 {
        get throws { try getOption(ZMQ_RECONNECT_IVL, "ZMQ_RECONNECT_IVL") }
    }

    /// Sets ``reconnectInterval`` (ms).
    public func setReconnectInterval(_ milliseconds: Int32) throws {
        try setOption(ZMQ_RECONNECT_IVL, "ZMQ_RECONNECT_IVL", milliseconds)
    }

    /// The ceiling in ms of the doubling reconnection delay (`ZMQ_RECONNECT_IVL_MAX`; 0, the default, means
    /// no backoff: always ``reconnectInterval``).
    public var reconnectIntervalMax: Int32 {
        get throws { try getOption(ZMQ_RECONNECT_IVL_MAX, "ZMQ_RECONNECT_IVL_MAX") }
    }

    /// Sets ``reconnectIntervalMax`` (ms).
    public func setReconnectIntervalMax(_ milliseconds: Int32) throws {
        try setOption(ZMQ_RECONNECT_IVL_MAX, "ZMQ_RECONNECT_IVL_MAX", milliseconds)
    }

    /// How long in ms a `tcp://` connect may take before it is retried (`ZMQ_CONNECT_TIMEOUT`; 0: the OS's).
    public var connectTimeout: Int32 {
        get throws { try getOption(ZMQ_CONNECT_TIMEOUT, "ZMQ_CONNECT_TIMEOUT") }
    }

    /// Sets ``connectTimeout`` (ms).
    public func setConnectTimeout(_ milliseconds: Int32) throws {
        try setOption(ZMQ_CONNECT_TIMEOUT, "ZMQ_CONNECT_TIMEOUT", milliseconds)
    }

    /// How long in ms the ZMTP (and CURVE) handshake may take before the connection is dropped
    /// (`ZMQ_HANDSHAKE_IVL`, default 30 000; 0 no limit).
    public var handshakeInterval: Int32 {
        get throws { try getOption(ZMQ_HANDSHAKE_IVL, "ZMQ_HANDSHAKE_IVL") }
    }

    /// Sets ``handshakeInterval`` (ms).
    public func setHandshakeInterval(_ milliseconds: Int32) throws {
        try setOption(ZMQ_HANDSHAKE_IVL, "ZMQ_HANDSHAKE_IVL", milliseconds)
    }

    /// The interval in ms of ZMTP heartbeat PINGs (`ZMQ_HEARTBEAT_IVL`; 0, the default, sends none).
    public var heartbeatInterval: Int32 {
        get throws { try getOption(ZMQ_HEARTBEAT_IVL, "ZMQ_HEARTBEAT_IVL") }
    }

    /// Sets ``heartbeatInterval`` (ms): detects dead peers that TCP alone would not notice for minutes.
    public func setHeartbeatInterval(_ milliseconds: Int32) throws {
        try setOption(ZMQ_HEARTBEAT_IVL, "ZMQ_HEARTBEAT_IVL", milliseconds)
    }

    /// How long in ms to wait for traffic after a PING before dropping the connection
    /// (`ZMQ_HEARTBEAT_TIMEOUT`; 0 means ``heartbeatInterval``).
    public var heartbeatTimeout: Int32 {
        get throws { try getOption(ZMQ_HEARTBEAT_TIMEOUT, "ZMQ_HEARTBEAT_TIMEOUT") }
    }

    /// Sets ``heartbeatTimeout`` (ms).
    public func setHeartbeatTimeout(_ milliseconds: Int32) throws {
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, "ZMQ_HEARTBEAT_TIMEOUT", milliseconds)
    }

    /// Whether `tcp://` sockets use IPv6 as well as IPv4 (`ZMQ_IPV6`, default `false`).
    public var ipv6: Bool {
        get throws { try getOption(ZMQ_IPV6, "ZMQ_IPV6") }
    }

    /// Sets ``ipv6``; needed to bind or connect to `tcp://[::1]:…`.
    public func setIPv6(_ enabled: Bool) throws {
        try setOption(ZMQ_IPV6, "ZMQ_IPV6", enabled)
    }

    // MARK: - State

    /// `true` when the last frame received has more frames after it (`ZMQ_RCVMORE`).
    public var hasMore: Bool {
        get throws { try getOption(ZMQ_RCVMORE, "ZMQ_RCVMORE") }
    }

    /// What the socket can do right now without blocking (`ZMQ_EVENTS`): ``PollEvents/pollIn`` when a message
    /// is waiting, ``PollEvents/pollOut`` when one can be queued.
    ///
    /// Reading it also processes libzmq's pending commands, so after waiting on ``fileDescriptor`` (which is
    /// edge-triggered) read `events` until `pollIn` is gone.
    public var events: PollEvents {
        get throws {
            let raw: Int32 = try getOption(ZMQ_EVENTS, "ZMQ_EVENTS")
            return PollEvents(rawValue: Int16(truncatingIfNeeded: raw))
        }
    }

    /// A file descriptor that becomes readable when ``events`` may have changed (`ZMQ_FD`), for integrating
    /// with another event loop. Edge-triggered: never read from it, and check ``events`` after each wake-up.
    public var fileDescriptor: Int32 {
        get throws { try getOption(ZMQ_FD, "ZMQ_FD") }
    }

    // MARK: - Security

    /// Makes this socket a CURVE client of the server whose public key is `serverKey`, with its own long-term
    /// key pair (all 40-character Z85 text); call before `connect`.
    public func setCurveClient(serverKey: String, publicKey: String, secretKey: String) throws {
        try setCurveServerKey(serverKey)
        try setCurvePublicKey(publicKey)
        try setCurveSecretKey(secretKey)
    }

    /// Whether this socket is a CURVE server (`ZMQ_CURVE_SERVER`).
    public var curveServer: Bool {
        get throws { try getOption(ZMQ_CURVE_SERVER, "ZMQ_CURVE_SERVER") }
    }

    /// Sets ``curveServer``: with `true`, peers must handshake with CURVE; the server also needs its secret key.
    public func setCurveServer(_ enabled: Bool) throws {
        try setOption(ZMQ_CURVE_SERVER, "ZMQ_CURVE_SERVER", enabled)
    }

    /// This socket's long-term CURVE public key, as 40 Z85 characters (empty-key text if none was set).
    public var curvePublicKey: String {
        get throws { try getOption(ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", capacity: Curve.z85KeyLength + 1) }
    }

    /// Sets this socket's long-term CURVE public key (client side) from 32 raw bytes.
    public func setCurvePublicKey(_ key: [UInt8]) throws {
        try setOption(ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", key)
    }

    /// Sets this socket's long-term CURVE public key (client side) from 40 Z85 characters.
    public func setCurvePublicKey(_ key: String) throws {
        try setOption(ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", key)
    }

    /// This socket's long-term CURVE secret key, as 40 Z85 characters.
    public var curveSecretKey: String {
        get throws { try getOption(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", capacity: Curve.z85KeyLength + 1) }
    }

    /// Sets this socket's long-term CURVE secret key (client and server) from 32 raw bytes.
    public func setCurveSecretKey(_ key: [UInt8]) throws {
        try setOption(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", key)
    }

    /// Sets this socket's long-term CURVE secret key (client and server) from 40 Z85 characters.
    public func setCurveSecretKey(_ key: String) throws {
        try setOption(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", key)
    }

    /// The server's CURVE public key this client expects, as 40 Z85 characters.
    public var curveServerKey: String {
        get throws { try getOption(ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY", capacity: Curve.z85KeyLength + 1) }
    }

    /// Sets the server's CURVE public key (client side) from 32 raw bytes; makes this socket a CURVE client.
    public func setCurveServerKey(_ key: [UInt8]) throws {
        try setOption(ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY", key)
    }

    /// Sets the server's CURVE public key (client side) from 40 Z85 characters; makes this socket a CURVE
    /// client.
    public func setCurveServerKey(_ key: String) throws {
        try setOption(ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY", key)
    }

    /// The ZAP domain sent to the authentication handler (`ZMQ_ZAP_DOMAIN`); empty if none.
    public var zapDomain: String {
        get throws { try getOption(ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN") }
    }

    /// Sets ``zapDomain``. With libzmq 4.3 and a ZAP handler bound at `inproc://zeromq.zap.01`, CURVE and
    /// PLAIN connections are authenticated by it whatever the domain.
    public func setZAPDomain(_ domain: String) throws {
        try setOption(ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", domain)
    }
}
