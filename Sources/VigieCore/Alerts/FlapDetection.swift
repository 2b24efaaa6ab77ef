/// Flap detection settings of an alert rule (Nagios-style).
///
/// The evaluator keeps, per alert, whether each of the last `window` evaluations found
/// the KPI in breach, and computes the percent of state change: each change between
/// two consecutive evaluations counts with a weight rising linearly from 0.8 (oldest)
/// to 1.2 (newest), and the weighted sum is divided by the `window − 1` possible
/// changes. The alert starts flapping when that percent exceeds `high` and stops
/// when it falls below `low` (hysteresis). While flapping, transitions are still
/// computed but marked `flapping`, and the daemon holds their notifications.
public struct FlapDetection: Sendable, Equatable, Hashable {
    /// Evaluations remembered, 3…64. Default 20.
    public var window: Int
    /// Percent of state change (0…100) above which the alert starts flapping. Default 50.
    public var high: Double
    /// Percent of state change (0…100) below which a flapping alert stops. Default 25.
    public var low: Double

    /// Largest `window` the evaluator supports (one bit per evaluation in a 64-bit word).
    public static let maximumWindow = 64
    /// Smallest `window`: two possible changes, so the weights are defined.
    public static let minimumWindow = 3

    /// Settings; the defaults are Nagios's usual 20 checks, 50 % and 25 %.
    public init(window: Int = 20, high: Double = 50, low: Double = 25) {
        self.window = window
        self.high = high
        self.low = low
    }
}
