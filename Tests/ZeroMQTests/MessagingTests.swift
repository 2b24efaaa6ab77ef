import Foundation
import Testing

@testable import ZeroMQ

@Suite("Sending and receiving")
struct MessagingTests {
    @Test("DEALER and ROUTER exchange multipart messages with a routing envelope")
    func dealerRouterMultipart() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let router = try context.makeSocket(.router)
        let dealer = try context.makeSocket(.dealer)
        defer {
            router.close(linger: 0)
            dealer.close(linger: 0)
        }
        try router.setReceiveTimeout(patience)
        try dealer.setReceiveTimeout(patience)
        try dealer.setRoutingId("producer-1")
        let endpoint = try bindLoopback(router)
        try dealer.connect(endpoint)

        #expect(try dealer.sendMultipart(["VGI1", "PUSH", "producer-1", "42", "cpu value=1.5"]))

        let request = try #require(try router.receiveMultipart())
        #expect(request.map(\.string) == ["producer-1", "VGI1", "PUSH", "producer-1", "42", "cpu value=1.5"])
        #expect(request.map(\.hasMore) == [true, true, true, true, true, false])

        // Reply: forward the routing id frame without copying, then the body.
        let identity = request[0]
        #expect(try router.send(identity, more: true))
        #expect(identity.isEmpty, "a sent Message is left empty")
        #expect(try router.send("VGI1", more: true))
        #expect(try router.send(Array("ACK".utf8), more: true))
        #expect(try router.send("42", more: true))
        #expect(try router.send(#"{"accepted":1,"rejected":0,"duplicate":false,"errors":[]}"#))

        // Receive frame by frame into one reusable Message, checking both more-flags.
        let frame = Message()
        var texts: [String] = []
        var moreFlags: [Bool] = []
        repeat {
            #expect(try dealer.receive(into: frame))
            texts.append(frame.string)
            moreFlags.append(frame.hasMore)
            #expect(try dealer.hasMore == frame.hasMore)
        } while frame.hasMore
        #expect(texts == ["VGI1", "ACK", "42", #"{"accepted":1,"rejected":0,"duplicate":false,"errors":[]}"#])
        #expect(moreFlags == [true, true, true, false])
    }

    @Test("A 1 MiB frame arrives byte-exact, readable in place")
    func largeFrameRoundTrip() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let receiver = try context.makeSocket(.pair)
        let sender = try context.makeSocket(.pair)
        defer {
            receiver.close(linger: 0)
            sender.close(linger: 0)
        }
        try receiver.setReceiveTimeout(patience)
        try sender.connect(try bindLoopback(receiver))

        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let sent = try payload.withUnsafeBytes { try sender.send($0) }
        #expect(sent)

        let message = Message()
        #expect(try receiver.receive(into: message))
        #expect(message.count == 1 << 20)
        #expect(!message.hasMore)
        let matches = message.withUnsafeBytes { view in view.elementsEqual(payload) }
        #expect(matches)
        #expect(message.bytes == payload)
    }

    @Test("A received Message is reused by the next receive")
    func messageReuse() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let pull = try context.makeSocket(.pull)
        let push = try context.makeSocket(.push)
        defer {
            pull.close(linger: 0)
            push.close(linger: 0)
        }
        let endpoint = uniqueInproc()
        try pull.bind(endpoint)
        try push.connect(endpoint)
        try pull.setReceiveTimeout(patience)

        try push.send(String(repeating: "x", count: 5000))
        try push.send("short")
        try push.send(Message(bytes: []))
        let message = Message()
        #expect(try pull.receive(into: message))
        #expect(message.count == 5000)
        #expect(try pull.receive(into: message))
        #expect(message.string == "short")
        #expect(try pull.receive(into: message))
        #expect(message.isEmpty)
        #expect(message.bytes == [])
    }

    @Test("dontWait returns false (or nil) instead of blocking; a receive timeout throws wouldBlock")
    func wouldBlock() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let pull = try context.makeSocket(.pull)
        let push = try context.makeSocket(.push)
        defer {
            pull.close(linger: 0)
            push.close(linger: 0)
        }
        _ = try bindLoopback(pull)

        let message = Message(string: "old content")
        #expect(try pull.receive(into: message, dontWait: true) == false)
        #expect(message.isEmpty, "libzmq releases the old content even when nothing is received")
        #expect(try pull.receiveMultipart(dontWait: true) == nil)

        let kept = Message(string: "kept")

        // A PUSH with no peer at all has nowhere to queue.
        #expect(try push.send("lost?", dontWait: true) == false)
        #expect(try push.sendMultipart([[1], [2]], dontWait: true) == false)
        #expect(try push.send(kept, dontWait: true) == false)
        #expect(kept.string == "kept", "a Message that could not be sent is unchanged")

        try pull.setReceiveTimeout(50)
        let error = #expect(throws: ZMQError.self) { _ = try pull.receive(into: message) }
        #expect(error?.kind == .wouldBlock)
        #expect(error?.code == EAGAIN)
    }

    @Test("SUB receives only the prefixes it subscribed to")
    func publishSubscribe() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let pub = try context.makeSocket(.pub)
        let sub = try context.makeSocket(.sub)
        defer {
            pub.close(linger: 0)
            sub.close(linger: 0)
        }
        let endpoint = try bindLoopback(pub)
        try sub.subscribe("kpi.")
        try sub.subscribe([0x61, 0x6C])  // "al"
        try sub.unsubscribe("al")
        try sub.connect(endpoint)

        // Subscriptions travel asynchronously: publish until the subscriber hears something (slow joiner).
        var received: [String]?
        for _ in 0..<100 where received == nil {
            try pub.sendMultipart(["hb", "{}"])
            try pub.sendMultipart(["alert.x", "{}"])
            try pub.sendMultipart(["kpi.wait", #"{"value":3}"#])
            var poller = Poller()
            poller.register(sub)
            if try poller.poll(timeoutMilliseconds: 50) > 0 {
                received = try sub.receiveMultipart()?.map(\.string)
            }
        }
        #expect(received == ["kpi.wait", #"{"value":3}"#])
        while let more = try sub.receiveMultipart(dontWait: true) {
            #expect(more.first?.string.hasPrefix("kpi.") == true)
        }
    }

    @Test("Messages carry bytes, text and repaired UTF-8")
    func messageContents() {
        let text = Message(string: "état civil")
        #expect(text.string == "état civil")
        #expect(text.count == "état civil".utf8.count)
        #expect(!text.hasMore)
        #expect(text.metadata("Peer-Address") == nil, "a message not received from a socket has no metadata")

        let invalid = Message(bytes: [0x61, 0xFF, 0x62])
        #expect(invalid.string == "a\u{FFFD}b")
        #expect(invalid.bytes == [0x61, 0xFF, 0x62])

        let empty = Message()
        #expect(empty.isEmpty)
        #expect(empty.withUnsafeBytes { $0.count } == 0)
        #expect("\(Message(string: "hi"))" == #"Message(2 bytes: "hi")"#)

        let raw: [UInt8] = [1, 2, 3]
        let copied = raw.withUnsafeBytes { Message(copying: $0) }
        #expect(copied.bytes == raw)
    }
}
