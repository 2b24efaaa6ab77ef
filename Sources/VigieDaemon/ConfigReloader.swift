import Logging
import VigieConfig
import VigieCore

/// Re-reads the configuration file and applies what changed, on the engine thread
/// (SIGHUP and the `reload` op both land here). An invalid file changes nothing: every
/// error is logged and returned. A valid one replaces KPIs, alert rules and notifiers;
/// the state is carried over through the checkpoint codec, so KPIs (and rules) whose
/// definition is unchanged keep their windows (and alert states), changed ones start
/// empty, removed ones are dropped; acks, silences and producers' sequence numbers are
/// kept. Endpoints added to `[endpoints]` are bound and removed ones closed;
/// `[daemon]`, `[history]` and `[http]` changes are reported and wait for a restart.
struct ConfigReloader {
    /// What a reload did, for the `reload` reply and the log.
    struct Outcome {
        var errors: [String] = []
        /// KPIs by what happened to their state.
        var kept: [String] = []
        var restarted: [String] = []
        var added: [String] = []
        var removed: [String] = []
        var rules = 0
        var notifiersReplaced = false
        /// Endpoints bound and closed, e.g. `bound ingest ipc:///run/vigie/ingest2.sock`.
        var endpointChanges: [String] = []
        /// Settings that changed in the file but take effect only at the next start.
        var needsRestart: [String] = []
        var ok: Bool { errors.isEmpty }
    }

    let state: EngineState
    let endpoints: EndpointSet
    let keeper: StateKeeper
    let applier: BatchApplier
    let peers: CurvePeers
    let zap: ZAPHandler?
    let history: HistoryLink?

