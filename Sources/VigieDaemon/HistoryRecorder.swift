import Foundation
import Logging
import Synchronization
import VigieConfig
import VigieCore
import VigieStore
import ZeroMQ

/// The history thread: follows the write-ahead log up to what is durable, rolls every
/// accepted sample up per KPI series and minute (`RollupAccumulator`), and writes the
/// rollups, alert transitions and operator actions to SQLite about once a second —
/// with the log position they cover, in the same transaction, so each record lands in
/// history exactly once whatever crashes. It also answers the `history` and `events`
/// control ops, which the engine thread forwards over an inproc PAIR socket.
///
/// Off the engine thread by construction: the engine only publishes its durable
/// position (an atomic store per loop turn) and forwards query frames. Late samples of
/// any age land in their minute, however old (within `[ingest] max_age`).
final class HistoryRecorder: Sendable {
    /// The inproc endpoint the engine binds and this thread connects.
    let endpoint: String
    /// The decoded requests the engine forwards to the query thread.
    let requests = HistoryRequests()
    /// What the log is durable up to (the engine stores it; this thread reads).
    private let durable = Atomic<UInt64>(0)
    /// Log position history has consumed (for segment retention).
    let position = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled once the query thread has connected its PAIR socket.
    private let connected = DispatchSemaphore(value: 0)
    /// Counters for `stats`.
    let recordsRead = Atomic<UInt64>(0)
    let rollupsWritten = Atomic<UInt64>(0)
    let eventsWritten = Atomic<UInt64>(0)
    let writeErrors = Atomic<UInt64>(0)
    private let lastError = Mutex<String?>(nil)
    /// The KPIs rolled up and queried; replaced by a reload (both threads pick the new
    /// list up at their next round or request).
    private let kpis: Mutex<[KPIDefinition]>

    private let store: HistoryStore
    private let configuration: VigieConfiguration
    private let walDirectory: String
    private let logger: Logger

    /// Opens the history database and reads its consumed position; the thread starts
    /// with `start(context:)` once the engine has bound `endpoint`.
    init(configuration: VigieConfiguration, walDirectory: String, logger: Logger) throws {
        self.configuration = configuration
        self.walDirectory = walDirectory
        self.logger = logger
        kpis = Mutex(configuration.kpis)
        store = try HistoryStore(path: configuration.daemon.stateDir + "/" + HistoryConfiguration.fileName)
        position.store(try store.position() ?? 0, ordering: .relaxed)
        endpoint = "inproc://vigie-history-\(UUID().uuidString)"
    }

    /// Tells the thread the log is durable up to `lsn` (engine thread, every turn).
    func publish(durable lsn: UInt64) {
        durable.store(lsn, ordering: .releasing)
    }

    var lastWriteError: String? { lastError.withLock { $0 } }

    /// After a reload: roll up and answer for `kpis` from now on (samples already
    /// rolled up stay under their KPI's name).
    func reconfigure(kpis new: [KPIDefinition]) {
        kpis.withLock { $0 = new }
    }

    /// Starts the rollup thread and the query thread; returns once the query thread is
    /// connected (at most 5 s), so queries sent after start-up reach it.
    func start(context: ZMQContext) {
        let rollups = Thread { [self] in
            nameCurrentThread("vigie-history")
            self.run()
            self.finished.signal()
        }
        rollups.start()
        let queries = Thread { [self] in
            nameCurrentThread("vigie-history-q")
            self.serveQueries(context: context)
            self.finished.signal()
        }
        queries.start()
        _ = connected.wait(timeout: .now() + 5)
    }

