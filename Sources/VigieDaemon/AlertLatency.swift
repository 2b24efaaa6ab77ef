import VigieCore

/// The daemon's part of an alert's latency: from receiving the message whose sample
/// caused a transition to publishing that transition on the feed (the `for = "0s"`
/// path). Transitions from the 1 s tick (`for`, `keep_firing_for`, `absent_for`,
/// schedules) have no such sample and are not counted.
///
/// Kept in a quantile sketch (relative error 0.5 %) since the daemon started; recorded
/// once per transition, never per sample.
struct AlertLatency {
    private var sketch = QuantileSketch()

    var count: UInt64 { sketch.count }

    mutating func record(nanoseconds: UInt64) {
        sketch.add(Double(max(nanoseconds, 1)))
    }

    /// The `q` quantile in milliseconds; nil before the first transition.
    func milliseconds(_ q: Double) -> Double? {
        sketch.quantile(q).map { $0 / 1e6 }
    }

    /// `{"count":N,"p50_ms":…,"p99_ms":…,"max_ms":…}` (null quantiles before the first).
    func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("count")
        writer.integer(Int(count))
        for (key, q) in [("p50_ms", 0.5), ("p99_ms", 0.99), ("max_ms", 1.0)] {
            writer.key(key)
            writer.number(milliseconds(q))
        }
        writer.endObject()
    }
}
