import Foundation
import Testing

@testable import ZeroMQ

@Suite("Z85 and CURVE")
struct SecurityTests {
    @Test("Z85 matches the RFC 32 test vector and round-trips")
    func z85() {
        let vector: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        #expect(Z85.encode(vector) == "HelloWorld")
        #expect(Z85.decode("HelloWorld") == vector)

        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let text = Z85.encode(bytes)
        #expect(text?.count == 40)
        #expect(text.flatMap(Z85.decode) == bytes)
        #expect(Z85.encode([]) == "")
        #expect(Z85.decode("") == [])
    }

    @Test(
        "Z85 rejects lengths and characters it cannot decode",
        arguments: ["Hell", "Hell~", "Héll", "ab|cd", "~~~~~"]
    )
    func z85Invalid(text: String) {
        #expect(Z85.decode(text) == nil)
    }

    @Test("Z85 rejects text with an embedded NUL")
    func z85EmbeddedNul() {
        #expect(Z85.decode("Hello\u{0}World") == nil)
        #expect(Z85.decode("Hel\u{0}o") == nil)
    }

    @Test("Z85 refuses byte counts that are not a multiple of 4")
    func z85InvalidLength() {
        #expect(Z85.encode([1, 2, 3]) == nil)
        #expect(Z85.encode([1, 2, 3, 4, 5]) == nil)
    }

    @Test("CURVE key pairs are 40 Z85 characters for 32 bytes; the public key derives from the secret")
    func keyPairs() throws {
        #expect(Curve.isAvailable)
        let pair = try Curve.generateKeyPair()
        #expect(pair.publicKey.count == Curve.z85KeyLength)
        #expect(pair.secretKey.count == Curve.z85KeyLength)
        #expect(Z85.decode(pair.publicKey)?.count == Curve.keyByteCount)
        #expect(Z85.decode(pair.secretKey)?.count == Curve.keyByteCount)
        #expect(try Curve.publicKey(fromSecretKey: pair.secretKey) == pair.publicKey)
        #expect(try Curve.generateKeyPair().publicKey != pair.publicKey)

        let invalid = #expect(throws: ZMQError.self) { _ = try Curve.publicKey(fromSecretKey: "too short") }
        #expect(invalid?.code == EINVAL)
    }

    @Test("PUSH/PULL over CURVE: the right server key gets through, a wrong one does not")
    func curveRoundTrip() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let server = try Curve.generateKeyPair()
        let client = try Curve.generateKeyPair()

        let pull = try context.makeSocket(.pull)
        let push = try context.makeSocket(.push)
        let impostor = try context.makeSocket(.push)
        defer {
            pull.close(linger: 0)
            push.close(linger: 0)
            impostor.close(linger: 0)
        }
        try pull.setCurveServer(true)
        try pull.setCurveSecretKey(server.secretKey)
        #expect(try pull.curveServer)
        #expect(try pull.curveSecretKey == server.secretKey)
        try pull.setReceiveTimeout(patience)
        let endpoint = try bindLoopback(pull)

        // Raw 32-byte keys work as well as Z85 text.
        try push.setCurveServerKey(try #require(Z85.decode(server.publicKey)))
        try push.setCurvePublicKey(try #require(Z85.decode(client.publicKey)))
        try push.setCurveSecretKey(client.secretKey)
        #expect(try push.curveServerKey == server.publicKey)
        #expect(try push.curvePublicKey == client.publicKey)
        #expect(try push.curveServer == false)

        // A client that expects another server key never completes the handshake.
        let other = try Curve.generateKeyPair()
        try impostor.setCurveServerKey(other.publicKey)
        try impostor.setCurvePublicKey(client.publicKey)
        try impostor.setCurveSecretKey(client.secretKey)
        try impostor.connect(endpoint)
        try impostor.send("forged")

        try push.connect(endpoint)
        let secret = "cpu,site=nord value=0.93 1700000000000000000"
        try push.send(secret)
        let message = Message()
        #expect(try pull.receive(into: message))
        #expect(message.string == secret)

        // Nothing else arrives.
        var poller = Poller()
        poller.register(pull)
        #expect(try poller.poll(timeoutMilliseconds: 300) == 0)

        let bad = #expect(throws: ZMQError.self) { try pull.setCurveSecretKey("not a key") }
        #expect(bad?.code == EINVAL)
    }

    @Test("A ZAP handler authenticates CURVE clients and names them in User-Id")
    func zapAuthentication() throws {
        let context = try ZMQContext()
        defer { terminate(context) }
        let server = try Curve.generateKeyPair()
        let allowed = try Curve.generateKeyPair()
        let denied = try Curve.generateKeyPair()

        let zap = try context.makeSocket(.rep)
        let pull = try context.makeSocket(.pull)
        let good = try context.makeSocket(.push)
        let bad = try context.makeSocket(.push)
        defer {
            zap.close(linger: 0)
            pull.close(linger: 0)
            good.close(linger: 0)
            bad.close(linger: 0)
        }
        try zap.bind("inproc://zeromq.zap.01")
        try pull.setCurveServer(true)
        try pull.setCurveSecretKey(server.secretKey)
        try pull.setZAPDomain("vigie")
        let endpoint = try bindLoopback(pull)
        for (socket, pair) in [(good, allowed), (bad, denied)] {
            try socket.setCurveServerKey(server.publicKey)
            try socket.setCurvePublicKey(pair.publicKey)
            try socket.setCurveSecretKey(pair.secretKey)
            try socket.connect(endpoint)
        }
        try bad.send("from denied")
        try good.send("from allowed")

        var poller = Poller()
        let zapIndex = poller.register(zap)
        let pullIndex = poller.register(pull)
        var requests = 0
        var received: [Message] = []
        let deadline = ContinuousClock.now + .seconds(Int(patience / 1000))
        // Serve ZAP requests until the allowed message is in, then a little longer to catch a leak.
        while ContinuousClock.now < deadline, received.isEmpty || requests < 2 {
            _ = try poller.poll(timeoutMilliseconds: 50)
            if poller.isReadable(at: zapIndex) {
                let request = try #require(try zap.receiveMultipart())
                // version, request id, domain, address, identity, mechanism, client key
                #expect(request.count == 7)
                #expect(request[0].string == "1.0")
                #expect(request[2].string == "vigie")
                #expect(request[5].string == "CURVE")
                let key = request[6].bytes
                let isAllowed = key == Z85.decode(allowed.publicKey)
                #expect(isAllowed || key == Z85.decode(denied.publicKey))
                let status = isAllowed ? "200" : "400"
                let user = isAllowed ? "agent-nord" : ""
                try zap.sendMultipart([
                    Array("1.0".utf8), request[1].bytes, Array(status.utf8), Array("OK".utf8), Array(user.utf8), [],
                ])
                requests += 1
            }
            if poller.isReadable(at: pullIndex) {
                let message = Message()
                #expect(try pull.receive(into: message))
                received.append(message)
            }
        }
        #expect(requests == 2)
        #expect(received.map(\.string) == ["from allowed"])
        #expect(received.first?.metadata("User-Id") == "agent-nord")
    }
}
