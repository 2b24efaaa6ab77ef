/// What `KPIEngine.restoreState(from:)` brought back from a checkpoint and what it left
/// out, for the daemon's log.
///
/// State is matched per window group by the group's definition (see
/// `KPIEngine.encodeState(into:)`): a KPI whose window, selector, `group_by`, cap… was
/// edited since the checkpoint starts empty, and the stored state of its old definition
/// is dropped.
public struct EngineRestoreReport: Sendable, Equatable {
    /// KPIs whose window state was restored, in definition order.
    public var restoredKPIs: [String] = []
    /// KPIs that found no state stored under their window group's definition (new or
    /// edited KPIs, or a group whose sharing KPIs changed): they start empty. In
    /// definition order.
    public var emptyKPIs: [String] = []
    /// Stored window groups that match no group of the engine, each described by the
    /// KPIs that used it and its window, e.g. `attente_p90, attente_max (1h)`.
    public var droppedGroups: [String] = []
    /// Series restored, summed over restored window groups (KPIs sharing a group count
    /// once).
    public var seriesRestored = 0

    /// An empty report.
    public init() {}
}
