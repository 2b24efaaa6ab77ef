/// An ingest request's frames, decoded in place (DESIGN.md, "Ingest"): what the daemon
/// does with a message on its ingest socket before any state is touched.
///
/// Frames are numbered as received: the routing id first, then, from a REQ client, an
/// empty delimiter; the body (`"VGI1"`, command, …) starts at ``bodyStart(frameCount:secondFrameIsEmpty:)``.
public enum VGI1Request: Equatable, Sendable {
    /// `PUSH`: the producer id is frame `bodyStart + 2`, the payloads are frames
    /// `bodyStart + 4 ..< frameCount` (at least one).
    case push(sequence: UInt64)
    /// `HELLO`: the producer id is frame `bodyStart + 2`.
    case hello
    /// Not a valid request; answered with `ERR` and this reason.
    case invalid(Refusal)

    /// Why a request is not valid.
    public enum Refusal: Equatable, Sendable {
        case tooManyFrames(limit: Int)
        case missingCommand
        case badMagic
        case unknownCommand(String)
        case helloFrames
        case pushFrames
        case producerLength
        case producerSeparator
        case badSequence

        /// The `ERR` text.
        public var message: String {
            switch self {
            case .tooManyFrames(let limit): "too many frames (more than \(limit))"
            case .missingCommand: "expected frames \"VGI1\", command, …"
            case .badMagic: "first frame must be \"VGI1\""
            case .unknownCommand(let text): "unknown command \"\(text)\" (expected PUSH or HELLO)"
            case .helloFrames: "HELLO takes exactly one frame: the producer id"
            case .pushFrames: "PUSH needs a producer id, a sequence number and at least one payload frame"
            case .producerLength: "producer id must be 1 to \(VGI1.maxProducerIDLength) bytes"
            case .producerSeparator:
                "producer id must not contain byte 0x1F (it separates a CURVE key's name from its producer ids)"
            case .badSequence: "sequence number must be ASCII decimal 1…9223372036854775807"
            }
        }
    }

    /// Where the body starts: after the routing id, and after an empty delimiter when
    /// the second frame is one (a REQ client).
    public static func bodyStart(frameCount: Int, secondFrameIsEmpty: Bool) -> Int {
        frameCount > 1 && secondFrameIsEmpty ? 2 : 1
    }

    /// Decodes a request of `frameCount` frames (`truncated`: more frames than the
    /// receiver keeps arrived and were dropped). `frame(i)` gives frame `i`'s bytes; it
    /// is called only for frames the decision needs, and nothing is copied.
    public static func decode(
        frameCount: Int,
        truncated: Bool,
        bodyStart: Int,
        limit: Int,
        frame: (Int) -> UnsafeRawBufferPointer
    ) -> VGI1Request {
        if truncated { return .invalid(.tooManyFrames(limit: limit)) }
        guard frameCount - bodyStart >= 2 else { return .invalid(.missingCommand) }
        guard VGI1.matches(frame(bodyStart), VGI1.magic) else { return .invalid(.badMagic) }
        let command = frame(bodyStart + 1)
        let isPush = VGI1.matches(command, VGI1.push)
        guard isPush || VGI1.matches(command, VGI1.hello) else {
            return .invalid(.unknownCommand(String(decoding: command.prefix(32), as: UTF8.self)))
        }
        if isPush {
            guard frameCount >= bodyStart + 5 else { return .invalid(.pushFrames) }
        } else {
            guard frameCount == bodyStart + 3 else { return .invalid(.helloFrames) }
        }
        let producer = frame(bodyStart + 2)
        guard producer.count >= 1, producer.count <= VGI1.maxProducerIDLength else {
            return .invalid(.producerLength)
        }
        guard !producer.contains(0x1F) else { return .invalid(.producerSeparator) }
        guard isPush else { return .hello }
        guard let sequence = VGI1.parseSequence(frame(bodyStart + 3)) else { return .invalid(.badSequence) }
        return .push(sequence: sequence)
    }
}
