import Foundation
import VigieConfig
import VigieCore
import ZeroMQ

/// The reply to one acknowledged batch.
struct IngestAck: Equatable {
    var accepted: Int
    var rejected: Int
    var duplicate: Bool
    /// Per-line errors (at most 20), `line:column: reason`.
    var errors: [LineProtocolError]

    /// Parses an ACK body. The counts are read with a small scanner (the bench reads
    /// thousands per second); the error list is decoded (`VGI1.AckBody`) only when
    /// there is one.
    static func parse(_ bytes: [UInt8]) -> IngestAck? {
        guard let accepted = integer(after: "\"accepted\":", in: bytes),
            let rejected = integer(after: "\"rejected\":", in: bytes)
        else { return nil }
        let duplicate = find("\"duplicate\":true", in: bytes) != nil
        var errors: [LineProtocolError] = []
        if rejected > 0, let body = VGI1.AckBody.decode(bytes) {
            errors = body.errors.map { LineProtocolError(line: $0.line, column: $0.column, reason: $0.error) }
        }
        return IngestAck(accepted: accepted, rejected: rejected, duplicate: duplicate, errors: errors)
    }

    private static func find(_ needle: String, in bytes: [UInt8]) -> Int? {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count else { return nil }
        var i = 0
        while i + n.count <= bytes.count {
            if bytes[i] == n[0], Array(bytes[i..<(i + n.count)]) == n { return i + n.count }
            i += 1
        }
        return nil
    }

    private static func integer(after key: String, in bytes: [UInt8]) -> Int? {
        guard var i = find(key, in: bytes) else { return nil }
        var value = 0
        var digits = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            value = value * 10 + Int(bytes[i] - 48)
            digits += 1
            i += 1
        }
        return digits > 0 ? value : nil
    }
}

/// What the daemon answered on the ingest socket.
enum IngestReply: Equatable {
    case ack(sequence: UInt64, IngestAck)
    case welcome(highest: UInt64)
    case error(String)
}

/// A DEALER client of the `VGI1` acknowledged ingest protocol.
///
/// Single-threaded; sockets stay on the creating thread. `immediate` keeps messages off
/// connections that are not up, so a send to a stopped daemon does not queue forever.
final class IngestClient {
    let socket: Socket
    let producer: [UInt8]

    init(
        context: ZMQContext,
        endpoint: String,
        producer: [UInt8],
        lingerMilliseconds: Int32 = 200,
        curve: CurveClientCredentials? = nil
    ) throws {
        socket = try context.makeSocket(.dealer)
        try curve?.apply(to: socket)
        try socket.setImmediate(true)
        try socket.setLinger(lingerMilliseconds)
        try socket.setSendHighWaterMark(100_000)
        try socket.setReceiveHighWaterMark(100_000)
        self.producer = producer
        try socket.connect(endpoint)
    }

    /// A producer id unique to this process run: `vigie-<what>-<host>-<pid>-<random>`.
    static func oneShotProducerID(_ what: String) -> [UInt8] {
        let host = ProcessInfo.processInfo.hostName.prefix(40)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return Array("vigie-\(what)-\(host)-\(getpid())-\(random)".utf8)
    }

    /// Sends one batch; waits up to `timeoutMilliseconds` for the connection to accept it.
    /// - Returns: false when the daemon could not be reached in time.
    func send(sequence: UInt64, payloads: [[UInt8]], timeoutMilliseconds: Int) throws -> Bool {
        guard try waitUntil(.pollOut, timeoutMilliseconds: timeoutMilliseconds) else { return false }
        var frames: [[UInt8]] = [VGI1.magic, VGI1.push, producer, Array(String(sequence).utf8)]
        frames.append(contentsOf: payloads)
        return try socket.sendMultipart(frames, dontWait: true)
    }

    /// Sends `HELLO`.
    func hello(timeoutMilliseconds: Int) throws -> Bool {
        guard try waitUntil(.pollOut, timeoutMilliseconds: timeoutMilliseconds) else { return false }
        return try socket.sendMultipart([VGI1.magic, VGI1.hello, producer], dontWait: true)
    }

