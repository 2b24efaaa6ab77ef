/// A failure of the agent that names what went wrong and, where it helps, what to do.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    /// The message, e.g. `/var/lib/vigie-agent/state.json: unreadable spool state (…)`.
    public var description: String

    /// An error with `description`.
    public init(_ description: String) { self.description = description }
}
