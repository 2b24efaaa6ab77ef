/// One `group_by` tag of a series: key and value, as received (unescaped UTF-8).
public struct TagPair: Sendable, Equatable, Hashable {
    /// Tag key, e.g. `site`.
    public var key: String
    /// Tag value, e.g. `mairie-centre`; empty when the series' lines lacked the tag.
    public var value: String

    /// A pair.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// How a KPI series stands against its target, as shown on dashboards and the feed.
public enum KPIStatus: String, Sendable, Equatable, Hashable {
    /// The value meets the target (or the KPI has none).
    case ok
    /// The value misses the target.
    case warning
    /// An alert on the KPI is firing. Never set by `KPIEngine`: the alert layer sets it.
    case critical
    /// No value: fewer than `min_samples` samples in the window (or nothing to divide by).
    case unknown

    /// The status of `value` against `target`: `unknown` without a value, `ok` without
    /// a target, else `ok` when `value ≤ target` (direction `below`) or
    /// `value ≥ target` (direction `above`), `warning` otherwise.
    public static func of(value: Double?, target: Double?, direction: Direction) -> KPIStatus {
        guard let value else { return .unknown }
        guard let target else { return .ok }
        switch direction {
        case .below: return value <= target ? .ok : .warning
        case .above: return value >= target ? .ok : .warning
        }
    }
}

/// The current value of one KPI series, ready to publish (feed `kpi.<name>`, snapshot).
///
/// Built off the hot path (it holds `String`s). Times are nanoseconds since the Unix epoch.
public struct KPIValue: Sendable, Equatable {
    /// KPI name (`KPIDefinition.name`).
    public var kpi: String
    /// KPI title.
    public var title: String
    /// The series' `group_by` tags, in `group_by` order (empty for an ungrouped KPI).
    public var group: [TagPair]
    /// Aggregate value over the window; `nil` when unknown (fewer than `min_samples`
    /// samples, no samples for min/max/mean/last/quantile/share, Σden = 0 for a ratio).
    public var value: Double?
    /// Unit from the config, e.g. `min`.
    public var unit: String?
    /// Window label: `1h`, `today`, `week`, `month`…
    public var window: String
    /// Samples in the window (for a ratio: denominator samples).
    public var samples: Int
    /// Target from the config.
    public var target: Double?
    /// `ok`, `warning` or `unknown` (see `KPIStatus.of`); `critical` is the alert layer's.
    public var status: KPIStatus
    /// Whether the value should stay below or above the target.
    public var direction: Direction
    /// Aggregate name (`p90`, `rate`, …).
    public var aggregate: String
    /// Engine time the value was computed at.
    public var ts: Int64
    /// Latest event time of any sample applied to this series since it was created
    /// (not only in the current window), or `nil` if none was (deadman alerts).
    public var lastSampleAt: Int64?

    /// A value with every field given.
    public init(
        kpi: String,
        title: String,
        group: [TagPair],
        value: Double?,
        unit: String?,
        window: String,
        samples: Int,
        target: Double?,
        status: KPIStatus,
        direction: Direction,
        aggregate: String,
        ts: Int64,
        lastSampleAt: Int64?
    ) {
        self.kpi = kpi
        self.title = title
        self.group = group
        self.value = value
        self.unit = unit
        self.window = window
        self.samples = samples
        self.target = target
        self.status = status
        self.direction = direction
        self.aggregate = aggregate
        self.ts = ts
        self.lastSampleAt = lastSampleAt
    }
}
