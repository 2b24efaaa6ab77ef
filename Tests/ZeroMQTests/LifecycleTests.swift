import Foundation
import Testing

@testable import ZeroMQ

@Suite("Context and socket lifecycle")
struct LifecycleTests {
    @Test("close(linger:) bounds how long terminate waits for undeliverable messages")
    func boundedLinger() throws {
        let context = try ZMQContext()
        let push = try context.makeSocket(.push)
        // An address where nobody listens: the connection is retried in the background, messages queue.
        try push.connect(uniqueIPC("nobody"))
        #expect(try push.linger == -1, "libzmq's default: wait forever")
        for index in 0..<10 {
            #expect(try push.send("sample \(index)", dontWait: true), "queued for the peer that never comes")
        }

        let start = ContinuousClock.now
        push.close(linger: 100)
        push.close(linger: 100)  // idempotent
        #expect(push.isClosed)
        let outcome = runOnThread(within: 10) { try context.terminate() }
        let elapsed = ContinuousClock.now - start

        #expect(outcome != nil, "terminate hung: linger was not applied")
        #expect(elapsed < .seconds(2), "took \(elapsed)")
        #expect(elapsed >= .milliseconds(50), "terminate should have lingered about 100 ms, took \(elapsed)")
    }

    @Test("shutdown wakes a thread blocked in receive with .terminated; then terminate returns")
    func shutdownTerminatesBlockedReceive() throws {
        let context = try ZMQContext()
        let endpoint = uniqueInproc("eterm")
        let bound = DispatchSemaphore(value: 0)
        let receiver = ResultBox<ZMQError.Kind?>()
        let finished = DispatchSemaphore(value: 0)

        let thread = Thread {
            var kind: ZMQError.Kind?
            do {
                let pull = try context.makeSocket(.pull)
                defer { pull.close() }
                try pull.bind(endpoint)
                bound.signal()
                let message = Message()
                _ = try pull.receive(into: message)  // blocks: nothing is ever sent
            } catch let error as ZMQError {
                kind = error.kind
            } catch {
                kind = nil
            }
            receiver.set(.success(kind))
            finished.signal()
        }
        thread.start()
        #expect(bound.wait(timeout: .now() + 10) == .success)
        Thread.sleep(forTimeInterval: 0.1)  // let it block in zmq_msg_recv

        context.shutdown()
        context.shutdown()  // idempotent
        #expect(finished.wait(timeout: .now() + 10) == .success, "blocked receive did not return after shutdown")
        let kind = try #require(try receiver.get()?.get())
        #expect(kind == .terminated)

        // New sockets are refused once the context is shut down.
        let refused = #expect(throws: ZMQError.self) { _ = try context.makeSocket(.push) }
        #expect(refused?.kind == .terminated)

        terminate(context)
        #expect(throws: ZMQError.self) { _ = try context.makeSocket(.pull) }
        try context.terminate()  // second call returns at once
    }

    @Test("With a default linger, terminate after shutdown returns although messages wait for a silent peer")
    func shutdownWithQueuedMessages() throws {
        let context = try ZMQContext(defaultLinger: 200)
        #expect(context.defaultLinger == 200)
        let owner = ThreadTask { () -> (linger: Int32, queued: Bool, kind: ZMQError.Kind?) in
            let dealer = try context.makeSocket(.dealer)
            defer { dealer.close(linger: -1) }  // too late to matter: the socket will have seen ETERM
            let linger = try dealer.linger
            try dealer.connect(uniqueIPC("silent"))
            var queued = true
            for index in 0..<5 {
                queued = try dealer.send("batch \(index)", dontWait: true) && queued
            }
            do {
                _ = try dealer.receive(into: Message())
                return (linger, queued, nil)
            } catch let error as ZMQError {
                return (linger, queued, error.kind)
            }
        }
        Thread.sleep(forTimeInterval: 0.1)
        context.shutdown()
        let result = try #require(try owner.wait(seconds: 10)?.get())
        #expect(result.linger == 200)
        #expect(result.queued)
        #expect(result.kind == .terminated)

        let start = ContinuousClock.now
        terminate(context)
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test("A poller wakes with .terminated on shutdown")
    func shutdownWakesPoller() throws {
        let context = try ZMQContext()
        let poller = ThreadTask { () -> ZMQError.Kind? in
            let pull = try context.makeSocket(.pull)
            defer { pull.close() }
            try pull.bind(uniqueInproc("poll-eterm"))
            var poller = Poller()
            poller.register(pull)
            do {
                _ = try poller.poll(timeoutMilliseconds: 30_000)
                return nil
            } catch let error as ZMQError {
                return error.kind
            }
        }
        // Give the thread a moment to reach zmq_poll; a shutdown before that must work too.
        Thread.sleep(forTimeInterval: 0.1)
        let start = ContinuousClock.now
        context.shutdown()
        let outcome = try #require(poller.wait(seconds: 10), "zmq_poll did not return after shutdown")
        #expect(try outcome.get() == .terminated)
        #expect(ContinuousClock.now - start < .seconds(5))
        terminate(context)
    }

    @Test("A closed socket refuses every call with ENOTSOCK")
    func closedSocket() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let socket = try context.makeSocket(.dealer)
        #expect(socket.socketType == .dealer)
        #expect(!socket.isClosed)
        socket.close()
        #expect(socket.isClosed)

        let sendError = #expect(throws: ZMQError.self) { try socket.send("x") }
        #expect(sendError?.code == ENOTSOCK)
        #expect(sendError?.kind == .other)
        let bindError = #expect(throws: ZMQError.self) { try socket.bind("tcp://127.0.0.1:*") }
        #expect(bindError?.operation == "zmq_bind(tcp://127.0.0.1:*)")
        #expect(throws: ZMQError.self) { _ = try socket.linger }
        #expect(throws: ZMQError.self) { _ = try socket.receive(into: Message(), dontWait: true) }
    }

    @Test("Sockets dropped without close are closed with linger 0, so terminate does not hang")
    func deinitCloses() throws {
        let context = try ZMQContext()
        do {
            let push = try context.makeSocket(.push)
            try push.connect("tcp://127.0.0.1:9")  // discard port: nobody listens
            #expect(try push.send("pending", dontWait: true))
        }
        terminate(context)
    }

    @Test("A context can be shared by threads that each own their sockets")
    func sharedContext() throws {
        let context = try ZMQContext(ioThreads: 2)
        defer { terminate(context) }
        let endpoint = uniqueInproc("shared")
        let pull = try context.makeSocket(.pull)
        defer { pull.close(linger: 0) }
        try pull.bind(endpoint)
        try pull.setReceiveTimeout(patience)

        let senders = (0..<4).map { worker in
            ThreadTask {
                let push = try context.makeSocket(.push)
                defer { push.close(linger: 1_000) }
                try push.connect(endpoint)
                for index in 0..<25 {
                    try push.send("\(worker)-\(index)")
                }
            }
        }
        for sender in senders {
            let outcome = try #require(sender.wait(seconds: 10))
            #expect(throws: Never.self) { try outcome.get() }
        }
        var received = Set<String>()
        let message = Message()
        for _ in 0..<100 {
            #expect(try pull.receive(into: message))
            received.insert(message.string)
        }
        #expect(received.count == 100)
    }
}
