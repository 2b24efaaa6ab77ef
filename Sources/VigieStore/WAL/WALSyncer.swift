import Foundation
import Synchronization
import VigieCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The group-commit thread of a ``WALWriter``: `fdatasync`s what the engine flushed,
/// publishes the durable LSN and signals the engine's notification descriptor.
///
/// Shared between the engine thread (the writer) and its own thread; everything mutable
/// is an `Atomic` or behind the `Mutex`. See ``WALWriter`` for the ordering argument.
final class WALSyncer: Sendable {
    /// The segment descriptors the syncer must cover, under `segments`.
    struct SegmentFiles: Sendable {
        struct File: Sendable {
            var fd: Int32
            var path: String
        }
        /// The segment the writer appends to.
        var current: File
        /// SegmentFiles the writer rotated away from: synced (unless `.off`) then closed by
        /// the syncer, never by the writer.
        var retired: [File] = []
        /// A segment file was created since the last directory sync.
        var directoryDirty = false
        /// The first `fdatasync` failure; sticky.
        var failure: StoreError?
    }

    let policy: WALSyncPolicy
    let directory: String
    /// End LSN of the last record written to a segment (stored by the writer, release).
    let flushed: Atomic<UInt64>
    /// The flushed LSN at the engine's last `requestSync()` (sequentially consistent).
    let requested: Atomic<UInt64>
    /// End LSN of the last record known durable (stored by the syncer, release).
    let durable: Atomic<UInt64>
    /// True while the syncer thread is about to block on the wake pipe.
    let sleeping = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    let segments: Mutex<SegmentFiles>
    /// Read and write ends of the pipe that wakes the syncer thread.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    /// Read and write ends of the pipe the engine polls.
    let notifyRead: Int32
    private let notifyWrite: Int32
    private let exited = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    /// Told each sync cycle's duration in ns (metrics), on the syncing thread.
    private let observer: (@Sendable (UInt64) -> Void)?

    init(
        policy: WALSyncPolicy,
        directory: String,
        startLSN: UInt64,
        current: SegmentFiles.File,
        observer: (@Sendable (UInt64) -> Void)? = nil
    ) throws {
        self.policy = policy
        self.observer = observer
        self.directory = directory
        flushed = Atomic(startLSN)
        requested = Atomic(startLSN)
        durable = Atomic(startLSN)
        segments = Mutex(SegmentFiles(current: current))
        let wake = try Self.makePipe(directory)
        let notify: (Int32, Int32)
        do {
            notify = try Self.makePipe(directory)
        } catch {
            SystemCalls.closeFile(wake.0)
            SystemCalls.closeFile(wake.1)
            throw error
        }
        (wakeRead, wakeWrite) = wake
        (notifyRead, notifyWrite) = notify
    }

    /// A non-blocking, close-on-exec pipe.
    private static func makePipe(_ path: String) throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw StoreError(path: path, operation: "pipe", code: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }

    /// Starts the thread (not for `.off`).
    func start() {
        started.store(true, ordering: .relaxed)
        let thread = Thread { [self] in
            nameCurrentThread("vigie-wal-sync")
            run()
            exited.signal()
        }
        thread.start()
    }

    /// Asks the thread to exit after its current sync and waits until it has.
    func stopAndJoin() {
        guard started.exchange(false, ordering: .relaxed) else { return }
        stopping.store(true, ordering: .sequentiallyConsistent)
        Self.poke(wakeWrite)
        exited.wait()
    }

    /// Wakes the syncer if it may be asleep: called by the engine after storing `requested`.
    func wakeIfSleeping() {
        if sleeping.load(ordering: .sequentiallyConsistent) { Self.poke(wakeWrite) }
    }

    /// Makes the notification descriptor readable.
    func notify() { Self.poke(notifyWrite) }

    /// Empties the notification descriptor.
    func drainNotification() { Self.drain(notifyRead) }

    private static func poke(_ fd: Int32) {
        var byte: UInt8 = 1
        // EAGAIN: the pipe is full, so already readable; nothing else can fail here.
        _ = try? SystemCalls.retrying("write", "pipe") { write(fd, &byte, 1) }
    }

