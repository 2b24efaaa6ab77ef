import Foundation
import Logging
import VigieConfig
import VigieCore

/// Hands alert transitions to the configured notifiers without ever blocking the
/// engine thread.
///
/// Each notifier has a bounded queue and its own worker threads (an exec notifier one
/// per `max_concurrent`, a webhook one). The engine thread calls `notify`, which only
/// tries to enqueue: a full queue drops the transition and counts it. `stop()` closes
/// the queues, kills in-flight exec children (SIGKILL to their process group), cancels
/// in-flight requests and waits briefly for the workers.
final class NotifierDispatcher: Sendable {
    /// One configured notifier at run time.
    final class Notifier: Sendable {
        let configuration: NotifierConfiguration
        let queue: NotifierQueue<NotifierEvent>
        let counters = NotifierCounters()
        let workers: Int

        init(configuration: NotifierConfiguration) {
            self.configuration = configuration
            switch configuration.kind {
            case .exec(let exec):
                queue = NotifierQueue(capacity: exec.queue)
                workers = exec.maxConcurrent
            case .webhook(let webhook):
                queue = NotifierQueue(capacity: webhook.queue)
                workers = 1
            }
        }
    }

    let notifiers: [Notifier]
    /// The daemon's state directory, absolute (exec notifiers' `VIGIE_STATE_DIR`).
    let stateDirectory: String
    private let logger: Logger
    private let running = DispatchGroup()

    /// - Parameter stateDirectory: the daemon's state directory; a relative one
    ///   (`--state-dir .demo/state`) is taken from the current directory.
    init(configurations: [NotifierConfiguration], stateDirectory: String, logger: Logger) {
        notifiers = configurations.map(Notifier.init)
        self.stateDirectory =
            stateDirectory.hasPrefix("/")
            ? stateDirectory : FileManager.default.currentDirectoryPath + "/" + stateDirectory
        self.logger = logger
    }

    /// True when no notifier is configured.
    var isEmpty: Bool { notifiers.isEmpty }

    /// Starts the worker threads.
    func start() {
        guard !notifiers.isEmpty else { return }
        // A child that exits before reading its stdin must not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        for notifier in notifiers {
            let body: @Sendable () -> Void
            switch notifier.configuration.kind {
            case .exec(let exec):
                let runner = ExecNotifier(
                    name: notifier.configuration.name,
                    configuration: exec,
                    stateDirectory: stateDirectory,
                    logger: logger
                )
                let logger = logger
                body = { Self.execWorker(notifier, runner: runner, logger: logger) }
            case .webhook(let webhook):
                guard let sender = WebhookNotifier(name: notifier.configuration.name, configuration: webhook) else {
                    logger.error("webhook notifier has an invalid URL", metadata: ["notifier": "\(webhook.url)"])
                    continue
                }
                let logger = logger
                body = { Self.webhookWorker(notifier, sender: sender, logger: logger) }
            }
            for index in 0..<notifier.workers {
                running.enter()
                let group = running
                let name = Self.threadName(notifier.configuration.name, worker: index)
                let thread = Thread {
                    nameCurrentThread(name)
                    body()
                    group.leave()
                }
                thread.start()
            }
        }
    }

    /// `notify-NAME/i`, cut to the 15 bytes Linux keeps of a thread's name (a longer
    /// one is refused whole and the thread keeps its creator's name).
    static func threadName(_ notifier: String, worker: Int) -> String {
        VigieCore.threadName("notify-" + notifier, keeping: "/\(worker)")
    }

    /// Enqueues `event` for every notifier whose route accepts it; never waits.
    ///
    /// Called on the engine thread.
    func notify(_ event: NotifierEvent) {
        let m = event.message
        for notifier in notifiers
        where notifier.configuration.route.accepts(kpi: m.kpi, severity: m.severity, state: m.state.rawValue) {
            if !notifier.queue.tryPush(event) {
                notifier.counters.dropped.add(1, ordering: .relaxed)
            }
        }
    }

    /// Enqueues `event` for notifier number `index` only (a `repeat_interval` reminder);
    /// never waits.
    func notify(_ event: NotifierEvent, onlyTo index: Int) {
        guard notifiers.indices.contains(index) else { return }
        if !notifiers[index].queue.tryPush(event) {
            notifiers[index].counters.dropped.add(1, ordering: .relaxed)
        }
    }

    /// Closes every queue, abandons in-flight work and waits up to `timeout` seconds
    /// for the workers to exit.
    func stop(timeout: Double = 1.0) {
        guard !notifiers.isEmpty else { return }
        for notifier in notifiers { notifier.queue.close() }
        if running.wait(timeout: .now() + timeout) == .timedOut {
            logger.warning("notifier workers still running at shutdown; abandoning them")
        }
    }

    private static func execWorker(_ notifier: Notifier, runner: ExecNotifier, logger: Logger) {
        let queue = notifier.queue
        while let event = queue.pop() {
            let outcome = runner.run(event) { queue.isClosed }
            var metadata: Logger.Metadata = [
                "notifier": "\(notifier.configuration.name)", "rule": "\(event.message.rule)",
                "state": "\(event.message.state.rawValue)",
            ]
            switch outcome {
            case .exited(0):
                notifier.counters.sent.add(1, ordering: .relaxed)
                continue
            case .exited(let code):
                metadata["exit"] = "\(code)"
            case .signaled(let signal):
                metadata["signal"] = "\(signal)"
            case .timedOut:
                notifier.counters.timeouts.add(1, ordering: .relaxed)
                metadata["timeout"] = "\(DurationFormat.format(nanoseconds: runner.configuration.timeout))"
            case .abandoned:
                return
            case .spawnFailed(let message):
                metadata["error"] = "\(message)"
            }
            notifier.counters.failed.add(1, ordering: .relaxed)
            logger.warning("exec notifier failed", metadata: metadata)
        }
    }

    private static func webhookWorker(_ notifier: Notifier, sender: WebhookNotifier, logger: Logger) {
        let queue = notifier.queue
        defer { sender.close() }
        while let event = queue.pop() {
            let delivered = sender.deliver(
                event,
                counters: notifier.counters,
                logger: logger,
                stopping: { queue.isClosed },
                sleep: { queue.sleep(nanoseconds: $0) }
            )
            if queue.isClosed { return }
            if delivered {
                notifier.counters.sent.add(1, ordering: .relaxed)
            } else {
                notifier.counters.failed.add(1, ordering: .relaxed)
            }
        }
    }
}
