import Foundation
import Logging
import Synchronization
import VigieConfig
import VigieCore

/// Runs every collector every `interval` (the first run at `start()`), each on its own
/// thread so a slow command never delays the others, and hands what they produce to
/// `sink`.
///
/// Runs of one collector never overlap: the next run starts `interval` after the
/// previous one started, or at once when it took longer (missed runs are skipped, not
/// queued). `stop()` wakes every thread, kills running commands and returns once all
/// threads are gone. Statuses are kept under a lock; `statuses()` is safe from any
/// thread.
public final class CollectorScheduler: Sendable {
    /// Receives produced line protocol (`\n`-terminated lines) and the wall-clock time of
    /// the run, ns since the epoch. Called on collector threads, concurrently for
    /// different collectors.
    /// Returns true once the lines are spooled, false when the agent could not take them.
    public typealias Sink = @Sendable (String, Int64) -> Bool

    /// One collector and its period.
    public struct Entry: Sendable {
        /// The collector.
        public var collector: any Collector
        /// Time between two runs, ns (at least 1 ms is used).
        public var interval: Int64

        /// Creates an entry.
        public init(collector: any Collector, interval: Int64) {
            self.collector = collector
            self.interval = interval
        }
    }

    private struct Control {
        var started = false
        var stopping = false
        var finished = 0
    }

    private let entries: [Entry]
    private let sink: Sink
    private let logger: Logger
    private let clock: any WallClock
    private let control = Mutex(Control())
    private let wake = NSCondition()
    private let status: Mutex<[CollectorStatus]>

    /// A scheduler for `entries`; nothing runs before `start()`. `clock` gives the
    /// runs' wall-clock times (sample timestamps and `receivedAt`).
    public init(entries: [Entry], sink: @escaping Sink, logger: Logger, clock: any WallClock = SystemClock()) {
        self.entries = entries
        self.sink = sink
        self.logger = logger
        self.clock = clock
        status = Mutex(
            entries.map {
                CollectorStatus(name: $0.collector.name, kind: $0.collector.kind, interval: $0.interval)
            }
        )
    }

    /// A scheduler for an agent's `[[collector]]` tables; `stateDirectory` holds the
    /// `file` collectors' offsets (created when missing).
    public convenience init(
        configurations: [CollectorConfiguration],
        stateDirectory: String,
        sink: @escaping Sink,
        logger: Logger
    ) {
        let collectors = Collectors.make(configurations, stateDirectory: stateDirectory)
        let entries = zip(collectors, configurations).map { Entry(collector: $0, interval: $1.interval) }
        self.init(entries: entries, sink: sink, logger: logger)
    }

    /// Starts one thread per collector; each runs its collector at once. A second call
    /// does nothing.
    public func start() {
        let first = control.withLock { state -> Bool in
            guard !state.started else { return false }
            state.started = true
            return true
        }
        guard first else { return }
        for index in entries.indices {
            let name = "collect-\(entries[index].collector.name)"
            let thread = Thread { [self] in
                nameCurrentThread(name)
                loop(index)
                wake.lock()
                control.withLock { $0.finished += 1 }
                wake.broadcast()
                wake.unlock()
            }
            thread.start()
        }
    }

    /// Stops every collector: waiting threads wake, running commands are killed, running
    /// HTTP requests are cancelled. Returns once every thread has ended.
    public func stop() {
        wake.lock()
        let started = control.withLock { state -> Bool in
            state.stopping = true
            return state.started
        }
        wake.broadcast()
        if started {
            while control.withLock({ $0.finished }) < entries.count {
                wake.wait()
            }
        }
        wake.unlock()
    }

    /// Every collector's status, in configuration order.
    public func statuses() -> [CollectorStatus] {
        status.withLock { $0 }
    }

    /// Every collector's status as JSON objects, in configuration order.
    public func statusObjects() -> [[String: JSONValue]] {
        statuses().map(\.jsonObject)
    }

    private var isStopping: Bool { control.withLock { $0.stopping } }

    private func loop(_ index: Int) {
        let entry = entries[index]
        let interval = UInt64(max(entry.interval, 1_000_000))
        let stopping: @Sendable () -> Bool = { [self] in isStopping }
        var next = monotonicNanoseconds()
        while !isStopping {
            let started = monotonicNanoseconds()
            let now = clock.now()
            var report = entry.collector.collect(now: now, stopping: stopping)
            let duration = Int64(monotonicNanoseconds() - started)
            if !report.lines.isEmpty {
                // Blocks until the agent has spooled the lines (or refused them): a file
                // collector saves its offset only then, or reads the lines again.
                let spooled = sink(report.lines, now)
                if let problem = entry.collector.settle(spooled: spooled) {
                    report.result = problem
                    report.failed = true
                } else if !spooled {
                    report.result = "output not spooled (the agent's queue is full or its spool failing): dropped"
                    report.failed = true
                }
            }
            record(report, index: index, at: now, duration: duration)
            next += interval
            let after = monotonicNanoseconds()
            if next <= after {
                // Overran: skip the missed runs and keep the phase.
                next += (after - next) / interval * interval + interval
            }
            pause(until: next)
        }
    }

    private func record(_ report: CollectorReport, index: Int, at now: Int64, duration: Int64) {
        let name = entries[index].collector.name
        let (failures, previous) = status.withLock { all -> (Int, String?) in
            let previous = all[index].result
            all[index].runs += 1
            all[index].lastRunAt = now
            all[index].lastDuration = duration
            all[index].result = report.result
            all[index].linesProduced = report.lineCount
            all[index].totalLines += report.lineCount
            all[index].consecutiveFailures = report.failed ? all[index].consecutiveFailures + 1 : 0
            all[index].stderr = report.stderr
            return (all[index].consecutiveFailures, previous)
        }
        // A collector that keeps failing the same way (a file not there yet, every second)
        // is logged at its 1st, 2nd, 4th, 8th… failure in a row, and whenever the reason
        // changes; `vigie agent status` shows every run.
        let isPowerOfTwo = failures & (failures - 1) == 0
        if report.failed && (isPowerOfTwo || previous != report.result) {
            var metadata: Logger.Metadata = [
                "collector": "\(name)", "result": "\(report.result)", "consecutive_failures": "\(failures)",
            ]
            if let stderr = report.stderr, !stderr.isEmpty { metadata["stderr"] = "\(stderr)" }
            logger.warning("collector run failed", metadata: metadata)
        }
    }

    /// Sleeps until the monotonic time `deadline` or until `stop()`.
    private func pause(until deadline: UInt64) {
        wake.lock()
        defer { wake.unlock() }
        while !isStopping {
            let now = monotonicNanoseconds()
            guard now < deadline else { return }
            _ = wake.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
        }
    }
}
