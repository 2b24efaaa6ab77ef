import Foundation
import Testing

@testable import ZeroMQ

@Suite("Socket options, endpoints and errors")
struct OptionsTests {
    @Test("Binding tcp://127.0.0.1:* picks a free port that lastEndpoint reports")
    func ephemeralPorts() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let first = try context.makeSocket(.rep)
        let second = try context.makeSocket(.rep)
        let client = try context.makeSocket(.req)
        defer {
            first.close(linger: 0)
            second.close(linger: 0)
            client.close(linger: 0)
        }
        let firstEndpoint = try bindLoopback(first)
        let secondEndpoint = try bindLoopback(second)
        for endpoint in [firstEndpoint, secondEndpoint] {
            #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
            let port = try #require(Int(endpoint.dropFirst("tcp://127.0.0.1:".count)))
            #expect((1...65_535).contains(port))
        }
        #expect(firstEndpoint != secondEndpoint)

        // The reported endpoint is real: a client reaches it.
        try client.setReceiveTimeout(patience)
        try first.setReceiveTimeout(patience)
        try client.connect(firstEndpoint)
        #expect(try client.lastEndpoint == firstEndpoint)
        try client.send("ping")
        let request = Message()
        #expect(try first.receive(into: request))
        #expect(request.string == "ping")
        #expect(request.metadata("Socket-Type") == "REQ")
        #expect(request.metadata("Peer-Address") == "127.0.0.1")
        try first.send("pong")
        #expect(try client.receive(into: request))
        #expect(request.string == "pong")

        // A second bind to the same port fails, with the endpoint in the error.
        let clash = #expect(throws: ZMQError.self) { try second.bind(firstEndpoint) }
        #expect(clash?.code == EADDRINUSE)
        #expect(clash?.kind == .other)
        #expect(clash?.operation == "zmq_bind(\(firstEndpoint))")
        #expect(clash?.description.contains("Address already in use") == true)
        #expect(clash?.hint != nil)

