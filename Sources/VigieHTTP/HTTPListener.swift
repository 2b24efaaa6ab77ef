import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// What a route answers.
public struct HTTPReply: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: Int, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }
}

/// A small HTTP/1.1 listener on SwiftNIO for the daemon's `/metrics` and `/healthz`:
/// one event-loop thread; each GET is answered by `route(path)`, run on NIO's blocking
/// thread pool (it may wait for the engine thread), never on the event loop. Other
/// methods get 405; request bodies are ignored.
public final class HTTPListener: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let channel: any Channel
    /// The bound address (the resolved port when 0 was asked for).
    public let port: Int

    /// Binds `host:port` and starts serving.
    ///
    /// - Throws: the bind error (address in use, unknown host…); nothing is left running.
    ///
    /// `allowedHosts`: names a request's `Host` header may carry besides IP literals,
    /// `localhost` and `host`; a request naming another gets 421 (DNS rebinding: a web
    /// page whose name now resolves to this address must not read what it serves).
    public init(
        host: String,
        port: Int,
        allowedHosts: [String] = [],
        route: @escaping @Sendable (String) -> HTTPReply
    ) throws {
        let hosts = HostCheck(listenHost: host, allowed: allowedHosts)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        do {
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 64)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline().flatMap {
                        channel.pipeline.addHandler(RouteHandler(route: route, pool: pool, hosts: hosts))
                    }
                }
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? pool.syncShutdownGracefully()
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.pool = pool
        self.port = channel.localAddress?.port ?? port
    }

    /// Stops listening and waits for the threads.
    public func stop() {
        try? channel.close().wait()
        try? pool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }
}

private final class RouteHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let route: @Sendable (String) -> HTTPReply
    private let pool: NIOThreadPool
    private let hosts: HostCheck
    private var head: HTTPRequestHead?

    init(route: @escaping @Sendable (String) -> HTTPReply, pool: NIOThreadPool, hosts: HostCheck) {
        self.route = route
        self.pool = pool
        self.hosts = hosts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            break
        case .end:
            guard let request = head else { return }
            head = nil
            let keepAlive = request.isKeepAlive
            if let host = request.headers.first(name: "Host"), !hosts.allows(host) {
                respond(context, HTTPReply(status: 421, text: "host not served here\n"), keepAlive: false, head: false)
                return
            }
            guard request.method == .GET || request.method == .HEAD else {
                respond(context, HTTPReply(status: 405, text: "only GET\n"), keepAlive: keepAlive, head: false)
                return
            }
            let path = String(request.uri.prefix { $0 != "?" })
            let route = self.route
            let isHead = request.method == .HEAD
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            pool.submit { state in
                let reply = state == .active ? route(path) : HTTPReply(status: 503, text: "shutting down\n")
                loop.execute {
                    let (handler, context) = bound.value
                    handler.respond(context, reply, keepAlive: keepAlive, head: isHead)
                }
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ reply: HTTPReply, keepAlive: Bool, head isHead: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: String(reply.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: reply.status),
            headers: headers
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !isHead {
            var buffer = context.channel.allocator.buffer(capacity: reply.body.count)
            buffer.writeBytes(reply.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// Which `Host` header values the listener answers.
struct HostCheck: Sendable {
    private let names: Set<String>

    init(listenHost: String, allowed: [String]) {
        names = Set((allowed + [listenHost, "localhost"]).map { $0.lowercased() })
    }

    /// True for an IP literal (`127.0.0.1`, `[::1]`, with or without a port), `localhost`,
    /// the listen host and the configured names.
    func allows(_ header: String) -> Bool {
        var host = header.trimmingCharacters(in: .whitespaces).lowercased()
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        if host.hasSuffix(".") { host.removeLast() }
        return names.contains(host) || Self.isIPLiteral(host)
    }

    /// True for an IPv4 or IPv6 address written out (no brackets, no port).
    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
