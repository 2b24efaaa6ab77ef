import Foundation
import Logging
import Testing
import VigieCore
import ZeroMQ

@testable import VigieDaemon

/// The engine thread's parts on their own, over real libzmq sockets.
@Suite(.serialized)
struct EnginePartsTests {
    /// A ROUTER (the daemon's side) and a DEALER peer connected to it over inproc.
    static func pair(_ context: ZMQContext, _ name: String) throws -> (router: Socket, dealer: Socket) {
        let router = try context.makeSocket(.router)
        try router.bind("inproc://\(name)")
        let dealer = try context.makeSocket(.dealer)
        try dealer.connect("inproc://\(name)")
        return (router, dealer)
    }

    /// Receives what `socket` is sent within a second, as text frames.
    static func received(_ socket: Socket) throws -> [String]? {
        try socket.receiveMultipart(timeoutMilliseconds: 1_000)?.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func heldRepliesLeaveOnlyOnceDurableAndReleaseTheirProducer() throws {
        let context = try ZMQContext(defaultLinger: 0)
        let (router, dealer) = try Self.pair(context, "durable-replies")
        defer {
            router.close(linger: 0)
            dealer.close(linger: 0)
        }
        _ = try dealer.send("hello")
        let receiver = MessageReceiver()
        var waited = 0
        while try !receiver.receive(from: router, maxBytes: 1 << 20), waited < 100 {
            waited += 1
            usleep(10_000)
        }
        #expect(receiver.count == 2, "routing id and body")
        let replies = DurableReplies()
        var producers = ProducerTable(
            limits: .init(maxProducers: 4, maxPerKey: 4, maxInFlight: 4, idle: .max, evictionFloor: 0),
            now: 0
        )
        guard
            case .apply(let slot) = Array("p".utf8).withUnsafeBytes({
                producers.admit(producer: $0, sequence: 1, now: 0)
            })
        else {
            Issue.record("not admitted")
            return
        }
        // Not a reply socket yet: nothing is held.
        #expect(!replies.hold(router, envelope: 0..<1, of: receiver.frames, position: 10) { $0.appendFrame([1]) })
        replies.adopt([router])
        #expect(
            replies.hold(router, envelope: 0..<1, of: receiver.frames, position: 10, producerSlot: slot) {
                $0.appendFrame(Array("ACK".utf8))
            }
        )
        producers.hold(slot: slot)
        #expect(replies.count == 1)
        #expect(replies.release(upTo: 9, producers: &producers) == 0)
        #expect(try dealer.receiveMultipart(timeoutMilliseconds: 100) == nil, "sent before it was durable")
        #expect(producers.inFlight[slot] == 1)
        #expect(replies.release(upTo: 10, producers: &producers) == 0)
        #expect(try Self.received(dealer) == ["ACK"])
        #expect(producers.inFlight[slot] == 0)
        #expect(replies.count == 0)
    }

    @Test func aMessageOverTheByteBoundIsReceivedWholeAndMarked() throws {
        let context = try ZMQContext(defaultLinger: 0)
        let (router, dealer) = try Self.pair(context, "receiver-bound")
        defer {
            router.close(linger: 0)
            dealer.close(linger: 0)
        }
        let receiver = MessageReceiver()
        func next() throws -> Bool {
            for _ in 0..<100 {
                if try receiver.receive(from: router, maxBytes: 100) { return true }
                usleep(10_000)
            }
            return false
        }
        // Three 60-byte frames: the bound (100 bytes in all) is passed at the second.
        let frame = [UInt8](repeating: 0x61, count: 60)
        _ = try dealer.send(frame, more: true)
        _ = try dealer.send(frame, more: true)
        _ = try dealer.send(frame)
        _ = try dealer.send("small")
        #expect(try next())
        #expect(receiver.truncated)
        #expect(receiver.tooLarge)
        #expect(receiver.count == 3, "routing id and the frames kept up to the bound")
        // The next message starts clean: nothing of the big one is left behind.
        #expect(try next())
        #expect(!receiver.truncated)
        #expect(!receiver.tooLarge)
        #expect(receiver.count == 2)
        #expect(String(decoding: receiver.frames[1].bytes, as: UTF8.self) == "small")
    }

    @Test func servicesStopInReverseOrderOnceAndAFailedStartStopsThoseBefore() throws {
        struct Refused: Error {}
        var log: [String] = []
        let stack = ServiceStack(logger: Logger(label: "test"))
        for name in ["zap", "notifiers", "log"] {
            stack.start(name, { log.append("start \(name)") }, stop: { log.append("stop \(name)") })
        }
        #expect(throws: Refused.self) {
            try stack.start(
                "history",
                { () throws -> Int in throw Refused() },
                stop: { _ in log.append("stop history") }
            )
        }
        #expect(stack.running == ["zap", "notifiers", "log"], "a service whose start threw is not kept")
        stack.stopAll()
        stack.stopAll()
        #expect(
            log == ["start zap", "start notifiers", "start log", "stop log", "stop notifiers", "stop zap"]
        )
        #expect(stack.running.isEmpty)
    }

    @Test func notifierThreadNamesFitTheKernelsFifteenBytes() {
        #expect(NotifierDispatcher.threadName("sms", worker: 0) == "notify-sms/0")
        #expect(NotifierDispatcher.threadName("journal-des-alertes", worker: 3) == "notify-journa/3")
        #expect(NotifierDispatcher.threadName("élus", worker: 12).utf8.count <= 15)
        #expect(NotifierDispatcher.threadName("ééééééé", worker: 1) == "notify-ééé/1")
    }

    @Test func aForwardedHistoryRequestIsTakenOnceByItsNumber() {
        let requests = HistoryRequests()
        let first = requests.post(.events(.init(limit: 5)))
        let second = requests.post(.history(.init(kpi: "attente", step: 3_600_000_000_000)))
        #expect(first != second)
        #expect(requests.take(second) == .history(.init(kpi: "attente", step: 3_600_000_000_000)))
        #expect(requests.take(second) == nil, "taken once")
        #expect(requests.take(first + second + 1) == nil, "never posted")
        #expect(requests.count == 1)
        #expect(requests.take(first) == .events(.init(limit: 5)))
        #expect(requests.count == 0)
    }
}
