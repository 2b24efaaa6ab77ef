/// How a KPI folds the samples of its window into one number.
public enum Aggregate: Sendable, Equatable, Hashable {
    /// Number of samples.
    case count
    /// Sum of values.
    case sum
    /// Arithmetic mean.
    case mean
    /// Smallest value.
    case min
    /// Largest value.
    case max
    /// Value of the sample with the latest timestamp.
    case last
    /// Samples per `perSeconds` seconds: count divided by the window's length (for a
    /// calendar window, by the time elapsed since it began).
    case rate(perSeconds: Double)
    /// The q-quantile (0 < q < 1) from a quantile sketch (≤ 1 % relative error).
    case quantile(Double)
    /// Fraction (0…1) of samples strictly below (or above) `threshold`.
    case share(threshold: Double, below: Bool)
    /// sum(numerator) / sum(denominator), each from its own selector.
    case ratio

    /// True when the aggregate needs a quantile sketch per bucket.
    public var needsSketch: Bool {
        if case .quantile = self { return true }
        return false
    }

    /// The name used in config files and on the feed (`p90`, `quantile(0.75)`, …).
    public var name: String {
        switch self {
        case .count: return "count"
        case .sum: return "sum"
        case .mean: return "mean"
        case .min: return "min"
        case .max: return "max"
        case .last: return "last"
        case .rate: return "rate"
        case .quantile(let q):
            switch q {
            case 0.5: return "p50"
            case 0.9: return "p90"
            case 0.95: return "p95"
            case 0.99: return "p99"
            default: return "quantile"
            }
        case .share: return "share"
        case .ratio: return "ratio"
        }
    }
}

/// The span of time a KPI looks at.
public enum WindowSpec: Sendable, Equatable, Hashable {
    /// The last `nanoseconds`, sliding with the clock in bucket-sized steps.
    case sliding(nanoseconds: Int64)
    /// Since local midnight in the daemon's time zone.
    case today
    /// Since Monday 00:00 local time (ISO week).
    case week
    /// Since the first of the month, 00:00 local time.
    case month

    /// The text used in config files and on the feed: `1h`, `15m`, `today`, …
    public var label: String {
        switch self {
        case .today: return "today"
        case .week: return "week"
        case .month: return "month"
        case .sliding(let ns): return DurationFormat.format(nanoseconds: ns)
        }
    }
}

/// Whether a KPI's value should stay below or above its target.
public enum Direction: String, Sendable, Equatable, Hashable {
    case below
    case above
}

/// Which samples feed a KPI (or one side of a ratio): a measurement, a field and
/// exact-match tag filters.
public struct SampleSelector: Sendable, Equatable, Hashable {
    /// Measurement name.
    public var metric: String
    /// Field name; `value` by default.
    public var field: String
    /// Tag filters, all of which must match exactly, in a stable order.
    public var filters: [TagFilter]

    public init(metric: String, field: String = "value", filters: [TagFilter] = []) {
        self.metric = metric
        self.field = field
        self.filters = filters
    }
}

/// One `where` condition: tag `key` must equal `value`.
public struct TagFilter: Sendable, Equatable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A rolling key performance indicator, as configured by a `[[kpi]]` table.
public struct KPIDefinition: Sendable, Equatable, Hashable {
    /// Unique name, e.g. `etat_civil.attente_p90`; the feed topic is `kpi.<name>`.
    public var name: String
    /// Human title (UTF-8), e.g. "Attente au guichet état civil (p90)".
    public var title: String
    /// Samples that feed the KPI. For `.ratio`, the numerator.
    public var selector: SampleSelector
    /// For `.ratio` only: the denominator's selector.
    public var denominator: SampleSelector?
    /// Tags whose values split the KPI into series (one value per combination).
    public var groupBy: [String]
    public var aggregate: Aggregate
    public var window: WindowSpec
    public var unit: String?
    public var target: Double?
    public var direction: Direction
    /// Below this many samples in the window the value is reported as `unknown`.
    public var minSamples: Int
    /// How far behind `now` a sample may be and still be placed in a sliding window,
    /// in nanoseconds; `nil` means the window's length.
    public var lateness: Int64?
    /// Number of buckets a sliding window is cut into (its sliding resolution).
    public var buckets: Int
    /// Cardinality cap: at most this many series; samples for more are counted as overflow.
    public var maxSeries: Int

    public init(
        name: String,
        title: String? = nil,
        selector: SampleSelector,
        denominator: SampleSelector? = nil,
        groupBy: [String] = [],
        aggregate: Aggregate,
        window: WindowSpec,
        unit: String? = nil,
        target: Double? = nil,
        direction: Direction = .below,
        minSamples: Int = 1,
        lateness: Int64? = nil,
        buckets: Int = 60,
        maxSeries: Int = 1_000
    ) {
        self.name = name
        self.title = title ?? name
        self.selector = selector
        self.denominator = denominator
        self.groupBy = groupBy
        self.aggregate = aggregate
        self.window = window
        self.unit = unit
        self.target = target
        self.direction = direction
        self.minSamples = minSamples
        self.lateness = lateness
        self.buckets = buckets
        self.maxSeries = maxSeries
    }
}
