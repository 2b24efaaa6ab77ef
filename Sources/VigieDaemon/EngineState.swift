import Foundation
import Logging
import VigieConfig
import VigieCore

/// What the engine thread's parts share: the running configuration, the KPI engine,
/// the producers, the alerts and the counters. Data only: each part does its own job
/// on it (the ingest server applies batches, the checkpointer saves and restores it,
/// the reloader replaces what a new configuration changes). Engine thread only.
final class EngineState {
    private(set) var configuration: VigieConfiguration
    let logger: Logger
    let clock: any WallClock
    var engine: KPIEngine
    var producers: ProducerTable
    var alerts: AlertCoordinator
    /// KPIs with alert rules (their changes are tracked for the evaluator).
    private(set) var watchedKPIs: Set<Int>
    var statistics = DaemonStatistics()
    /// When the running configuration was read (start, or the last reload applied).
    var configurationLoadedAt: Int64

    init(configuration: VigieConfiguration, logger: Logger, clock: any WallClock) {
        let now = clock.now()
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.configurationLoadedAt = now
        self.alerts = AlertCoordinator(
            rules: configuration.alerts,
            timeZone: configuration.daemon.timeZone,
            now: now,
            logger: logger,
            store: InMemoryOperatorActionStore(),
            notifiers: NotifierDispatcher(
                configurations: configuration.notifiers,
                stateDirectory: configuration.daemon.stateDir,
                logger: logger
            )
        )
        self.watchedKPIs = Self.watched(configuration, by: alerts)
        self.engine = Self.makeEngine(configuration, watching: watchedKPIs, now: now)
        self.producers = ProducerTable(limits: configuration.ingest.producerLimits, now: now)
    }

    func now() -> Int64 { clock.now() }

    /// Makes `next` the running configuration, with `alerts` evaluating its rules and
    /// fresh engine and producer state (the caller restores what carries over).
    func install(_ next: VigieConfiguration, alerts: AlertCoordinator) {
        configuration = next
        self.alerts = alerts
        watchedKPIs = Self.watched(next, by: alerts)
        reset()
    }

    /// Empty KPI windows and producers (before a restore, or after one failed half-way).
    func reset() {
        let now = clock.now()
        engine = Self.makeEngine(configuration, watching: watchedKPIs, now: now)
        producers = ProducerTable(limits: configuration.ingest.producerLimits, now: now)
    }

    /// systemd's one-line status: ingest rate and alerts.
    func statusLine(ingestRate: Double) -> String {
        let counts = alerts.stateCounts(now: now())
        return String(
            format: "%.0f samples/s, %d alerts firing, %d pending, %llu rejected since start",
            ingestRate,
            counts.firing,
            counts.pending,
            statistics.samplesRejected
        )
    }

    private static func makeEngine(_ configuration: VigieConfiguration, watching: Set<Int>, now: Int64) -> KPIEngine {
        let engine = KPIEngine(kpis: configuration.kpis, timeZone: configuration.daemon.timeZone, now: now)
        engine.maxTotalSeries = configuration.ingest.maxSeriesTotal
        engine.trackChanges(forKPIs: watching)
        return engine
    }

    private static func watched(_ configuration: VigieConfiguration, by alerts: AlertCoordinator) -> Set<Int> {
        Set(configuration.kpis.indices.filter { alerts.evaluator.watches(kpi: configuration.kpis[$0].name) })
    }
}
