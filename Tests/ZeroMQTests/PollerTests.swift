import Foundation
import Testing

@testable import ZeroMQ

@Suite("Poller")
struct PollerTests {
    @Test("Reports sockets and file descriptors ready to read, and writable sockets")
    func readiness() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let pull = try context.makeSocket(.pull)
        let push = try context.makeSocket(.push)
        defer {
            pull.close(linger: 0)
            push.close(linger: 0)
        }
        let endpoint = try bindLoopback(pull)
        try push.connect(endpoint)

        var descriptors: [Int32] = [-1, -1]
        #expect(pipe(&descriptors) == 0)
        defer {
            close(descriptors[0])
            close(descriptors[1])
        }

        var poller = Poller()
        let pullIndex = poller.register(pull)
        let pipeIndex = poller.register(fileDescriptor: descriptors[0])
        let pushIndex = poller.register(push, events: .pollOut)
        #expect([pullIndex, pipeIndex, pushIndex] == [Int]([0, 1, 2]))
        #expect(poller.count == 3)

        // Only the PUSH can act (once connected): nothing to read yet.
        #expect(try poller.poll(timeoutMilliseconds: Int(patience)) == 1)
        #expect(poller.isWritable(at: pushIndex))
        #expect(!poller.isReadable(at: pullIndex))
        #expect(poller.returnedEvents(at: pipeIndex) == [])
        #expect(poller.returnedEvents(at: 99) == [])

        try push.send("ready")
        // The PUSH stays writable, so each poll returns at once: wait by the clock for the PULL.
        var readable = false
        let deadline = ContinuousClock.now + .seconds(5)
        while !readable && ContinuousClock.now < deadline {
            _ = try poller.poll(timeoutMilliseconds: 100)
            readable = poller.isReadable(at: pullIndex)
        }
        #expect(readable)
        #expect(try pull.events.contains(.pollIn))
        let message = Message()
        #expect(try pull.receive(into: message, dontWait: true))
        #expect(message.string == "ready")

        var byte: UInt8 = 1
        #expect(write(descriptors[1], &byte, 1) == 1)
        #expect(try poller.poll(timeoutMilliseconds: Int(patience)) == 2, "the pipe and the writable PUSH")
        #expect(poller.isReadable(at: pipeIndex))
        #expect(poller.returnedEvents(at: pipeIndex).contains(.pollIn))
        #expect(!poller.isReadable(at: pullIndex))
    }

    @Test("Times out after about the requested time when nothing is ready")
    func timeout() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let pull = try context.makeSocket(.pull)
        defer { pull.close(linger: 0) }
        try pull.bind(uniqueInproc("poll-timeout"))
        var poller = Poller()
        poller.register(pull)

        #expect(try poller.poll(timeoutMilliseconds: 0) == 0)
        let start = ContinuousClock.now
        #expect(try poller.poll(timeoutMilliseconds: 150) == 0)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(140))
        #expect(elapsed < .seconds(3))
    }

    @Test("Keeps registered sockets alive, and refuses to poll a closed one")
    func ownership() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        var poller = Poller()
        weak var weakSocket: Socket?
        do {
            let socket = try context.makeSocket(.pull)
            try socket.bind(uniqueInproc("poll-owned"))
            weakSocket = socket
            poller.register(socket)
        }
        #expect(weakSocket != nil, "the poller holds its sockets")
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0)

        weakSocket?.close()
        let error = #expect(throws: ZMQError.self) { _ = try poller.poll(timeoutMilliseconds: 0) }
        #expect(error?.code == ENOTSOCK)
        poller = Poller()
        #expect(weakSocket == nil, "released with the poller")
    }
}