    func reload() -> Outcome {
        var outcome = Outcome()
        let running = state.configuration
        guard let path = running.sourcePath else {
            outcome.errors = ["this daemon was not started from a configuration file"]
            return outcome
        }
        let loaded: VigieConfiguration
        do {
            loaded = try ConfigLoader.load(path: path)
        } catch {
            outcome.errors = (error as? ConfigErrors)?.errors.map(\.description) ?? ["\(error)"]
            return refused(outcome, "reload refused: keeping the running configuration")
        }
        let next = Self.merge(loaded, into: running, needsRestart: &outcome.needsRestart)
        if next.endpoints != running.endpoints {
            do {
                outcome.endpointChanges = try endpoints.rebind(to: next.endpoints, security: next.security)
            } catch {
                outcome.errors = ["[endpoints]: \(error); nothing was changed"]
                return refused(outcome, "reload refused: an endpoint could not be bound")
            }
        } else {
            endpoints.update(security: next.security)
        }

        let oldKPIs = Dictionary(running.kpis.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newNames = Set(next.kpis.map(\.name))
        for kpi in next.kpis {
            switch oldKPIs[kpi.name] {
            case nil: outcome.added.append(kpi.name)
            case let old? where old == kpi: outcome.kept.append(kpi.name)
            case _?: outcome.restarted.append(kpi.name)
            }
        }
        outcome.removed = running.kpis.map(\.name).filter { !newNames.contains($0) }
        outcome.rules = next.alerts.count

        let carried = keeper.encode()
        outcome.notifiersReplaced = next.notifiers != running.notifiers
        install(next, replacingNotifiers: outcome.notifiersReplaced)
        do {
            try keeper.restore(carried)
        } catch {
            // Cannot happen (this process just encoded it); go back to what ran before.
            state.logger.error(
                "reload could not carry the state over; keeping the old configuration",
                metadata: ["error": "\(error)"]
            )
            install(running, replacingNotifiers: outcome.notifiersReplaced)
            try? keeper.restore(carried)
            outcome.errors = ["the running state could not be carried over (\(error)); nothing changed"]
            return outcome
        }
        history?.reconfigure(kpis: next.kpis)
        state.statistics.reloads += 1
        for warning in next.warnings { state.logger.warning("\(warning)") }
        state.configurationLoadedAt = state.now()
        state.logger.notice(
            "configuration reloaded",
            metadata: [
                "file": "\(path)", "kpis_kept": "\(outcome.kept.count)", "kpis_restarted": "\(outcome.restarted.count)",
                "kpis_added": "\(outcome.added.count)", "kpis_removed": "\(outcome.removed.count)",
                "rules": "\(outcome.rules)", "needs_restart": "\(outcome.needsRestart.joined(separator: " "))",
            ]
        )
        return outcome
    }

    private func refused(_ outcome: Outcome, _ message: Logger.Message) -> Outcome {
        state.statistics.reloadsRefused += 1
        for error in outcome.errors { state.logger.error(message, metadata: ["error": "\(error)"]) }
        return outcome
    }

    /// `loaded` with what only a restart changes taken from `running` (listed in
    /// `needsRestart` when the file changed it): `[daemon]` (and the command line's
    /// `--state-dir`/`--runtime-dir`), `[history]`, `[http]`, the feed queue and
    /// control request bounds, CURVE itself (sockets are CURVE servers or not from
    /// their creation). Authorized keys, grants and `tcp_control` are taken at once.
    static func merge(
        _ loaded: VigieConfiguration,
        into running: VigieConfiguration,
        needsRestart: inout [String]
    ) -> VigieConfiguration {
        var next = loaded
        var daemon = next.daemon
        daemon.stateDir = running.daemon.stateDir
        daemon.runtimeDir = running.daemon.runtimeDir
        daemon.acceptStateLoss = running.daemon.acceptStateLoss
        if daemon != running.daemon { needsRestart.append("[daemon]") }
        if next.history != running.history { needsRestart.append("[history]") }
        if next.http != running.http { needsRestart.append("[http]") }
        next.daemon = running.daemon
        next.history = running.history
        next.http = running.http
        if next.endpoints.feedHighWaterMark != running.endpoints.feedHighWaterMark
            || next.endpoints.controlMaxRequest != running.endpoints.controlMaxRequest
        {
            needsRestart.append("[endpoints] feed_hwm/control_max_request")
            next.endpoints.feedHighWaterMark = running.endpoints.feedHighWaterMark
            next.endpoints.controlMaxRequest = running.endpoints.controlMaxRequest
        }
        var security = running.security
        if next.security.curve != security.curve || next.security.curveOnLoopback != security.curveOnLoopback
            || next.security.serverCertificate != security.serverCertificate
        {
            needsRestart.append("[security]")
        }
        security.authorizedKeysDirectory = next.security.authorizedKeysDirectory
        security.authorized = next.security.authorized
        security.grants = next.security.grants
        security.tcpControl = next.security.tcpControl
        security.unmatchedGrants = next.security.unmatchedGrants
        next.security = security
        return next
    }

    /// Makes `next` the running configuration with fresh engine and alert state (the
    /// caller restores the carried-over state); acks and silences stay in their store.
    private func install(_ next: VigieConfiguration, replacingNotifiers: Bool) {
        let current = state.alerts
        let notifiers: NotifierDispatcher
        if replacingNotifiers {
            // Running notifications finish on their own; never wait for them here.
            current.notifiers.stop(timeout: 0)
            notifiers = NotifierDispatcher(
                configurations: next.notifiers,
                stateDirectory: next.daemon.stateDir,
                logger: state.logger
            )
            notifiers.start()
        } else {
            notifiers = current.notifiers
        }
        let coordinator = AlertCoordinator(
            rules: next.alerts,
            timeZone: next.daemon.timeZone,
            now: state.now(),
            logger: state.logger,
            store: current.store,
            notifiers: notifiers
        )
        state.install(next, alerts: coordinator)
        applier.reconfigure()
        zap?.replace(next.security.authorized)
        peers.replace(next.security.authorized)
    }
}
