/// Where one alert (a rule on one KPI series) is in its lifecycle.
///
/// `inactive → pending → firing → resolved`; a rule with `for = 0` goes straight from
/// `inactive` (or `resolved`) to `firing`, and a pending alert whose condition clears
/// before `for` elapsed goes back to `inactive`. `resolved` behaves like `inactive`
/// for the next breach.
public enum AlertPhase: String, Sendable, Equatable, Hashable {
    /// Never breached, or a pending breach cleared before it fired.
    case inactive
    /// The condition holds, for less than the rule's `for` so far.
    case pending
    /// The alert is raised.
    case firing
    /// The alert was firing and has cleared.
    case resolved
}
