import Foundation
import Logging
import Synchronization
import VigieConfig
import VigieCore
import ZeroMQ

/// The daemon's ZAP handler (ZeroMQ RFC 27): admits CURVE clients whose public key is in
/// the authorized-keys directory (status 200, the key's name as User-Id) and denies all
/// others (400), logging each denial with the peer's address and counting it.
///
/// Its REP socket is bound to `inproc://zeromq.zap.01` in the daemon's context by its own
/// thread, before any CURVE socket binds (``start()`` returns once it is bound). libzmq
/// asks it once per connection handshake, never per message: the key table sits behind
/// a mutex that the engine thread replaces on reload.
final class ZAPHandler: Sendable {
    static let endpoint = "inproc://zeromq.zap.01"
    /// The ZAP domain the daemon's CURVE sockets set.
    static let domain = "vigie"

    private let context: ZMQContext
    private let logger: Logger
    private let keys: Mutex<[String: AuthorizedKey]>
    /// Handshakes admitted and denied since start.
    let admitted = Atomic<UInt64>(0)
    let denied = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)

    init(context: ZMQContext, keys: AuthorizedKeys, logger: Logger) {
        self.context = context
        self.logger = logger
        self.keys = Mutex(Self.table(keys))
    }

    private static func table(_ keys: AuthorizedKeys) -> [String: AuthorizedKey] {
        Dictionary(keys.keys.map { ($0.publicKey, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Replaces the authorized keys (reload); handshakes from then on use the new set.
    func replace(_ keys: AuthorizedKeys) {
        let table = Self.table(keys)
        self.keys.withLock { $0 = table }
    }

    /// Starts the thread; returns once its socket is bound, or throws the bind error.
    func start() throws {
        let bound = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        let thread = Thread { [self] in
            nameCurrentThread("vigie-zap")
            defer { exited.signal() }
            let socket: Socket
            do {
                socket = try context.makeSocket(.rep)
                try socket.setLinger(0)
                try socket.bind(Self.endpoint)
            } catch {
                failure.withLock { $0 = error }
                bound.signal()
                return
            }
            bound.signal()
            serve(socket)
            socket.close(linger: 0)
        }
        thread.start()
        bound.wait()
        if let error = failure.withLock({ $0 }) {
            exited.wait()
            throw error
        }
    }

    /// Asks the thread to stop and waits for it (before the context terminates).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        exited.wait()
    }

    private func serve(_ socket: Socket) {
        var poller = Poller()
        poller.register(socket)
        while !stopping.load(ordering: .relaxed) {
            do {
                guard try poller.poll(timeoutMilliseconds: 100) > 0,
                    let frames = try socket.receiveMultipart(dontWait: true)
                else { continue }
                let reply = answer(frames)
                for (i, frame) in reply.enumerated() {
                    _ = try socket.send(frame, more: i < reply.count - 1)
                }
            } catch let error as ZMQError where error.kind == .terminated {
                return
            } catch {
                logger.warning("ZAP handler: \(error)")
            }
        }
    }

    /// The reply to one ZAP request: version, request id, status code, status text,
    /// user id, metadata.
    func answer(_ frames: [Message]) -> [[UInt8]] {
        guard frames.count >= 6, frames[0].string == "1.0" else {
            denied.add(1, ordering: .relaxed)
            logger.warning("ZAP request malformed: denied", metadata: ["frames": "\(frames.count)"])
            let id = frames.count > 1 ? frames[1].bytes : []
            return [Array("1.0".utf8), id, Array("500".utf8), Array("malformed ZAP request".utf8), [], []]
        }
        let requestID = frames[1].bytes
        let address = frames[3].string
        let mechanism = frames[5].string
        func reply(_ code: String, _ text: String, user: String = "") -> [[UInt8]] {
            [Array("1.0".utf8), requestID, Array(code.utf8), Array(text.utf8), Array(user.utf8), []]
        }
        guard mechanism == "CURVE", frames.count == 7, frames[6].count == Curve.keyByteCount,
            let publicKey = Z85.encode(frames[6].bytes)
        else {
            denied.add(1, ordering: .relaxed)
            logger.warning(
                "connection denied: not CURVE",
                metadata: ["peer": "\(address)", "mechanism": "\(mechanism)"]
            )
            return reply("400", "CURVE required")
        }
        guard let key = keys.withLock({ $0[publicKey] }) else {
            denied.add(1, ordering: .relaxed)
            logger.warning(
                "connection denied: unknown CURVE key",
                metadata: ["peer": "\(address)", "key": "\(publicKey)"]
            )
            return reply("400", "unknown key")
        }
        admitted.add(1, ordering: .relaxed)
        logger.info("connection admitted", metadata: ["peer": "\(address)", "name": "\(key.name)"])
        return reply("200", "OK", user: key.name)
    }
}