    /// The next reply, or `nil` after `timeoutMilliseconds`.
    func receive(timeoutMilliseconds: Int) throws -> IngestReply? {
        guard try waitUntil(.pollIn, timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        guard let frames = try socket.receiveMultipart(dontWait: true) else { return nil }
        return Self.decode(frames.map(\.bytes))
    }

    static func decode(_ frames: [[UInt8]]) -> IngestReply {
        guard frames.count >= 2, frames[0] == VGI1.magic else { return .error("reply without VGI1 header") }
        switch frames[1] {
        case VGI1.ack where frames.count == 5:
            let seq = UInt64(String(decoding: frames[3], as: UTF8.self)) ?? 0
            guard let ack = IngestAck.parse(frames[4]) else { return .error("unreadable ACK body") }
            return .ack(sequence: seq, ack)
        case VGI1.welcome where frames.count == 4:
            return .welcome(highest: UInt64(String(decoding: frames[3], as: UTF8.self)) ?? 0)
        case VGI1.err where frames.count == 3:
            return .error(VGI1.ErrorBody.decode(frames[2])?.error ?? String(decoding: frames[2], as: UTF8.self))
        default:
            return .error("unexpected reply \(String(decoding: frames[1], as: UTF8.self))")
        }
    }

    private func waitUntil(_ events: PollEvents, timeoutMilliseconds: Int) throws -> Bool {
        if (try socket.events).contains(events) { return true }
        var poller = Poller()
        poller.register(socket, events: events)
        let deadline = monotonicNanoseconds() + UInt64(max(0, timeoutMilliseconds)) * 1_000_000
        while true {
            let now = monotonicNanoseconds()
            if now >= deadline { return (try socket.events).contains(events) }
            let remaining = Int((deadline - now) / 1_000_000) + 1
            if try poller.poll(timeoutMilliseconds: remaining) > 0, poller.returnedEvents(at: 0).contains(events) {
                return true
            }
        }
    }

    func close() {
        socket.close()
    }
}

/// A client of the control socket: one JSON request, one JSON reply.
final class ControlClient {
    private let socket: Socket

    init(context: ZMQContext, endpoint: String, curve: CurveClientCredentials? = nil) throws {
        socket = try context.makeSocket(.dealer)
        try curve?.apply(to: socket)
        try socket.setLinger(0)
        try socket.setImmediate(true)
        try socket.connect(endpoint)
    }

    /// Sends `request` and returns its reply decoded as `R` (`ControlReply`); throws
    /// `CLIError.unreachable` on timeout, `CLIError.protocolError` with the daemon's
    /// message when it refuses the request, or naming what is wrong with the reply.
    func request<R: Decodable>(
        _ request: ControlRequest,
        as type: R.Type,
        timeoutMilliseconds: Int = 3_000
    ) throws -> R {
        try self.request(body: request.jsonBytes, as: type, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The raw reply bytes of `request` (for `--json` output that must stay byte-exact).
    func requestRaw(
        _ request: ControlRequest,
        timeoutMilliseconds: Int = 3_000,
        connectTimeoutMilliseconds: Int? = nil
    ) throws -> [UInt8] {
        try requestRaw(
            body: request.jsonBytes,
            timeoutMilliseconds: timeoutMilliseconds,
            connectTimeoutMilliseconds: connectTimeoutMilliseconds
        )
    }

    /// Sends a request already in its wire form (the agent's control protocol) and
    /// returns its reply decoded as `R`.
    func request<R: Decodable>(body: [UInt8], as type: R.Type, timeoutMilliseconds: Int = 3_000) throws -> R {
        try Self.decode(type, from: try requestRaw(body: body, timeoutMilliseconds: timeoutMilliseconds))
    }

    /// `raw` decoded as `R`; a refusal (`"ok":false`) or a reply that is not an `R` is
    /// a `CLIError.protocolError` (exit 76) with the daemon's message or what is wrong.
    static func decode<R: Decodable>(_ type: R.Type, from raw: [UInt8]) throws -> R {
        switch ControlReply.decode(type, from: raw) {
        case .success(let reply): return reply
        case .failure(let error): throw CLIError.protocolError(error.description)
        }
    }

    /// The raw reply bytes (for `--json` output that must stay byte-exact).
    /// `connectTimeoutMilliseconds` bounds the wait for a connection (default: the
    /// same as for the reply), so a slow query can wait longer for its reply without
    /// making an absent daemon slower to report.
    func requestRaw(
        body: [UInt8],
        timeoutMilliseconds: Int = 3_000,
        connectTimeoutMilliseconds: Int? = nil
    ) throws -> [UInt8] {
        var poller = Poller()
        poller.register(socket, events: .pollOut)
        guard try poller.poll(timeoutMilliseconds: connectTimeoutMilliseconds ?? timeoutMilliseconds) > 0 else {
            throw CLIError.unreachable("no daemon answering on the control endpoint")
        }
        try socket.sendMultipart([[], body])
        var reader = Poller()
        reader.register(socket, events: .pollIn)
        guard try reader.poll(timeoutMilliseconds: timeoutMilliseconds) > 0,
            let frames = try socket.receiveMultipart(dontWait: true), let last = frames.last
        else {
            throw CLIError.unreachable("the daemon did not answer within \(timeoutMilliseconds) ms")
        }
        return last.bytes
    }

    func close() {
        socket.close()
    }
}

/// Failures of client subcommands, each with its documented exit status.
enum CLIError: Error, CustomStringConvertible {
    /// The daemon could not be reached or did not answer in time: exit 75 (EX_TEMPFAIL).
    case unreachable(String)
    /// The daemon answered something unexpected: exit 76 (EX_PROTOCOL).
    case protocolError(String)

    var description: String {
        switch self {
        case .unreachable(let m): return m
        case .protocolError(let m): return m
        }
    }

    var exitCode: Int32 {
        switch self {
        case .unreachable: return 75
        case .protocolError: return 76
        }
    }
}
