import Foundation
import Testing

@testable import ZeroMQ

/// Uses every public entry point with the exact spelling other modules code against, so that a rename breaks
/// this file at compile time; the assertions check the few behaviours not covered elsewhere.
@Suite("Public API contract")
struct APIContractTests {
    @Test("Every documented call compiles with its documented labels and defaults")
    func contract() throws {
        let context = try ZMQContext(ioThreads: 1)
        defer { terminate(context) }
        for type in SocketType.allCases {
            let socket = try context.makeSocket(type)
            #expect(socket.socketType == type)
            socket.close()
        }

        let sub = try context.makeSocket(.sub)
        let pub = try context.makeSocket(.pub)
        defer {
            sub.close(linger: 0)
            pub.close()
        }
        try sub.subscribe([])
        try sub.subscribe("")
        try sub.unsubscribe([])
        try sub.unsubscribe("")
        let endpoint = uniqueInproc("contract")
        try pub.bind(endpoint)
        try sub.connect(endpoint)
        try sub.disconnect(endpoint)
        try pub.unbind(endpoint)
        _ = try pub.lastEndpoint

        let bytes: [UInt8] = [1, 2, 3]
        let sent: [Bool] = [
            try pub.send(bytes),
            try pub.send(bytes, more: true, dontWait: true),
            try pub.send("text", more: false, dontWait: false),
            try bytes.withUnsafeBytes { try pub.send($0, more: false, dontWait: true) },
            try pub.send(Message(string: "m"), more: false, dontWait: true),
            try pub.sendMultipart([bytes, bytes], dontWait: true),
            try pub.sendMultipart([[UInt8]]()),
        ]
        #expect(sent.allSatisfy { $0 }, "PUB never blocks: it drops when nobody listens")

        let message = Message()
        let received: Bool = try sub.receive(into: message, dontWait: true)
        let frames: [Message]? = try sub.receiveMultipart(dontWait: true)
        #expect(!received)
        #expect(frames == nil)

        let fromBytes = Message(bytes: bytes)
        let fromString = Message(string: "s")
        let count: Int = fromBytes.count
        let copy: [UInt8] = fromBytes.bytes
        let text: String = fromString.string
        let more: Bool = fromString.hasMore
        let viewed: Int = fromBytes.withUnsafeBytes { $0.count }
        #expect((count, copy, text, more, viewed) == (3, bytes, "s", false, 3))

        var poller = Poller()
        let index: Int = poller.register(sub, events: .pollIn)
        _ = poller.register(fileDescriptor: try sub.fileDescriptor, events: [.pollIn, .pollErr])
        let ready: Int = try poller.poll(timeoutMilliseconds: 0)
        let events: PollEvents = poller.returnedEvents(at: index)
        #expect(ready >= 0 && !poller.isReadable(at: index) && events.isEmpty)

        let version: (major: Int, minor: Int, patch: Int) = ZMQVersion.current
        #expect(version.major >= 4)
        let encoded: String? = Z85.encode([0, 0, 0, 0])
        let decoded: [UInt8]? = Z85.decode("00000")
        #expect(encoded == "00000" && decoded == [0, 0, 0, 0])
        let pair: (publicKey: String, secretKey: String) = try Curve.generateKeyPair()
        #expect(pair.publicKey != pair.secretKey)

        let error = ZMQError(code: EAGAIN, operation: "zmq_msg_recv(PULL)")
        let fields: (ZMQError.Kind, Int32, String, String) = (error.kind, error.code, error.operation, error.message)
        #expect(fields.0 == .wouldBlock && fields.1 == EAGAIN && !fields.3.isEmpty)
        #expect(error.description.contains("zmq_msg_recv(PULL)"))
        let kinds: [ZMQError.Kind] = [.wouldBlock, .terminated, .other]
        #expect(Set(kinds.map { "\($0)" }).count == 3)

        context.shutdown()
    }
}
