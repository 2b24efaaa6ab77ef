import Foundation
import VigieConfig
import VigieCore
import ZeroMQ

/// The sockets of `[endpoints]`: ingest ROUTERs, push PULLs, control ROUTERs (the
/// operator socket first) and the feed PUB sockets. Binds them at start, rebinds on
/// reload, knows which are CURVE servers and what each control socket allows.
/// Engine thread only.
final class EndpointSet {
    enum Role: String { case ingest, push, control }

    private(set) var ingest: [Socket] = []
    private(set) var push: [Socket] = []
    /// The operator socket, the configured control sockets, then the internal one.
    /// Closed sockets stay (closed) so that indices held elsewhere remain valid.
    private(set) var control: [Socket] = []
    /// What was bound, as resolved (wildcard ports), in the configured order.
    private(set) var bound = BoundEndpoints()
    let feed: FeedPublisher
    /// `ipc://<runtime_dir>/control.sock`: every op, bound at start and kept until stop.
    let operatorEndpoint: String

    private var endpoints: EndpointsConfiguration
    private var security: SecurityConfiguration
    private let context: ZMQContext
    private let limits: (ingestMessage: Int64, controlRequest: Int64)
    /// Each configured socket by "role endpoint" (a reload closes a removed one by it).
    private var byEndpoint: [String: Socket] = [:]
    /// The endpoint of each control socket but the internal one (``access(_:curve:)``).
    private var controlEndpoints: [ObjectIdentifier: String] = [:]
    private var curveSockets: Set<ObjectIdentifier> = []

    /// Binds every endpoint of `configuration` (and `internalControl`, the in-process
    /// `/metrics` socket); if one fails, closes what was opened and throws.
    init(configuration: VigieConfiguration, context: ZMQContext, internalControl: String?, now: Int64) throws {
        self.context = context
        self.endpoints = configuration.endpoints
        self.security = configuration.security
        self.operatorEndpoint = configuration.operatorControlEndpoint
        self.limits = (configuration.ingest.maxMessageSize, Int64(configuration.endpoints.controlMaxRequest))
        var opened: [Socket] = []
        do {
            let feedSocket = try Self.makeFeedSocket(context, configuration, curve: false)
            opened.append(feedSocket)
            // CURVE is a socket option: CURVE feed endpoints get a PUB socket of their own.
            let curveFeed =
                try configuration.security.curve ? Self.makeFeedSocket(context, configuration, curve: true) : nil
            if let curveFeed { opened.append(curveFeed) }
            feed = FeedPublisher(socket: feedSocket, curveSocket: curveFeed, epoch: FeedPublisher.makeEpoch(now: now))
            for endpoint in configuration.endpoints.ingest {
                let socket = try bind(.ingest, endpoint)
                opened.append(socket)
                try add(socket, .ingest, endpoint)
            }
            for endpoint in configuration.endpoints.push {
                let socket = try bind(.push, endpoint)
                opened.append(socket)
                try add(socket, .push, endpoint)
            }
            for endpoint in configuration.endpoints.feed {
                let socket = feed.socket(curve: security.requiresCurve(endpoint))
                try EndpointsConfiguration.prepareIPCDirectory(endpoint)
                try socket.bind(endpoint)
                bound.feed.append(try socket.lastEndpoint)
            }
            try RuntimeDirectory.prepare(configuration.daemon.runtimeDir)
            let operatorSocket = try bind(.control, operatorEndpoint)
            opened.append(operatorSocket)
            // Connecting needs write permission on the socket file: the daemon's group
            // gets it whatever the umask (the 0750 directory keeps others out).
            let socketPath = String(operatorEndpoint.dropFirst("ipc://".count))
            guard chmod(socketPath, 0o770) == 0 else {
                throw DaemonError(message: "cannot set mode 0770 on \(socketPath): \(String(cString: strerror(errno)))")
            }
            bound.control.append(try operatorSocket.lastEndpoint)
            control.append(operatorSocket)
            controlEndpoints[ObjectIdentifier(operatorSocket)] = operatorEndpoint
            for endpoint in Self.configuredControl(endpoints, operatorEndpoint) {
                let socket = try bind(.control, endpoint)
                opened.append(socket)
                try add(socket, .control, endpoint)
            }
            if let internalControl {
                let socket = try bind(.control, internalControl)
                opened.append(socket)
                control.append(socket)
            }
        } catch {
            for socket in opened { socket.close(linger: 0) }
            throw error
        }
    }

