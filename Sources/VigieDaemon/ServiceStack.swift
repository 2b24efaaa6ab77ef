import Foundation
import Logging

/// The engine's background threads (ZAP handler, notifier workers, the log's syncer,
/// history, the checkpoint writer) as services: started in order, each once its
/// dependencies run, and stopped in reverse order, so nothing stops while a later
/// service still relies on it. A start that fails stops what was already started.
///
/// swift-service-lifecycle's `ServiceGroup` has the same contract for stopping, but it
/// runs async services and starts them concurrently; these are threads the engine
/// thread must start at set points (ZAP before the first bind, history only after the
/// log is recovered) and stop in step with its own shutdown. Engine thread only.
final class ServiceStack {
    private struct Entry {
        var name: String
        var stop: () -> Void
    }

    private var entries: [Entry] = []
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// The running services' names, in start order.
    var running: [String] { entries.map(\.name) }

    /// Starts a service: `start` creates and starts it (nothing is kept when it throws),
    /// `stop` stops it when its turn comes in ``stopAll()``.
    @discardableResult
    func start<Service>(
        _ name: String,
        _ start: () throws -> Service,
        stop: @escaping (Service) -> Void
    ) rethrows -> Service {
        let service = try start()
        entries.append(Entry(name: name, stop: { stop(service) }))
        return service
    }

    /// Stops every running service, the last started first; each is stopped once.
    func stopAll() {
        while let entry = entries.popLast() {
            let started = DispatchTime.now().uptimeNanoseconds
            entry.stop()
            logger.debug(
                "service stopped",
                metadata: [
                    "service": "\(entry.name)",
                    "ms": "\((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)",
                ]
            )
        }
    }
}
