import Foundation
import VigieConfig
import VigieCore
import VigieStore

/// The engine-thread state `vigied` rebuilds at startup — KPI windows, alert states,
/// operator actions, producers' anti-replay windows, the history's rollups — driven by
/// the same VigieCore/VigieStore decoders the daemon calls, in the same order:
/// checkpoints go through ``EngineCheckpoint``, the daemon's own codec;
/// ``replay(_:)`` mirrors `StateKeeper.replay(_:)` (and the history thread's
/// `HistoryRecorder.consume`). The daemon itself needs sockets and threads; what is
/// fuzzed here is what it decodes.
///
/// Configured by `config/vigie.toml` (the shipped example: 24 KPIs of every aggregate
/// and window kind, 10 alert rules), read once.
public final class DaemonModel {
    /// The configuration every model runs with: `config/vigie.toml`.
    public static let configuration: VigieConfiguration = {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/vigie.toml").path
        do {
            return try ConfigLoader.load(path: path)
        } catch {
            fatalError("harness: \(path) does not load: \(error)")
        }
    }()

    /// The time the model is created at (a fixed instant: runs are reproducible).
    public static let now: Int64 = 1_796_700_000_000_000_000

    public let engine: KPIEngine
    public let evaluator: AlertEvaluator
    public let store = InMemoryOperatorActionStore()
    public private(set) var producers: ProducerTable
    /// The history thread's rollups, made at the first batch (they cost about what an
    /// engine costs to make).
    public private(set) var rollups: RollupAccumulator?
    public private(set) var feedSequence: UInt64 = 0
    /// History events decoded from logged alert transitions and operator actions.
    public private(set) var events: [HistoryEvent] = []
    let parser: LineProtocolParser
    let policy: IngestPolicy
    let watched: Set<Int>

    public init(now: Int64 = DaemonModel.now) {
        let configuration = Self.configuration
        engine = KPIEngine(kpis: configuration.kpis, timeZone: configuration.daemon.timeZone, now: now)
        engine.maxTotalSeries = configuration.ingest.maxSeriesTotal
        let evaluator = AlertEvaluator(rules: configuration.alerts, timeZone: configuration.daemon.timeZone, now: now)
        self.evaluator = evaluator
        watched = Set(configuration.kpis.indices.filter { evaluator.watches(kpi: configuration.kpis[$0].name) })
        engine.trackChanges(forKPIs: watched)
        parser = LineProtocolParser(limits: configuration.ingest.lineProtocolLimits)
        policy = configuration.ingest.policy
        producers = ProducerTable(limits: Self.producerLimits, now: now)
    }

    /// The `[ingest]` producer limits of the configuration (as the daemon derives them).
    static var producerLimits: ProducerTable.Limits { configuration.ingest.producerLimits }

    // MARK: - Write-ahead log replay

    /// Re-applies one logged record as the daemon's recovery does, and folds it into the
    /// history's rollups and events as the history thread does.
    public func replay(_ record: WALRecord) {
        switch record.kind {
        case .ingest:
            ingest(
                producer: record.producer,
                sequence: record.sequence,
                frames: (0..<record.frameCount).map(record.frame),
                at: record.receivedAt
            )
        case .push:
            apply(frames: (0..<record.frameCount).map(record.frame), at: record.receivedAt)
        case .operatorAction:
            if record.frameCount == 1 {
                _ = replay(request: record.frame(0), at: record.receivedAt)
            }
        case .alertTransition:
            if record.frameCount == 1, let event = HistoryEvent(alertFeedBody: record.frame(0)) { events.append(event) }
        case .none:
            break
        }
    }

    /// An acknowledged batch: the producer's window marks its sequence number, then its
    /// frames are applied.
    public func ingest(
        producer: UnsafeRawBufferPointer,
        sequence: UInt64,
        frames: [UnsafeRawBufferPointer],
        at time: Int64
    ) {
        producers.replayApplied(producer: producer, sequence: sequence)
        apply(frames: frames, at: time)
    }

    /// A batch's payload frames, received at `time`: parsed, checked against the ingest
    /// policy, applied to the engine (as `BatchApplier.apply` does) and to the rollups.
    public func apply(frames: [UnsafeRawBufferPointer], at now: Int64) {
        var nextLine = 1
        var historyLine = 1
        var accumulator = rollups.take() ?? RollupAccumulator(kpis: Self.configuration.kpis, policy: policy)
        for frame in frames {
            nextLine =
                parser.parse(frame, firstLineNumber: nextLine) { line in
                    if policy.rejection(lineNumber: line.lineNumber, timestamp: line.timestamp, receivedAt: now) != nil
                    {
                        return
                    }
                    engine.apply(line, receivedAt: now, now: now)
                } onError: { error in
                    precondition(error.line >= 1 && error.column >= 1, "error position \(error.line):\(error.column)")
                }.nextLineNumber
            historyLine =
                parser.parse(frame, firstLineNumber: historyLine) { line in
                    accumulator.add(line, receivedAt: now)
                } onError: { _ in
                }.nextLineNumber
        }
        rollups = consume accumulator
    }