    /// Whether `socket` is a CURVE server (its peers are authenticated keys).
    func isCurve(_ socket: Socket) -> Bool {
        !curveSockets.isEmpty && curveSockets.contains(ObjectIdentifier(socket))
    }

    /// What a request on control `socket` may do: a CURVE socket's key decides; an ipc
    /// socket (the operator socket, guarded by its directory) allows every op; plain TCP
    /// allows what `[security] tcp_control` says; the internal inproc socket (`/metrics`)
    /// only reads.
    func access(_ socket: Socket, curve: Bool) -> ControlHandler.Access {
        if curve { return .byKey }
        guard let endpoint = controlEndpoints[ObjectIdentifier(socket)] else { return .readOnly(endpoint: "inproc") }
        switch security.controlAccess(plainEndpoint: endpoint) {
        case .operator: return .all
        case .readOnly: return .readOnly(endpoint: endpoint)
        }
    }

    /// Binds the endpoints `next` adds and closes those it removes, for ingest, push,
    /// control and the feed; unchanged endpoints keep their sockets and peers. All new
    /// binds happen first: if one fails, the new sockets are closed and nothing changes.
    /// `security` is the next configuration's (authorized keys, `tcp_control`).
    ///
    /// - Returns: what changed, e.g. `bound ingest ipc:///run/vigie/ingest2.sock`.
    func rebind(to next: EndpointsConfiguration, security nextSecurity: SecurityConfiguration) throws -> [String] {
        let old = endpoints
        let oldControl = Self.configuredControl(old, operatorEndpoint)
        let nextControl = Self.configuredControl(next, operatorEndpoint)
        let roles: [(Role, [String], [String])] = [
            (.ingest, old.ingest, next.ingest), (.push, old.push, next.push), (.control, oldControl, nextControl),
        ]
        var added: [(Role, String, Socket)] = []
        var feedBound: [(endpoint: String, resolved: String)] = []
        do {
            for (role, before, after) in roles {
                for endpoint in after where !before.contains(endpoint) {
                    added.append((role, endpoint, try bind(role, endpoint)))
                }
            }
            for endpoint in next.feed where !old.feed.contains(endpoint) {
                let socket = feed.socket(curve: security.requiresCurve(endpoint))
                try EndpointsConfiguration.prepareIPCDirectory(endpoint)
                try socket.bind(endpoint)
                feedBound.append((endpoint, try socket.lastEndpoint))
            }
        } catch {
            for (_, _, socket) in added { socket.close(linger: 0) }
            for entry in feedBound {
                try? feed.socket(curve: security.requiresCurve(entry.endpoint)).unbind(entry.resolved)
            }
            throw error
        }
        var changes: [String] = []
        for (role, before, after) in roles {
            for endpoint in before where !after.contains(endpoint) {
                if let socket = byEndpoint.removeValue(forKey: "\(role) \(endpoint)") {
                    controlEndpoints.removeValue(forKey: ObjectIdentifier(socket))
                    socket.close(linger: 0)
                }
                changes.append("closed \(role) \(endpoint)")
            }
        }
        for (index, endpoint) in old.feed.enumerated() where !next.feed.contains(endpoint) {
            try? feed.socket(curve: security.requiresCurve(endpoint))
                .unbind(index < bound.feed.count ? bound.feed[index] : endpoint)
            changes.append("closed feed \(endpoint)")
        }
        let resolvedBefore = bound
        for (role, endpoint, socket) in added {
            try? add(socket, role, endpoint)
            changes.append("bound \(role) \(endpoint)")
        }
        for entry in feedBound { changes.append("bound feed \(entry.endpoint)") }
        // Each role's endpoints in the configured order, as resolved (wildcard ports).
        func resolved(_ endpoints: [String], _ before: [String], _ earlier: [String]) -> [String] {
            endpoints.compactMap { endpoint in
                if let index = before.firstIndex(of: endpoint), index < earlier.count { return earlier[index] }
                if let entry = feedBound.first(where: { $0.endpoint == endpoint }) { return entry.resolved }
                return added.first { $0.1 == endpoint }.flatMap { try? $0.2.lastEndpoint }
            }
        }
        bound.ingest = resolved(next.ingest, old.ingest, resolvedBefore.ingest)
        bound.push = resolved(next.push, old.push, resolvedBefore.push)
        bound.feed = resolved(next.feed, old.feed, resolvedBefore.feed)
        bound.control =
            Array(resolvedBefore.control.prefix(1))
            + resolved(nextControl, oldControl, Array(resolvedBefore.control.dropFirst()))
        endpoints = next
        security = nextSecurity
        return changes
    }

