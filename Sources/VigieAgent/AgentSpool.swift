import Foundation
import Logging
import VigieConfig
import VigieStore

/// The agent's store-and-forward buffer: a write-ahead log (``WALWriter``) in
/// `spool.directory/spool`, one `.ingest` record per accepted batch, under the agent's
/// own producer id with dense sequence numbers (1, 2, 3…) that the daemon's anti-replay
/// window dedupes.
///
/// **Ownership.** Not `Sendable`: the agent loop thread appends, enforces the size
/// bound, persists `state.json` and deletes acknowledged segments. The ``Forwarder``
/// reads the segments on its own thread through ``shared`` positions only.
///
/// **Size bound.** After each append, while the segments hold more than
/// `spool.maxBytes`, the oldest segment is deleted even if unsent; its unacknowledged
/// records and lines are added to ``state``'s drop counters (persisted, and reported
/// upstream as `vigie_agent_dropped` by ``AgentHealth``): never a silent loss.
public final class AgentSpool {
    /// The spool settings.
    public let configuration: AgentSpoolConfiguration
    /// The producer id the records carry: the agent's id towards the daemon, its
    /// configured producer id and the spool's incarnation (`agent-mairie.3f9a1c2e`).
    public let producerID: [UInt8]
    /// The segment directory, `spool.directory/spool`.
    public let segmentDirectory: String
    /// `spool.directory/state.json`.
    public let statePath: String
    /// Positions shared with the forwarder.
    public let shared: SpoolShared
    /// What recovery found at open (problems are also logged).
    public let recoveryReport: WALRecoveryReport
    /// The persisted state, as last updated (acknowledged position, drop counters).
    public private(set) var state: AgentSpoolState

    private let writer: WALWriter
    private let logger: Logger
    private var stateDirty = false
    private var lastStateSave: UInt64 = 0
    private var closed = false
    /// Sum of the segment file sizes, kept up to date without listing the directory
    /// on every append.
    private var segmentBytesOnDisk: Int64 = 0
    /// Start LSN of the segment being written, to notice rotations.
    private var currentSegmentStart: UInt64 = 0