    /// A logged control request carried out again at `time` (`ControlHandler.replay`):
    /// decoded by ``ControlRequest`` as the daemon does, checked against the state, then applied to the
    /// alert state and operator actions as `AlertCoordinator` does. Returns why it was
    /// skipped, nil when it was carried out.
    public func replay(request bytes: UnsafeRawBufferPointer, at time: Int64) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            return "not a JSON object"
        }
        guard let op = object["op"] as? String else { return "no op" }
        guard ControlRequest.mutatingOperations.contains(op) else { return "not an operator op" }
        let request: OperatorRequest
        switch ControlRequest.decode(Array(bytes), now: time) {
        case .success(.operatorAction(let decoded)): request = decoded
        case .success(let other): return "\(op) read as \(other.op) (duplicate keys)"
        case .failure(let refusal):
            precondition(!refusal.message.isEmpty, "empty refusal")
            return refusal.message
        }
        if let event = HistoryEvent(operatorRequest: bytes, at: time) { events.append(event) }
        switch request {
        case .ack(let rule, let group, let by, let comment):
            precondition(!rule.isEmpty && !by.isEmpty, "ack accepted without rule or author")
            let matching = evaluator.active(now: time).filter { alert in
                alert.rule == rule
                    && group.allSatisfy { key, value in alert.group.contains { $0.key == key && $0.value == value } }
            }
            guard !matching.isEmpty else { return "no active alert" }
            for alert in matching {
                store.acknowledge(
                    AlertAcknowledgment(rule: alert.rule, group: alert.group, by: by, comment: comment, at: time)
                )
            }
        case .silence(let matchers, let duration, let by, let comment):
            precondition(duration > 0 && duration <= DurationFormat.maximum, "silence of \(duration) ns accepted")
            let (end, overflow) = time.addingReportingOverflow(duration)
            precondition(!overflow, "silence accepted at \(time) for \(duration) ns ends past Int64")
            precondition(by.utf8.count <= OperatorRequest.maxText && comment.utf8.count <= OperatorRequest.maxText)
            let silence = store.addSilence(matchers: matchers, startsAt: time, endsAt: end, by: by, comment: comment)
            precondition(store.silences(now: time).contains { $0.id == silence.id }, "new silence not active")
        case .unsilence(let id):
            guard store.silences(now: time).contains(where: { $0.id == id }) else { return "no such silence" }
            precondition(store.removeSilence(id: id) != nil, "listed silence \(id) not removed")
        }
        return nil
    }

    // MARK: - After recovery

    /// What the engine thread does once recovered: publishes what is due, feeds the
    /// alert rules, ticks them; the history thread drains its rollups. Values read must
    /// be numbers (never NaN).
    public func run(now: Int64) {
        for value in engine.takeDue(now: now, interval: 1_000_000_000) {
            if let v = value.value { precondition(!v.isNaN, "\(value.kpi) is NaN after recovery") }
        }
        for value in engine.takeChangedForAlerts(now: now) {
            if let v = value.value { precondition(!v.isNaN, "\(value.kpi) is NaN after recovery") }
            _ = evaluator.evaluate(value, now: now)
        }
        _ = evaluator.tick(now: now)
        _ = evaluator.active(now: now)
        _ = store.silences(now: now)
        _ = engine.snapshot(now: now)
        _ = rollups?.drain()
    }

    // MARK: - Checkpoints

    /// The checkpoint payload (``EngineCheckpoint``).
    public func encodeCheckpoint(now: Int64 = DaemonModel.now) -> [UInt8] {
        EngineCheckpoint.encode(
            now: now,
            feedSequence: feedSequence,
            engine: engine,
            evaluator: evaluator,
            actions: store,
            producers: producers
        )
    }

    /// Restores a checkpoint payload into this fresh model, as the daemon does: throws
    /// `BinaryDecodingError` on anything it cannot decode.
    public func restore(checkpoint payload: [UInt8]) throws {
        let restored = try EngineCheckpoint.restore(
            payload,
            engine: engine,
            evaluator: evaluator,
            actions: store,
            producerLimits: Self.producerLimits,
            now: Self.now
        )
        producers = restored.producers
        feedSequence = restored.feedSequence
    }
}