    /// Takes the next configuration's security settings (a reload without endpoint changes).
    func update(security next: SecurityConfiguration) {
        security = next
    }

    /// Closes every socket: replies not sent yet on ingest and control get `linger` ms.
    func close(replyLinger: Int32) {
        for socket in ingest + control { socket.close(linger: replyLinger) }
        for socket in push { socket.close(linger: 0) }
        feed.close()
    }

    /// `[endpoints] control` without the operator socket (bound on its own, kept across reloads).
    static func configuredControl(_ endpoints: EndpointsConfiguration, _ operatorEndpoint: String) -> [String] {
        endpoints.control.filter { $0 != operatorEndpoint }
    }

    /// Records a configured socket just bound.
    private func add(_ socket: Socket, _ role: Role, _ endpoint: String) throws {
        byEndpoint["\(role) \(endpoint)"] = socket
        if (try? socket.curveServer) == true { curveSockets.insert(ObjectIdentifier(socket)) }
        let resolved = try socket.lastEndpoint
        switch role {
        case .ingest:
            ingest.append(socket)
            bound.ingest.append(resolved)
        case .push:
            push.append(socket)
            bound.push.append(resolved)
        case .control:
            control.append(socket)
            bound.control.append(resolved)
            controlEndpoints[ObjectIdentifier(socket)] = endpoint
        }
    }

    /// A socket of `role` (ingest ROUTER, push PULL or control ROUTER) bound to `endpoint`.
    private func bind(_ role: Role, _ endpoint: String) throws -> Socket {
        let socket = try context.makeSocket(role == .push ? .pull : .router)
        do {
            switch role {
            case .ingest:
                try socket.setRouterMandatory(true)
                try socket.setRouterHandover(true)
                try socket.setMaxMessageSize(limits.ingestMessage)
            case .push:
                try socket.setMaxMessageSize(limits.ingestMessage)
            case .control:
                try socket.setMaxMessageSize(limits.controlRequest)
            }
            try socket.setLinger(0)
            if security.requiresCurve(endpoint) { try Self.makeCurveServer(socket, security) }
            try EndpointsConfiguration.prepareIPCDirectory(endpoint)
            try socket.bind(endpoint)
        } catch {
            socket.close(linger: 0)
            throw error
        }
        return socket
    }

    private static func makeFeedSocket(
        _ context: ZMQContext,
        _ configuration: VigieConfiguration,
        curve: Bool
    ) throws
        -> Socket
    {
        let socket = try context.makeSocket(.pub)
        do {
            try socket.setSendHighWaterMark(Int32(clamping: configuration.endpoints.feedHighWaterMark))
            try socket.setLinger(0)
            if curve { try makeCurveServer(socket, configuration.security) }
        } catch {
            socket.close(linger: 0)
            throw error
        }
        return socket
    }

    /// Makes `socket` a CURVE server with the daemon's key, authenticated by the ZAP handler.
    private static func makeCurveServer(_ socket: Socket, _ security: SecurityConfiguration) throws {
        guard let secret = security.serverCertificate?.secretKey else {
            throw DaemonError(message: "[security] curve = true but no secret key was loaded")
        }
        try socket.setCurveServer(true)
        try socket.setCurveSecretKey(secret)
        try socket.setZAPDomain(ZAPHandler.domain)
    }
}
