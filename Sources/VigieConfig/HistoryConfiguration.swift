/// The `[history]` table: whether `vigied` keeps KPI history, and how long.
public struct HistoryConfiguration: Sendable, Equatable {
    /// Keep per-minute and per-hour rollups and alert events in
    /// `<state_dir>/history.sqlite` (`fileName`). Default `true`.
    public var enabled: Bool
    /// How long minute rollups are kept, in nanoseconds (`minutes = "14d"`). Queries
    /// with a step that is not a whole number of hours, over ranges within this
    /// retention, read minute rows. Default 14 days.
    public var minuteRetention: Int64
    /// How long hour rollups and events are kept, in nanoseconds (`hours = "3y"`, a year
    /// being 365 days); at least `minuteRetention`. Default 3 years.
    public var hourRetention: Int64

    /// The history database's name in the state directory.
    public static let fileName = "history.sqlite"

    /// 14 days, in nanoseconds.
    public static let defaultMinuteRetention: Int64 = 14 * 86_400 * 1_000_000_000
    /// 3 × 365 days, in nanoseconds.
    public static let defaultHourRetention: Int64 = 3 * 365 * 86_400 * 1_000_000_000

    /// Creates a `[history]` table; the defaults are those of an absent table.
    public init(
        enabled: Bool = true,
        minuteRetention: Int64 = HistoryConfiguration.defaultMinuteRetention,
        hourRetention: Int64 = HistoryConfiguration.defaultHourRetention
    ) {
        self.enabled = enabled
        self.minuteRetention = minuteRetention
        self.hourRetention = hourRetention
    }
}
