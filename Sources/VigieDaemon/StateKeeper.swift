import Foundation
import Logging
import VigieCore
import VigieStore

/// Saves the engine state and brings it back: checkpoints (encoded on the engine
/// thread, written by ``CheckpointWriter``), recovery at start (newest usable
/// checkpoint, then the log replayed through the same paths as live), the final
/// checkpoint at a clean stop. Engine thread only.
final class StateKeeper {
    let state: EngineState
    private let feed: FeedPublisher
    private let applier: BatchApplier
    let store: CheckpointStore
    let walDirectory: String
    /// Writes checkpoints off the engine thread; nil until ``startWriter(retainFrom:)``.
    private(set) var writer: CheckpointWriter?
    /// WAL position of the last checkpoint written or submitted.
    private(set) var checkpointLSN: UInt64 = 0
    private var nextCheckpointAt: Int64 = .max
    /// What recovery found (for `stats` and the log).
    private(set) var summary = RecoverySummary()

    init(state: EngineState, feed: FeedPublisher, applier: BatchApplier) {
        self.state = state
        self.feed = feed
        self.applier = applier
        self.store = CheckpointStore(directory: state.configuration.daemon.stateDir + "/checkpoints")
        self.walDirectory = state.configuration.daemon.stateDir + "/wal"
    }

    // MARK: - Recovery