    private static func drain(_ fd: Int32) {
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while true {
            let n = withUnsafeMutableBytes(of: &scratch) { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { continue }
            if n < 0, errno == EINTR { continue }
            return
        }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    // MARK: - The thread

    private func run() {
        var covered = durable.load(ordering: .acquiring)
        var lastStart: UInt64 = 0
        while let wanted = waitForRequest(after: covered) {
            if case .batch(let interval) = policy, lastStart != 0 {
                let earliest = lastStart &+ interval
                let now = Self.monotonicNanoseconds()
                if now < earliest {
                    let wait = earliest - now
                    var pause = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
                    var left = timespec()
                    while nanosleep(&pause, &left) != 0, errno == EINTR { pause = left }
                }
            }
            lastStart = Self.monotonicNanoseconds()
            // Load the target BEFORE snapshotting the descriptors (see WALWriter).
            let target = flushed.load(ordering: .acquiring)
            if syncCovering(target: target) {
                covered = target
            } else {
                covered = max(covered, wanted)  // failed for good: only close retired files from now on
            }
        }
    }

    /// Waits until `requested` passes `covered`; nil once stopping.
    private func waitForRequest(after covered: UInt64) -> UInt64? {
        while true {
            if stopping.load(ordering: .sequentiallyConsistent) { return nil }
            let wanted = requested.load(ordering: .sequentiallyConsistent)
            if wanted > covered { return wanted }
            sleeping.store(true, ordering: .sequentiallyConsistent)
            // Re-check after announcing the sleep: the engine stores `requested` then loads
            // `sleeping`, so one of us sees the other (both sequentially consistent).
            if stopping.load(ordering: .sequentiallyConsistent)
                || requested.load(ordering: .sequentiallyConsistent) > covered
            {
                sleeping.store(false, ordering: .sequentiallyConsistent)
                continue
            }
            var entry = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, -1)
            Self.drain(wakeRead)
            sleeping.store(false, ordering: .sequentiallyConsistent)
        }
    }

    /// Syncs retired segments, the directory if a segment was created, then the current
    /// segment, and publishes `target` as durable. Returns false (and records the sticky
    /// failure) if a sync failed, or if one failed before.
    ///
    /// Runs on the syncer thread, or on the writer's thread once the syncer has stopped.
    @discardableResult
    func syncCovering(target: UInt64) -> Bool {
        let snapshot = segments.withLock { state -> SegmentFiles in
            let copy = state
            state.retired = []
            state.directoryDirty = false
            return copy
        }
        if policy == .off || snapshot.failure != nil {
            for file in snapshot.retired { SystemCalls.closeFile(file.fd) }
            return snapshot.failure == nil
        }
        let started = Self.monotonicNanoseconds()
        defer { observer?(Self.monotonicNanoseconds() - started) }
        do {
            for (index, file) in snapshot.retired.enumerated() {
                do {
                    try SystemCalls.dataSync(file.fd, path: file.path)
                } catch {
                    for rest in snapshot.retired[index...] { SystemCalls.closeFile(rest.fd) }
                    throw error
                }
                SystemCalls.closeFile(file.fd)
            }
            if snapshot.directoryDirty { try SystemCalls.syncDirectory(directory) }
            try SystemCalls.dataSync(snapshot.current.fd, path: snapshot.current.path)
        } catch {
            let failure =
                error as? StoreError ?? StoreError(path: directory, operation: "fdatasync", detail: "\(error)")
            segments.withLock { state in
                if state.failure == nil { state.failure = failure }
            }
            notify()
            return false
        }
        if target > durable.load(ordering: .relaxed) {
            durable.store(target, ordering: .releasing)
        }
        notify()
        return true
    }

    /// Closes every descriptor (the thread must be stopped).
    func closeAll() {
        let files = segments.withLock { state -> [SegmentFiles.File] in
            defer { state.retired = [] }
            return state.retired + [state.current]
        }
        for file in files where file.fd >= 0 { SystemCalls.closeFile(file.fd) }
        for fd in [wakeRead, wakeWrite, notifyRead, notifyWrite] { SystemCalls.closeFile(fd) }
    }
}