    /// Opens (or creates) the spool: recovers the segments (tail repair, problems
    /// logged), reads `state.json`, and continues writing at the end.
    ///
    /// - Throws: ``StoreError`` or ``AgentError`` if the directory or state cannot be
    ///   read or created.
    public init(configuration: AgentSpoolConfiguration, producerID: String, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        segmentDirectory = (configuration.directory as NSString).appendingPathComponent("spool")
        statePath = (configuration.directory as NSString).appendingPathComponent("state.json")
        try FileManager.default.createDirectory(
            atPath: configuration.directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o750]
        )
        let stateMissing = !FileManager.default.fileExists(atPath: statePath)
        var state = try AgentSpoolState.load(path: statePath)
        var lastRecordSequence: UInt64 = 0
        var lastRecordProducer: [UInt8]?
        let report = try WALRecovery.recover(directory: segmentDirectory, from: 0) { record in
            lastRecordSequence = max(lastRecordSequence, record.sequence)
            lastRecordProducer = Array(record.producer)
        }
        if stateMissing {
            // The records name the id they were written for (each carries the upstream
            // producer id); a spool with none starts a new incarnation. Kept at once, so
            // that a crash before the first periodic save does not make another.
            state.incarnation = Self.incarnation(
                of: lastRecordProducer.map { String(decoding: $0, as: UTF8.self) },
                producerID: producerID
            )
            try state.save(path: statePath)
        }
        for problem in report.problems {
            logger.error("spool recovery", metadata: ["problem": "\(problem)", "directory": "\(segmentDirectory)"])
        }
        if state.ackedLSN > report.endLSN {
            logger.warning(
                "spool state is ahead of the spool (segments removed by hand?); resuming at the spool's end",
                metadata: ["acked_lsn": "\(state.ackedLSN)", "spool_end": "\(report.endLSN)"]
            )
            state.ackedLSN = report.endLSN
        }
        state.lastSequence = max(state.lastSequence, lastRecordSequence, state.ackedSequence)
        recoveryReport = report
        let policy: WALSyncPolicy
        switch configuration.fsync {
        case .always: policy = .always
        case .off: policy = .off
        case .batch: policy = .batch(intervalNanoseconds: UInt64(max(0, configuration.fsyncInterval)))
        }
        writer = try WALWriter(
            directory: segmentDirectory,
            startLSN: report.endLSN,
            segmentBytes: configuration.segmentBytes,
            syncPolicy: policy
        )
        let segments = try WALSegments.list(directory: segmentDirectory)
        shared = SpoolShared(
            durableLSN: report.endLSN,
            oldestLSN: segments.first?.startLSN ?? report.endLSN,
            ackedLSN: state.ackedLSN,
            ackedSequence: state.ackedSequence,
            lastSequence: state.lastSequence,
            upstreamProducer: state.upstreamProducer(producerID)
        )
        self.state = state
        self.producerID = Array(state.upstreamProducer(producerID).utf8)
        segmentBytesOnDisk = Self.sizeOnDisk(segments)
        currentSegmentStart = writer.currentSegmentStartLSN
    }

    deinit { try? close() }

    /// The incarnation of a spool whose `state.json` is gone: the one its last record was
    /// written under (`producerID.INCARNATION`), none when that record has the plain
    /// `producerID` (a spool made before incarnations), a new one when the spool holds no
    /// record or one of another producer id.
    public static func incarnation(of lastRecordProducer: String?, producerID: String) -> String? {
        guard let last = lastRecordProducer else { return AgentSpoolState.newIncarnation() }
        if last == producerID { return nil }
        var probe = AgentSpoolState()
        if let dot = last.lastIndex(of: ".") {
            probe.incarnation = String(last[last.index(after: dot)...])
            if probe.upstreamProducer(producerID) == last { return probe.incarnation }
        }
        return AgentSpoolState.newIncarnation()
    }

    // MARK: - Appending

    /// Appends one batch as one record (`.ingest`, the agent's producer id, the next
    /// sequence number), flushes it and asks for a sync, then enforces the size bound.
    ///
    /// - Parameters:
    ///   - payload: accepted line-protocol lines, newline-separated (one frame).
    ///   - lineCount: how many lines `payload` holds (for the drop counters).
    ///   - receivedAt: when the agent received the batch, ns since the Unix epoch.
    /// - Returns: the record's sequence number and its end LSN: acknowledge the script
    ///   once ``durableLSN`` reaches it.
    /// - Throws: ``StoreError`` if the write failed (nothing is appended; the sequence
    ///   number is not consumed).
    @discardableResult
    public func append(
        lines payload: UnsafeRawBufferPointer,
        lineCount: Int,
        receivedAt: Int64
    ) throws -> (sequence: UInt64, position: UInt64) {
        let sequence = state.lastSequence + 1
        try producerID.withUnsafeBytes {
            try writer.beginRecord(kind: .ingest, receivedAt: receivedAt, sequence: sequence, producer: $0)
        }
        try writer.appendFrame(payload)
        writer.endRecord()
        let before = writer.flushedLSN
        try writer.flush()
        writer.requestSync()
        state.lastSequence = sequence
        stateDirty = true
        shared.lastSequence.store(sequence, ordering: .releasing)
        segmentBytesOnDisk += Int64(writer.flushedLSN - before)
        if writer.currentSegmentStartLSN != currentSegmentStart {
            // The flush rotated: a new segment file, header included.
            currentSegmentStart = writer.currentSegmentStartLSN
            segmentBytesOnDisk += Int64(WALFormat.segmentHeaderSize)
        }
        if writer.syncPolicy == .off { publishDurable() }
        let position = writer.flushedLSN
        // The batch is written: a failure to trim the spool must not make the caller
        // refuse (and the script resend) it.
        do {
            try enforceSizeBound()
        } catch {
            logger.error("spool: size bound not enforced", metadata: ["error": "\(error)"])
        }
        return (sequence, position)
    }

    /// Appends `text` (newline-separated lines) as one batch. Allocates; for health
    /// samples and tests.
    @discardableResult
    public func append(text: String, receivedAt: Int64) throws -> (sequence: UInt64, position: UInt64) {
        let bytes = Array(text.utf8)
        let lines = Self.countLines(bytes.withUnsafeBytes { $0 })
        return try bytes.withUnsafeBytes { try append(lines: $0, lineCount: lines, receivedAt: receivedAt) }
    }

    // MARK: - Durability

    /// End LSN of the last record durable under the spool's fsync policy. Thread-safe.
    public var durableLSN: UInt64 { writer.durableLSN }

    /// End LSN of the last record written.
    public var flushedLSN: UInt64 { writer.flushedLSN }

    /// Readable when ``durableLSN`` advances: add it to the loop's poll set, then call
    /// ``drainNotification()`` and ``publishDurable()``.
    public var notificationFD: Int32 { writer.notificationFD }

    /// Clears ``notificationFD``'s readiness.
    public func drainNotification() { writer.drainNotification() }

    /// Publishes ``durableLSN`` to the forwarder; returns it.
    @discardableResult
    public func publishDurable() -> UInt64 {
        let durable = writer.durableLSN
        shared.durableLSN.store(durable, ordering: .releasing)
        return durable
    }

    /// The first sync failure of the spool, if any (sticky: restart the agent).
    public var syncFailure: StoreError? { writer.syncFailure }

    // MARK: - Size bound and cleanup

    /// Bytes of spool segments on disk (headers included).
    public var bytesOnDisk: Int64 { segmentBytesOnDisk }

    /// Deletes the oldest segments while the spool holds more than `maxBytes`, counting
    /// their unacknowledged records and lines as dropped. Never deletes the segment
    /// being written.
    private func enforceSizeBound() throws {
        guard segmentBytesOnDisk > configuration.maxBytes else { return }
        var segments = try WALSegments.list(directory: segmentDirectory)
        while segmentBytesOnDisk > configuration.maxBytes, segments.count > 1,
            segments[0].startLSN < writer.currentSegmentStartLSN
        {
            let victim = segments[0]
            let next = segments[1].startLSN
            let acked = shared.ackedLSN.load(ordering: .acquiring)
            var batches: UInt64 = 0
            var samples: UInt64 = 0
            if acked < next {
                let reader = WALTailReader(directory: segmentDirectory, from: max(victim.startLSN, acked))
                do {
                    try reader.read(upTo: next) { record in
                        guard record.endLSN > acked else { return }
                        batches += 1
                        for f in 0..<record.frameCount { samples += UInt64(Self.countLines(record.frame(f))) }
                    }
                } catch {
                    logger.error(
                        "spool: could not count the records of a segment dropped by the size bound",
                        metadata: ["segment": "\(victim.path)", "error": "\(error)"]
                    )
                }
            }
            let size = Self.sizeOnDisk([victim])
            try WALSegments.deleteSegments(
                directory: segmentDirectory,
                before: next,
                keeping: writer.currentSegmentStartLSN
            )
            segmentBytesOnDisk -= size
            segments.removeFirst()
            shared.oldestLSN.store(next, ordering: .releasing)
            if batches > 0 {
                state.droppedBatches += batches
                state.droppedSamples += samples
                stateDirty = true
                logger.warning(
                    "spool full: oldest unsent data dropped",
                    metadata: [
                        "segment": "\(victim.name)", "batches": "\(batches)", "samples": "\(samples)",
                        "max_bytes": "\(configuration.maxBytes)",
                    ]
                )
            }
        }
        if stateDirty { try? persist() }
    }

    /// Takes the forwarder's acknowledged position into ``state``, deletes the segments
    /// wholly before it, and persists `state.json` if a second has passed since the
    /// last save (or `force`). Call from the loop at least once a second.
    public func checkpoint(force: Bool = false) {
        let ackedLSN = shared.ackedLSN.load(ordering: .acquiring)
        let ackedSequence = shared.ackedSequence.load(ordering: .acquiring)
        if ackedLSN != state.ackedLSN || ackedSequence != state.ackedSequence {
            state.ackedLSN = ackedLSN
            state.ackedSequence = ackedSequence
            stateDirty = true
        }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now &- lastStateSave >= 1_000_000_000 else { return }
        if stateDirty {
            do { try persist() } catch { logger.error("spool: cannot save state", metadata: ["error": "\(error)"]) }
        }
        lastStateSave = now
        do {
            let removed = try WALSegments.deleteSegments(
                directory: segmentDirectory,
                before: state.ackedLSN,
                keeping: writer.currentSegmentStartLSN
            )
            if !removed.isEmpty {
                let remaining = try WALSegments.list(directory: segmentDirectory)
                shared.oldestLSN.store(remaining.first?.startLSN ?? state.ackedLSN, ordering: .releasing)
                segmentBytesOnDisk = Self.sizeOnDisk(remaining)
            }
        } catch {
            logger.error("spool: cannot delete acknowledged segments", metadata: ["error": "\(error)"])
        }
    }

    /// Writes `state.json` now.
    public func persist() throws {
        try state.save(path: statePath)
        stateDirty = false
    }

    /// Persists the state (unless `persistState` is false: a crash simulation), closes
    /// the writer. Idempotent.
    public func close(persistState: Bool = true) throws {
        guard !closed else { return }
        closed = true
        if persistState { checkpoint(force: true) }
        try writer.close()
        publishDurable()
    }

    // MARK: - Helpers

    /// Lines in a payload: non-blank lines that are not `#` comments.
    public static func countLines(_ bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var atLineStart = true
        var lineHasContent = false
        for byte in bytes {
            if byte == 0x0A {
                if lineHasContent { count += 1 }
                atLineStart = true
                lineHasContent = false
                continue
            }
            if atLineStart, byte == 0x20 || byte == 0x09 || byte == 0x0D { continue }
            if atLineStart {
                atLineStart = false
                lineHasContent = byte != 0x23
            }
        }
        if lineHasContent { count += 1 }
        return count
    }

    private static func sizeOnDisk(_ segments: [WALSegments.Segment]) -> Int64 {
        var total: Int64 = 0
        for segment in segments {
            let attributes = try? FileManager.default.attributesOfItem(atPath: segment.path)
            total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        }
        return total
    }
}
