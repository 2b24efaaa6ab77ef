import VigieCore

/// libFuzzer target: the daemon's ingest request decoder (``VGI1Request``), then the
/// payload frames of a `PUSH` through the line-protocol parser.
///
/// Input encoding (so the fuzzer can shape multipart messages): a sequence of frames,
/// each one length byte then that many bytes; a last short frame takes what is left.
/// The first frame plays the routing id, as on the daemon's ROUTER socket.
enum FuzzVGI1 {
    // libFuzzer calls the target from one thread only.
    nonisolated(unsafe) static let parser = LineProtocolParser()
    static let limit = 64

    static func run(_ input: UnsafeRawBufferPointer) {
        var frames: [UnsafeRawBufferPointer] = []
        var at = 0
        while at < input.count, frames.count <= limit {
            let length = Int(input[at])
            at += 1
            let end = min(input.count, at + length)
            frames.append(UnsafeRawBufferPointer(rebasing: input[at..<end]))
            at = end
        }
        let truncated = frames.count > limit
        if truncated { frames.removeLast() }
        guard !frames.isEmpty else { return }
        let start = VGI1Request.bodyStart(
            frameCount: frames.count,
            secondFrameIsEmpty: frames.count > 1 && frames[1].isEmpty
        )
        let request = VGI1Request.decode(frameCount: frames.count, truncated: truncated, bodyStart: start, limit: limit)
        {
            frames[$0]
        }
        let again = VGI1Request.decode(frameCount: frames.count, truncated: truncated, bodyStart: start, limit: limit) {
            frames[$0]
        }
        precondition(request == again, "decode is not deterministic")
        switch request {
        case .push(let sequence):
            precondition(!truncated && frames.count >= start + 5, "PUSH accepted with \(frames.count) frames")
            precondition(sequence >= 1 && sequence <= UInt64(Int64.max), "sequence \(sequence)")
            let producer = frames[start + 2].count
            precondition(producer >= 1 && producer <= VGI1.maxProducerIDLength, "producer of \(producer) bytes")
            var line = 1
            for f in (start + 4)..<frames.count {
                line =
                    parser.parse(frames[f], firstLineNumber: line) { _ in
                    } onError: { _ in
                    }.nextLineNumber
            }
        case .hello:
            precondition(!truncated && frames.count == start + 3, "HELLO accepted with \(frames.count) frames")
        case .invalid(let refusal):
            precondition(!refusal.message.isEmpty, "empty refusal")
        }
    }
}

/// libFuzzer's own entry point, for its `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzVGI1.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
