import Foundation
import Prometheus
import Synchronization
import VigieCore

/// The daemon's state in Prometheus text format (swift-prometheus), for `/metrics`.
///
/// Rebuilt on the engine thread at each scrape (the `metrics` control op), so KPI values,
/// alert states and counters are one consistent view; nothing is kept up to date between
/// scrapes except the WAL fsync histogram, which the syncer thread records into directly
/// (the registry is thread-safe). Counters are mirrored by their increase since the last
/// scrape; KPI series, alerts and producers that went away are unregistered.
public final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// `vigie_wal_fsync_seconds`: each group-commit `fdatasync`.
    let fsyncSeconds: DurationHistogram
    /// `vigie_alert_latency_seconds`: breaching sample received → alert on the feed.
    let alertLatencySeconds: DurationHistogram
    private let state = Mutex(MirrorState())
    /// The view the engine handed over for the HTTP thread to render.
    private let handedOver = Mutex<View?>(nil)

    struct MirrorState {
        var counters: [String: (Counter, Int64)] = [:]
        var gauges: [String: Gauge] = [:]
    }

    public init() {
        fsyncSeconds = registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "vigie_wal_fsync_seconds",
                "Duration of the write-ahead log's group-commit fdatasync"
            ),
            buckets: [
                .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .seconds(1),
            ]
        )
        alertLatencySeconds = registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "vigie_alert_latency_seconds",
                "From receiving the sample that changed an alert's state to publishing the transition on the feed"
            ),
            buckets: [
                .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100),
                .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                .milliseconds(5), .milliseconds(10), .milliseconds(100),
            ]
        )
    }

    /// Records one alert transition's latency (engine thread, once per transition).
    func recordAlertLatency(nanoseconds: UInt64) {
        alertLatencySeconds.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Records one `fdatasync` (any thread).
    func recordFsync(nanoseconds: UInt64) {
        fsyncSeconds.recordNanoseconds(Int64(nanoseconds))
    }

    /// Metric label names: `[a-zA-Z_][a-zA-Z0-9_]*`; a tag called like one of the
    /// metric's own labels gets a `tag_` prefix.
    static func labelName(_ key: String, reserved: Set<String>) -> String {
        var name = String(
            key.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", "_": return Character(scalar)
                default: return "_"
                }
            }
        )
        if name.first.map({ ("0"..."9").contains($0) }) ?? true { name = "_" + name }
        return reserved.contains(name) ? "tag_" + name : name
    }

    /// One view of everything, as the engine thread sees it now.
    struct View: Sendable {
        var counters: [(name: String, labels: [(String, String)], help: String, value: Int64)]
        var gauges: [(name: String, labels: [(String, String)], help: String, value: Double)]
    }

    /// Keeps `view` for ``renderHandedOver()`` (engine thread: the registry work is then
    /// done by the HTTP thread, not the engine).
    func handOver(_ view: View) {
        handedOver.withLock { $0 = view }
    }

    /// Renders the view the engine handed over last, once; nil if none is waiting.
    public func renderHandedOver() -> [UInt8]? {
        guard
            let view = handedOver.withLock({ state -> View? in
                defer { state = nil }
                return state
            })
        else { return nil }
        return render(view)
    }

    /// Mirrors `view` into the registry and returns the exposition text.
    func render(_ view: View) -> [UInt8] {
        state.withLock { state in
            var seen = Set<String>()
            for c in view.counters {
                let key = Self.key(c.name, c.labels)
                seen.insert(key)
                if let (counter, last) = state.counters[key] {
                    // Restarted counters (a reload never resets them) only grow.
                    if c.value > last { counter.increment(by: c.value - last) }
                    state.counters[key] = (counter, max(last, c.value))
                } else {
                    let counter = registry.makeCounter(descriptor: Self.descriptor(c.name, c.help), labels: c.labels)
                    counter.increment(by: c.value)
                    state.counters[key] = (counter, c.value)
                }
            }
            for g in view.gauges {
                let key = Self.key(g.name, g.labels)
                seen.insert(key)
                let gauge =
                    state.gauges[key]
                    ?? registry.makeGauge(descriptor: Self.descriptor(g.name, g.help), labels: g.labels)
                state.gauges[key] = gauge
                gauge.set(to: g.value)
            }
            for (key, gauge) in state.gauges where !seen.contains(key) {
                registry.unregisterGauge(gauge)
                state.gauges[key] = nil
            }
            for (key, entry) in state.counters where !seen.contains(key) {
                registry.unregisterCounter(entry.0)
                state.counters[key] = nil
            }
        }
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> String {
        labels.reduce(into: name) { $0 += "\u{1}\($1.0)=\($1.1)" }
    }
}
