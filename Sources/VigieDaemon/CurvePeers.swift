import VigieConfig
import VigieCore
import ZeroMQ

/// What a CURVE peer may send: its producer ids live under its authenticated name
/// (`name 0x1F id`), and lines outside its key's metric prefixes are taken out of the
/// payload before the log, the engine and history see it. Also the payload view the
/// ingest and push servers read: a frame as received, or its filtered copy.
/// Engine thread only.
final class CurvePeers {
    /// Allowed metric prefixes by authenticated name (empty list: any metric).
    private var keyPrefixes = ByteKeyTable<[[UInt8]]>(capacity: 16)
    /// "name 0x1F producer id", the producer key of the CURVE peer being served.
    private(set) var scopedProducer: [UInt8] = []
    /// Payload frames of the current message with lines outside the peer's prefixes
    /// commented out (`#`), by frame index, when `frameFiltered[f]`; reused buffers.
    private var filteredFrames: [[UInt8]] = []
    private var frameFiltered: [Bool] = []
    /// Some `frameFiltered` entry is set.
    private var anyFrameFiltered = false

    init(keys: AuthorizedKeys) {
        scopedProducer.reserveCapacity(256)
        replace(keys)
    }

    /// Takes the allowed prefixes of `keys` (start, reload).
    func replace(_ keys: AuthorizedKeys) {
        var table = ByteKeyTable<[[UInt8]]>(capacity: max(16, keys.keys.count))
        for key in keys.keys {
            _ = Array(key.name.utf8).withUnsafeBytes { table.insert($0, value: key.prefixes.map { Array($0.utf8) }) }
        }
        keyPrefixes = table
    }

    /// Calls `body` with the authenticated name (ZAP User-Id) of `frame`'s connection and
    /// its key's allowed metric prefixes (empty: any). Returns why it did not: the frame
    /// has no User-Id, or the key is no longer authorized (a reload removed it: its
    /// connections made before stay open, and get nothing through; `revoked` counts it).
    func withAuthenticatedPeer(
        _ frame: Message,
        revoked: () -> Void,
        _ body: (_ name: UnsafeRawBufferPointer, _ prefixes: [[UInt8]]) -> Void
    ) -> String? {
        frame.withMetadata("User-Id") { name in
            guard let name, name.count > 0 else { return "no authenticated identity on this connection" }
            guard let index = keyPrefixes.index(of: name) else {
                revoked()
                return "key \(JSONText.quoted(String(decoding: name, as: UTF8.self))) is no longer authorized"
            }
            body(name, keyPrefixes[index])
            return nil
        }
    }

    /// Fills ``scopedProducer`` with "User-Id 0x1F producer id" for the request whose
    /// body starts at `bodyStart`, and `prefixes` with its key's allowed prefixes;
    /// returns why not (see ``withAuthenticatedPeer(_:revoked:_:)``) or nil.
    func scopeProducer(
        frames: [Message],
        bodyStart: Int,
        prefixes: inout [[UInt8]],
        revoked: () -> Void
    ) -> String? {
        scopedProducer.removeAll(keepingCapacity: true)
        let refusal = withAuthenticatedPeer(frames[bodyStart], revoked: revoked) { name, allowed in
            scopedProducer.append(contentsOf: name)
            prefixes = allowed
        }
        if let refusal { return refusal }
        scopedProducer.append(ProducerTable.scopeSeparator)
        frames[bodyStart + 2].withUnsafeBytes { scopedProducer.append(contentsOf: $0) }
        return nil
    }

    /// Starts a message: every payload frame as received.
    func beginMessage() {
        guard anyFrameFiltered else { return }
        for f in frameFiltered.indices { frameFiltered[f] = false }
        anyFrameFiltered = false
    }

    /// Calls `body` with payload frame `f` as received, or as filtered by ``filter``.
    @inline(__always)
    func withPayload<R>(_ frames: [Message], _ f: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if anyFrameFiltered, f < frameFiltered.count, frameFiltered[f] {
            return try filteredFrames[f].withUnsafeBytes(body)
        }
        return try frames[f].withUnsafeBytes(body)
    }

    /// Takes every line of `frames[range]` whose metric starts with none of `prefixes`
    /// out of a copy of the frame (`PrefixFilter`): the log, the engine, replay and
    /// history then never see it, and line numbers stay those of the original.
    /// `refused(line, reason)` is told each. Returns how many.
    func filter(
        _ prefixes: [[UInt8]],
        frames: [Message],
        range: Range<Int>,
        parser: LineProtocolParser,
        refused: (_ line: Int, _ reason: String) -> Void
    ) -> Int {
        while frameFiltered.count < range.upperBound {
            frameFiltered.append(false)
            filteredFrames.append([])
        }
        var outside = 0
        var nextLine = 1
        for f in range {
            let (count, next) = frames[f].withUnsafeBytes { payload in
                PrefixFilter.filter(
                    payload,
                    firstLineNumber: nextLine,
                    prefixes: prefixes,
                    parser: parser,
                    copy: &filteredFrames[f]
                ) { line in
                    refused(
                        line.lineNumber,
                        "metric \"\(line.measurement.string)\" is outside this key's prefixes ("
                            + prefixes.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ", ") + ")"
                    )
                }
            }
            nextLine = next
            if count > 0 {
                frameFiltered[f] = true
                anyFrameFiltered = true
                outside += count
            }
        }
        return outside
    }
}