    /// Restores the newest usable checkpoint and replays the log after it (operator
    /// actions through `replayAction`, which returns why one could not be carried out),
    /// then opens the log for appending. A failure is fatal: the daemon must not
    /// acknowledge anything it cannot log.
    func recover(
        replayAction: (_ request: UnsafeRawBufferPointer, _ at: Int64) -> String?,
        syncObserver: (@Sendable (UInt64) -> Void)?
    ) throws -> WALWriter {
        let daemon = state.configuration.daemon
        try FileManager.default.createDirectory(
            atPath: daemon.stateDir,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o750]
        )
        let started = monotonicNanoseconds()
        let before = summary.problems.count
        let from = restoreNewestCheckpoint()
        if summary.checkpointLSN == nil {
            try checkStateCanBeRebuilt(checkpointProblems: Array(summary.problems[before...]))
        }
        let report = try WALRecovery.recover(directory: walDirectory, from: from) { record in
            replay(record, replayAction: replayAction)
        }
        for problem in report.problems {
            state.logger.error("write-ahead log damaged", metadata: ["problem": "\(problem)"])
        }
        let policy: WALSyncPolicy
        switch daemon.fsync {
        case .batch: policy = .batch(intervalNanoseconds: UInt64(daemon.fsyncInterval))
        case .always: policy = .always
        case .off: policy = .off
        }
        // A checkpoint can cover log bytes that never reached the disk (it is synced, the
        // log may not have been): continue after both.
        let wal = try WALWriter(
            directory: walDirectory,
            startLSN: max(report.endLSN, from),
            syncPolicy: policy,
            syncObserver: syncObserver
        )
        checkpointLSN = from
        nextCheckpointAt = state.now() + daemon.checkpointInterval
        summary.walRecords = report.records
        summary.walBytes = report.bytes
        summary.problems += report.problems
        summary.seconds = Double(monotonicNanoseconds() - started) / 1e9
        state.logger.info(
            "recovered",
            metadata: [
                "checkpoint_lsn": "\(summary.checkpointLSN.map(String.init) ?? "none")",
                "wal_records": "\(report.records)", "wal_bytes": "\(report.bytes)",
                "samples": "\(state.statistics.samplesReplayed)",
                "seconds": "\(String(format: "%.3f", summary.seconds))",
            ]
        )
        return wal
    }

    /// Starts the checkpoint thread; old log segments are deleted up to what
    /// `retainFrom` (and the oldest checkpoint) still needs.
    func startWriter(retainFrom: @escaping @Sendable () -> UInt64) {
        let store = self.store
        writer = CheckpointWriter(
            store: store,
            walDirectory: walDirectory,
            logger: state.logger,
            retainFrom: { min(store.list().first ?? 0, retainFrom()) }
        )
    }

    /// Stops the checkpoint thread (a checkpoint being written finishes first).
    func stopWriter() {
        writer?.stop()
    }

    /// Restores the newest checkpoint that reads back and decodes (falling back to older
    /// ones, saying why); returns the WAL position to replay from (0 without one).
    private func restoreNewestCheckpoint() -> UInt64 {
        var problems: [String] = []
        for lsn in store.list().reversed() {
            let path = store.directory + "/" + CheckpointStore.fileName(lsn: lsn)
            do {
                let loaded = try store.load(path: path)
                try restore(loaded.payload)
                summary.checkpointLSN = loaded.lsn
                summary.problems += problems
                for problem in problems {
                    state.logger.error(
                        "checkpoint skipped: fell back to an older one",
                        metadata: ["problem": "\(problem)"]
                    )
                }
                return loaded.lsn
            } catch {
                problems.append("\(path): \(error)")
                state.reset()
            }
        }
        for problem in problems {
            state.logger.error("checkpoint unusable: replaying the whole log", metadata: ["problem": "\(problem)"])
        }
        summary.problems += problems
        return 0
    }

    /// Without a usable checkpoint, the log alone rebuilds the state only if it still
    /// starts at LSN 0. Otherwise KPI windows and producers' sequence numbers are lost,
    /// and a batch a producer resends would be counted twice: refuse to start, unless
    /// the operator accepted the loss (`vigied --accept-state-loss`).
    private func checkStateCanBeRebuilt(checkpointProblems: [String]) throws {
        let oldest = (try? WALSegments.list(directory: walDirectory))?.first?.startLSN
        let logIsWhole = oldest.map { $0 == 0 } ?? checkpointProblems.isEmpty
        guard !logIsWhole else { return }
        let what =
            checkpointProblems.isEmpty
            ? "no checkpoint in \(store.directory)"
            : "every checkpoint is unusable (\(checkpointProblems.joined(separator: "; ")))"
        let log = oldest.map { "the log starts at LSN \($0), not 0" } ?? "the log is empty"
        let problem =
            "\(what) and \(log): the KPI windows and the producers' sequence numbers cannot be rebuilt, "
            + "and batches that producers resend would be counted twice"
        guard state.configuration.daemon.acceptStateLoss else {
            throw DaemonError(
                message: problem
                    + "; restore the checkpoints from a backup, or start once with vigied --accept-state-loss"
            )
        }
        state.logger.critical(
            "starting without the saved state (--accept-state-loss)",
            metadata: ["problem": "\(problem)"]
        )
        summary.problems.append("state lost: \(problem)")
    }

    /// Re-applies one logged record as it was applied the first time (same receive time).
    private func replay(_ record: WALRecord, replayAction: (UnsafeRawBufferPointer, Int64) -> String?) {
        state.statistics.recordsReplayed += 1
        switch record.kind {
        case .ingest:
            // Every logged batch was applied once when it came (duplicates are never logged).
            state.producers.replayApplied(producer: record.producer, sequence: record.sequence)
            replayFrames(record)
        case .push:
            replayFrames(record)
        case .operatorAction:
            let problem =
                record.frameCount == 1
                ? replayAction(record.frame(0), record.receivedAt)
                : "\(record.frameCount) frames instead of 1"
            if let problem {
                // Never fatal: the daemon starts without it, and says so.
                state.statistics.recordsSkipped += 1
                state.logger.error(
                    "logged operator action skipped",
                    metadata: ["problem": "\(problem)", "received_at": "\(record.receivedAt)"]
                )
            }
        case .alertTransition, .none:
            break
        }
    }

    private func replayFrames(_ record: WALRecord) {
        var nextLine = 1
        for f in 0..<record.frameCount {
            let result = applier.apply(
                record.frame(f),
                firstLine: nextLine,
                now: record.receivedAt,
                collectErrors: false
            )
            nextLine = result.nextLine
            state.statistics.samplesReplayed += UInt64(result.accepted)
        }
    }

    // MARK: - Checkpoints

    /// The whole engine state (``EngineCheckpoint``).
    func encode() -> [UInt8] {
        EngineCheckpoint.encode(
            now: state.now(),
            feedSequence: feed.sequence,
            engine: state.engine,
            evaluator: state.alerts.evaluator,
            actions: state.alerts.store as? InMemoryOperatorActionStore,
            producers: state.producers
        )
    }

    /// Puts `payload` (from ``encode()``) into the engine state; KPIs and rules whose
    /// definition changed since start empty. On a throw the state may be half-restored:
    /// the caller resets it.
    func restore(_ payload: [UInt8]) throws {
        let restored = try EngineCheckpoint.restore(
            payload,
            engine: state.engine,
            evaluator: state.alerts.evaluator,
            actions: state.alerts.store as? InMemoryOperatorActionStore,
            producerLimits: state.producers.limits,
            now: state.now()
        )
        state.producers = restored.producers
        feed.resume(after: restored.feedSequence)
        if let dropped = restored.alerts?.droppedRules, !dropped.isEmpty {
            state.logger.notice(
                "alert states dropped (rule changed or removed)",
                metadata: ["rules": "\(dropped.joined(separator: ", "))"]
            )
        }
        let report = restored.engine
        if !report.droppedGroups.isEmpty || !report.emptyKPIs.isEmpty {
            state.logger.notice(
                "KPI state dropped (definition changed)",
                metadata: [
                    "kpis": "\(report.emptyKPIs.joined(separator: ", "))",
                    "groups": "\(report.droppedGroups.count)",
                ]
            )
        }
    }

    /// Starts a checkpoint when one is due (interval or log bytes) and none is being
    /// written: idle producers are forgotten first (`replies` follow), the state is
    /// encoded here and written by the checkpoint thread.
    func checkpointIfDue(now: Int64, wal: WALWriter, replies: DurableReplies) {
        guard let writer, !writer.isBusy else { return }
        let logged = wal.flushedLSN &- checkpointLSN
        guard logged > 0 else { return }
        let daemon = state.configuration.daemon
        guard now >= nextCheckpointAt || Int64(logged) >= daemon.checkpointWALBytes else { return }
        state.producers.evictIdle(now: now)
        if let eviction = state.producers.takeEviction() { replies.follow(eviction, state: state) }
        if writer.submit(lsn: wal.flushedLSN, payload: encode(), currentSegment: wal.currentSegmentStartLSN) {
            checkpointLSN = wal.flushedLSN
            nextCheckpointAt = now + daemon.checkpointInterval
        }
    }

    /// A clean stop: a checkpoint of everything (the next start replays nothing), then
    /// the log segments nothing needs any more (`historyPosition`: where the history
    /// thread stopped reading).
    func finalCheckpoint(wal: WALWriter, historyPosition: UInt64) {
        guard wal.flushedLSN > checkpointLSN else { return }
        do {
            try store.write(lsn: wal.flushedLSN, payload: encode())
            try WALSegments.deleteSegments(
                directory: walDirectory,
                before: min(store.list().first ?? 0, historyPosition),
                keeping: wal.currentSegmentStartLSN
            )
        } catch {
            state.logger.error("final checkpoint failed", metadata: ["error": "\(error)"])
        }
    }

    /// The `wal` member of `stats`: positions, held replies, what recovery found.
    func writeStats(into writer: inout JSONWriter, wal: WALWriter?, repliesWaiting: Int) {
        writer.key("wal")
        writer.beginObject()
        writer.key("directory")
        writer.string(walDirectory)
        writer.key("fsync")
        writer.string(state.configuration.daemon.fsync.rawValue)
        writer.key("flushed_lsn")
        writer.integer(wal?.flushedLSN ?? 0)
        writer.key("durable_lsn")
        writer.integer(wal?.durableLSN ?? 0)
        writer.key("replies_waiting")
        writer.integer(repliesWaiting)
        writer.key("sync_failure")
        if let failure = wal?.syncFailure { writer.string("\(failure)") } else { writer.null() }
        writer.key("checkpoint_lsn")
        writer.integer(checkpointLSN)
        writer.key("checkpoints_written")
        writer.integer(self.writer?.written.load(ordering: .relaxed) ?? 0)
        writer.key("checkpoint_errors")
        writer.integer(self.writer?.failed.load(ordering: .relaxed) ?? 0)
        writer.key("last_checkpoint")
        if let last = self.writer?.lastWritten {
            writer.beginObject()
            writer.key("lsn")
            writer.integer(last.lsn)
            writer.key("bytes")
            writer.integer(last.bytes)
            writer.key("at")
            writer.timestamp(nanoseconds: Int64(last.at.timeIntervalSince1970 * 1e9))
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("last_checkpoint_error")
        if let error = self.writer?.lastError { writer.string(error) } else { writer.null() }
        writer.key("restored_checkpoint_lsn")
        if let lsn = summary.checkpointLSN { writer.integer(lsn) } else { writer.null() }
        writer.key("recovered_records")
        writer.integer(summary.walRecords)
        writer.key("recovery_seconds")
        writer.number((summary.seconds * 1000).rounded() / 1000)
        writer.key("recovery_problems")
        writer.beginArray()
        for problem in summary.problems { writer.string(problem) }
        writer.endArray()
        writer.endObject()
    }
}

/// What startup recovery read and repaired.
struct RecoverySummary {
    var walRecords = 0
    var walBytes = 0
    var checkpointLSN: UInt64?
    var problems: [String] = []
    var seconds = 0.0
}