        try second.unbind(secondEndpoint)
        let notBound = #expect(throws: ZMQError.self) { try second.unbind(secondEndpoint) }
        #expect(notBound?.code == ENOENT)
        try client.disconnect(firstEndpoint)
    }

    @Test("ipc:// endpoints work and report their path")
    func ipcEndpoint() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let server = try context.makeSocket(.pull)
        let client = try context.makeSocket(.push)
        defer {
            server.close(linger: 0)
            client.close(linger: 0)
        }
        let endpoint = uniqueIPC("options")
        try server.bind(endpoint)
        #expect(try server.lastEndpoint == endpoint)
        try server.setReceiveTimeout(patience)
        try client.connect(endpoint)
        try client.send("over ipc")
        let message = Message()
        #expect(try server.receive(into: message))
        #expect(message.string == "over ipc")
    }

    @Test("Malformed endpoints and unknown transports throw with a hint")
    func endpointErrors() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let socket = try context.makeSocket(.pull)
        defer { socket.close(linger: 0) }
        let transport = #expect(throws: ZMQError.self) { try socket.bind("carrier-pigeon://roof") }
        #expect(transport?.code == EPROTONOSUPPORT)
        #expect(transport?.hint?.contains("tcp://") == true)
        let malformed = #expect(throws: ZMQError.self) { try socket.connect("tcp://no-port") }
        #expect(malformed?.code == EINVAL)
        #expect(malformed?.operation == "zmq_connect(tcp://no-port)")
    }

    @Test("Typed options read back what was set")
    func optionRoundTrips() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let socket = try context.makeSocket(.dealer)
        defer { socket.close(linger: 0) }

        try socket.setLinger(250)
        #expect(try socket.linger == 250)
        try socket.setSendHighWaterMark(64)
        #expect(try socket.sendHighWaterMark == 64)
        try socket.setReceiveHighWaterMark(10_000)
        #expect(try socket.receiveHighWaterMark == 10_000)
        try socket.setSendTimeout(1_500)
        #expect(try socket.sendTimeout == 1_500)
        try socket.setReceiveTimeout(2_500)
        #expect(try socket.receiveTimeout == 2_500)
        try socket.setMaxMessageSize(1 << 33)
        #expect(try socket.maxMessageSize == 1 << 33)
        #expect(try socket.immediate == false)
        try socket.setImmediate(true)
        #expect(try socket.immediate == true)
        try socket.setRoutingId([0x70, 0x31])
        #expect(try socket.routingId == [0x70, 0x31])
        try socket.setRoutingId("agent-42")
        #expect(try socket.routingId == Array("agent-42".utf8))
        try socket.setTCPKeepalive(1)
        #expect(try socket.tcpKeepalive == 1)
        try socket.setTCPKeepaliveIdle(30)
        #expect(try socket.tcpKeepaliveIdle == 30)
        try socket.setTCPKeepaliveInterval(5)
        #expect(try socket.tcpKeepaliveInterval == 5)
        try socket.setTCPKeepaliveCount(3)
        #expect(try socket.tcpKeepaliveCount == 3)
        try socket.setReconnectInterval(250)
        #expect(try socket.reconnectInterval == 250)
        try socket.setReconnectIntervalMax(5_000)
        #expect(try socket.reconnectIntervalMax == 5_000)
        try socket.setConnectTimeout(2_000)
        #expect(try socket.connectTimeout == 2_000)
        try socket.setHandshakeInterval(3_000)
        #expect(try socket.handshakeInterval == 3_000)
        try socket.setHeartbeatInterval(1_000)
        #expect(try socket.heartbeatInterval == 1_000)
        try socket.setHeartbeatTimeout(3_000)
        #expect(try socket.heartbeatTimeout == 3_000)
        #expect(try socket.ipv6 == false)
        try socket.setIPv6(true)
        #expect(try socket.ipv6 == true)
        try socket.setConflate(true)
        #expect(try socket.conflate == true)
        try socket.setZAPDomain("vigie")
        #expect(try socket.zapDomain == "vigie")
        #expect(try socket.hasMore == false)
        #expect(try socket.events.contains(.pollIn) == false)
        #expect(try socket.fileDescriptor >= 0)

        // Write-only ROUTER options are accepted by a ROUTER, refused by others.
        let router = try context.makeSocket(.router)
        defer { router.close(linger: 0) }
        try router.setRouterMandatory(true)
        try router.setRouterHandover(true)
        let wrongType = #expect(throws: ZMQError.self) { try socket.setRouterMandatory(true) }
        #expect(wrongType?.code == EINVAL)
        #expect(wrongType?.operation == "zmq_setsockopt(ZMQ_ROUTER_MANDATORY)")
    }

    @Test("ROUTER_MANDATORY: sending to an unknown routing id throws EHOSTUNREACH; a known one is reached")
    func routerMandatory() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let router = try context.makeSocket(.router)
        let dealer = try context.makeSocket(.dealer)
        defer {
            router.close(linger: 0)
            dealer.close(linger: 0)
        }
        try router.setRouterMandatory(true)
        try router.setReceiveTimeout(patience)
        try dealer.setReceiveTimeout(patience)
        let endpoint = try bindLoopback(router)

        let unknown = #expect(throws: ZMQError.self) { try router.send("nobody", more: true) }
        #expect(unknown?.kind == .other)
        #expect(unknown?.code == EHOSTUNREACH)
        #expect(unknown?.hint?.contains("ROUTER_MANDATORY") == true)

        try dealer.setRoutingId("known")
        try dealer.connect(endpoint)
        try dealer.send("HELLO")
        let hello = try #require(try router.receiveMultipart())
        #expect(hello.map(\.string) == ["known", "HELLO"])
        #expect(try router.sendMultipart(["known", "WELCOME"]))
        let welcome = Message()
        #expect(try dealer.receive(into: welcome))
        #expect(welcome.string == "WELCOME")

        // The socket is still usable after the refused send.
        let again = #expect(throws: ZMQError.self) { try router.sendMultipart(["gone", "x"]) }
        #expect(again?.code == EHOSTUNREACH)
    }

    @Test("MAXMSGSIZE: an oversize message is dropped with its sender's connection; the socket carries on")
    func maxMessageSize() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let pull = try context.makeSocket(.pull)
        let monitor = try context.makeSocket(.pair)
        let push = try context.makeSocket(.push)
        defer {
            pull.close(linger: 0)
            monitor.close(linger: 0)
            push.close(linger: 0)
        }
        try pull.setMaxMessageSize(1_024)
        let monitorEndpoint = uniqueInproc("monitor")
        try pull.startMonitor(endpoint: monitorEndpoint, events: [.accepted, .disconnected])
        try monitor.connect(monitorEndpoint)
        try monitor.setReceiveTimeout(patience)
        let endpoint = try bindLoopback(pull)
        try push.setReconnectInterval(50)
        try push.connect(endpoint)

        try push.send([UInt8](repeating: 0xAB, count: 4_096))

        // The PULL side accepts the connection, then drops it on the oversize frame.
        var seen: [MonitorEvents] = []
        while !seen.contains(.disconnected) {
            let event = try #require(try monitor.receiveMonitorEvent())
            #expect(event.endpoint.hasPrefix("tcp://127.0.0.1:"))
            seen.append(event.event)
        }
        #expect(seen.first == .accepted)

        // The socket survives and the reconnected peer is heard; the oversize frame never arrives.
        var delivered: Message?
        for attempt in 0..<100 where delivered == nil {
            try push.send("small \(attempt)")
            var poller = Poller()
            poller.register(pull)
            if try poller.poll(timeoutMilliseconds: 100) > 0 {
                let message = Message()
                #expect(try pull.receive(into: message))
                delivered = message
            }
        }
        let message = try #require(delivered)
        #expect(message.count <= 1_024)
        #expect(message.string.hasPrefix("small "))
        try pull.stopMonitor()
    }

    @Test("Errors map errno to kinds and explain themselves")
    func errorMapping() {
        #expect(ZMQError(code: EAGAIN, operation: "x").kind == .wouldBlock)
        #expect(ZMQError(code: ZMQError.Code.terminated, operation: "x").kind == .terminated)
        #expect(ZMQError(code: EHOSTUNREACH, operation: "x").kind == .other)
        let error = ZMQError(code: EADDRINUSE, operation: "zmq_bind(tcp://127.0.0.1:7600)")
        #expect(error.message == "Address already in use")
        let expected = "zmq_bind(tcp://127.0.0.1:7600) failed: Address already in use (errno \(EADDRINUSE)); "
        #expect(error.description.hasPrefix(expected))
        #expect(ZMQError(code: ZMQError.Code.terminated, operation: "x").message == "Context was terminated")
    }

    @Test("The library version is the one linked")
    func version() {
        let version = ZMQVersion.current
        #expect(version.major == 4)
        #expect(version.minor >= 2)
        #expect(ZMQVersion.has("ipc"))
    }
}