    /// Asks both threads to stop (the rollup thread writes what is durable first);
    /// waits for them, then closes the database.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
        finished.wait()
        try? store.close()
    }

    /// The query thread: answers `history`/`events` at normal priority, reading through
    /// the pool's readers alongside the rollup writer (SQLite WAL mode), so a query never
    /// waits for a rollup round of the niced thread.
    private func serveQueries(context: ZMQContext) {
        let socket: Socket
        do {
            socket = try context.makeSocket(.pair)
            try socket.setLinger(0)
            try socket.connect(endpoint)
        } catch {
            connected.signal()
            logger.error("history query thread could not connect to the engine", metadata: ["error": "\(error)"])
            return
        }
        connected.signal()
        defer { socket.close(linger: 0) }
        var poller = Poller()
        poller.register(socket)
        while !stopping.load(ordering: .relaxed) {
            guard (try? poller.poll(timeoutMilliseconds: 100)) ?? 0 > 0 else { continue }
            let service = HistoryQueryService(store: store, kpis: kpis.withLock { $0 })
            while let frames = try? socket.receiveMultipart(dontWait: true) {
                answer(frames, service: service, socket: socket)
            }
        }
    }

    private func run() {
        // Background work: yield the CPU to the engine thread under load (per-thread
        // nice value on Linux, where `who` 0 is the calling thread); history catches up
        // when ingest calms down.
        #if canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
        var rolledUp = kpis.withLock { $0 }
        var accumulator = RollupAccumulator(kpis: rolledUp, policy: configuration.ingest.policy)
        let parser = LineProtocolParser(limits: configuration.ingest.lineProtocolLimits)
        let reader = WALTailReader(directory: walDirectory, from: position.load(ordering: .relaxed))
        defer { reader.close() }
        var events: [HistoryEvent] = []
        var nextWrite = monotonicNanoseconds()
        var nextPrune = monotonicNanoseconds()
        while true {
            let stop = stopping.load(ordering: .relaxed)
            let now = monotonicNanoseconds()
            guard stop || now >= nextWrite else {
                usleep(UInt32(min(100_000, (nextWrite - now) / 1_000)))
                continue
            }
            nextWrite = now + 1_000_000_000
            // A reload changed the KPIs: the accumulator is empty between rounds.
            let current = kpis.withLock { $0 }
            if current != rolledUp {
                rolledUp = current
                accumulator = RollupAccumulator(kpis: current, policy: configuration.ingest.policy)
            }
            // Follow the log up to what is durable (never what a crash could still lose).
            // Stopping writes what was read and leaves any backlog for the next start
            // (its position is stored), so a stop is never slow.
            let limit = stop ? reader.position : durable.load(ordering: .acquiring)
            do {
                // Chunks of records, until caught up, a second has passed, or a stop.
                let roundEnd = monotonicNanoseconds() + 1_000_000_000
                repeat {
                    try reader.read(upTo: limit, maxRecords: 2_000) { record in
                        consume(record, parser: parser, accumulator: &accumulator, events: &events)
                    }
                } while reader.position < limit && !stopping.load(ordering: .relaxed)
                    && monotonicNanoseconds() < roundEnd
                // A backlog left: write this round and go on at once.
                if reader.position < limit { nextWrite = monotonicNanoseconds() }
            } catch {
                note(error, "reading the write-ahead log for history failed")
                // Records that are gone (a segment deleted, or bytes only a checkpoint
                // holds after a crash) cannot be rolled up: skip to the next segment.
                if let next = try? reader.nextSegmentStart(), next <= limit {
                    logger.warning(
                        "history skips a gap in the write-ahead log",
                        metadata: ["from": "\(reader.position)", "to": "\(next)"]
                    )
                    reader.seek(to: next)
                }
            }
            let consumed = reader.position
            if consumed != position.load(ordering: .relaxed) || !events.isEmpty {
                let rollups = accumulator.drain()
                do {
                    try store.write(rollups: rollups, events: events, position: consumed)
                    position.store(consumed, ordering: .releasing)
                    rollupsWritten.add(UInt64(rollups.count), ordering: .relaxed)
                    eventsWritten.add(UInt64(events.count), ordering: .relaxed)
                    events.removeAll()
                } catch {
                    // Nothing was written: the records are read again from the old
                    // position after a restart; keep running (the disk may free up).
                    note(error, "writing history failed")
                    reopen(reader: reader, events: &events, accumulator: &accumulator)
                }
            }
            if now >= nextPrune {
                nextPrune = now + 600_000_000_000
                let wall = Int64(Date().timeIntervalSince1970 * 1e9)
                _ = try? store.prune(
                    now: wall,
                    keepMinutes: configuration.history.minuteRetention,
                    keepHours: configuration.history.hourRetention
                )
            }
            if stop { return }
        }
    }

    /// Folds one log record into the rollups or the event list.
    private func consume(
        _ record: WALRecord,
        parser: LineProtocolParser,
        accumulator: inout RollupAccumulator,
        events: inout [HistoryEvent]
    ) {
        recordsRead.add(1, ordering: .relaxed)
        switch record.kind {
        case .ingest, .push:
            var next = 1
            for f in 0..<record.frameCount {
                next =
                    parser.parse(record.frame(f), firstLineNumber: next) { line in
                        accumulator.add(line, receivedAt: record.receivedAt)
                    } onError: { _ in
                    }.nextLineNumber
            }
        case .alertTransition:
            if record.frameCount == 1, let event = HistoryEvent(alertFeedBody: record.frame(0)) { events.append(event) }
        case .operatorAction:
            if record.frameCount == 1, let event = HistoryEvent(operatorRequest: record.frame(0), at: record.receivedAt)
            {
                events.append(event)
            }
        case .none:
            break
        }
    }

    /// After a failed write: forget what was accumulated and read it again from the last
    /// position written, so nothing is lost or counted twice.
    private func reopen(reader: WALTailReader, events: inout [HistoryEvent], accumulator: inout RollupAccumulator) {
        events.removeAll()
        accumulator = RollupAccumulator(kpis: kpis.withLock { $0 }, policy: configuration.ingest.policy)
        reader.seek(to: position.load(ordering: .relaxed))
    }

    private func note(_ error: any Error, _ message: Logger.Message) {
        writeErrors.add(1, ordering: .relaxed)
        lastError.withLock { $0 = "\(error)" }
        logger.error(message, metadata: ["error": "\(error)"])
    }

    /// Frames from the engine: control socket index, routing envelope…, the number of
    /// the decoded request in ``requests``. The reply goes back with the same leading
    /// frames.
    private func answer(_ frames: [Message], service: HistoryQueryService, socket: Socket) {
        guard frames.count >= 2, let last = frames.last, let number = UInt64(last.string),
            let request = requests.take(number)
        else { return }
        let reply = service.answer(request)
        do {
            for frame in frames.dropLast() {
                try frame.withUnsafeBytes { _ = try socket.send($0, more: true, dontWait: true) }
            }
            try reply.withUnsafeBytes { _ = try socket.send($0, more: false, dontWait: true) }
        } catch {
            logger.warning("history reply not sent", metadata: ["error": "\(error)"])
        }
    }
}
