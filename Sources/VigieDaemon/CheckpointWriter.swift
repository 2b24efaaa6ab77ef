import Foundation
import Logging
import Synchronization
import VigieCore
import VigieStore

/// Writes checkpoints off the engine thread, then deletes the write-ahead-log segments
/// they make unnecessary.
///
/// The engine encodes its state (fast, in memory) and `submit`s the bytes; this thread
/// writes them atomically (`CheckpointStore`) and deletes every segment wholly before
/// both the checkpoint's position and `retainFrom()` (the history writer's position: it
/// still reads the log). One checkpoint at a time: a submit while one is being written
/// is refused and the engine tries again later.
final class CheckpointWriter: Sendable {
    private struct Job: Sendable {
        var lsn: UInt64
        var payload: [UInt8]
        var currentSegment: UInt64
    }

    private struct State: Sendable {
        var job: Job?
        var busy = false
        var stopping = false
        var lastError: String?
        var lastWritten: (lsn: UInt64, bytes: Int, at: Date)?
    }

    private let store: CheckpointStore
    private let walDirectory: String
    private let retainFrom: @Sendable () -> UInt64
    private let logger: Logger
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// Checkpoints written and failed (read by the engine for `stats`).
    let written = Atomic<UInt64>(0)
    let failed = Atomic<UInt64>(0)

    init(
        store: CheckpointStore,
        walDirectory: String,
        logger: Logger,
        retainFrom: @escaping @Sendable () -> UInt64
    ) {
        self.store = store
        self.walDirectory = walDirectory
        self.logger = logger
        self.retainFrom = retainFrom
        let thread = Thread { [self] in
            nameCurrentThread("vigie-ckpt")
            self.loop()
        }
        thread.start()
    }

    /// Queues a checkpoint of `payload` at `lsn`; false when one is still being written.
    func submit(lsn: UInt64, payload: [UInt8], currentSegment: UInt64) -> Bool {
        let accepted = state.withLock { s -> Bool in
            guard !s.busy, !s.stopping else { return false }
            s.busy = true
            s.job = Job(lsn: lsn, payload: payload, currentSegment: currentSegment)
            return true
        }
        if accepted { wake.signal() }
        return accepted
    }

    /// True while a checkpoint is queued or being written.
    var isBusy: Bool { state.withLock { $0.busy } }

    /// The last checkpoint written: position, size and time.
    var lastWritten: (lsn: UInt64, bytes: Int, at: Date)? { state.withLock { $0.lastWritten } }

    /// Why the last checkpoint failed, if it did.
    var lastError: String? { state.withLock { $0.lastError } }

    /// Waits for the checkpoint being written, then stops the thread.
    func stop() {
        state.withLock { $0.stopping = true }
        wake.signal()
        done.wait()
    }

    private func loop() {
        while true {
            wake.wait()
            let (job, stopping) = state.withLock { s in (s.job, s.stopping) }
            if let job {
                write(job)
                state.withLock { s in
                    s.job = nil
                    s.busy = false
                }
            }
            if stopping {
                done.signal()
                return
            }
        }
    }

    private func write(_ job: Job) {
        do {
            let bytes = try store.write(lsn: job.lsn, payload: job.payload)
            written.add(1, ordering: .relaxed)
            state.withLock { s in
                s.lastWritten = (job.lsn, bytes, Date())
                s.lastError = nil
            }
            logger.info("checkpoint written", metadata: ["lsn": "\(job.lsn)", "bytes": "\(bytes)"])
        } catch {
            failed.add(1, ordering: .relaxed)
            state.withLock { $0.lastError = "\(error)" }
            logger.error("checkpoint failed", metadata: ["error": "\(error)"])
            return
        }
        let keepFrom = min(job.lsn, retainFrom())
        do {
            let deleted = try WALSegments.deleteSegments(
                directory: walDirectory,
                before: keepFrom,
                keeping: job.currentSegment
            )
            if !deleted.isEmpty {
                logger.debug("deleted WAL segments", metadata: ["count": "\(deleted.count)", "before": "\(keepFrom)"])
            }
        } catch {
            logger.warning("could not delete old WAL segments", metadata: ["error": "\(error)"])
        }
    }
}
