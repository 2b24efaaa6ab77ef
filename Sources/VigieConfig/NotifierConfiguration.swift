/// One `[[notifier]]` table: where alert transitions are sent, and which ones.
///
/// Built by `ConfigLoader`; every value has been validated (argv not empty, URL with
/// an http:// or https:// scheme and a host, positive durations and bounds).
public struct NotifierConfiguration: Sendable, Equatable {
    /// What a notifier does with a transition.
    public enum Kind: Sendable, Equatable {
        /// Runs a command per transition.
        case exec(ExecNotifierConfiguration)
        /// POSTs an Alertmanager webhook v4 body.
        case webhook(WebhookNotifierConfiguration)
    }

    /// Unique name; the webhook's `receiver` and the key of the notifier's counters.
    public var name: String
    /// The exec or webhook settings.
    public var kind: Kind
    /// Which transitions this notifier receives.
    public var route: NotifierRoute
    /// Re-notify a still-firing alert this often (ns); `nil`: once per transition.
    public var repeatInterval: Int64?

    /// Creates a notifier configuration.
    public init(name: String, kind: Kind, route: NotifierRoute = NotifierRoute(), repeatInterval: Int64? = nil) {
        self.name = name
        self.kind = kind
        self.route = route
        self.repeatInterval = repeatInterval
    }
}

/// Settings of an `exec` notifier.
public struct ExecNotifierConfiguration: Sendable, Equatable {
    /// The command as argv; `command[0]` is an absolute path or is looked up in `PATH`.
    public var command: [String]
    /// How long a run may take before SIGTERM (then SIGKILL a second later), in ns.
    public var timeout: Int64
    /// How many runs may be in progress at once (one worker thread each).
    public var maxConcurrent: Int
    /// How many transitions may wait for a free worker before new ones are dropped.
    public var queue: Int

    /// Creates exec settings; defaults as documented (10 s, 4 at once, 1000 waiting).
    public init(command: [String], timeout: Int64 = 10_000_000_000, maxConcurrent: Int = 4, queue: Int = 1_000) {
        self.command = command
        self.timeout = timeout
        self.maxConcurrent = maxConcurrent
        self.queue = queue
    }
}

/// Settings of a `webhook` notifier.
public struct WebhookNotifierConfiguration: Sendable, Equatable {
    /// The URL POSTed to (http:// or https://).
    public var url: String
    /// Timeout of one attempt, in ns.
    public var timeout: Int64
    /// Retries after the first attempt on connection errors and 5xx replies, with
    /// exponential backoff from 500 ms (capped at 30 s).
    public var maxRetries: Int
    /// Bounded queue length: transitions beyond it are dropped and counted.
    public var queue: Int

    /// Creates webhook settings; defaults as documented (5 s, 5 retries, 1000 queued).
    public init(url: String, timeout: Int64 = 5_000_000_000, maxRetries: Int = 5, queue: Int = 1_000) {
        self.url = url
        self.timeout = timeout
        self.maxRetries = maxRetries
        self.queue = queue
    }
}

/// Which alert transitions a notifier receives.
public struct NotifierRoute: Sendable, Equatable {
    /// Severities accepted; `nil` accepts all.
    public var severities: Set<String>?
    /// KPI name prefix; `nil` (or empty) accepts all.
    public var kpiPrefix: String?
    /// States accepted (`pending`, `firing`, `resolved`); default firing and resolved.
    public var states: Set<String>

    /// Creates a route; the defaults accept every firing and resolved transition.
    public init(severities: Set<String>? = nil, kpiPrefix: String? = nil, states: Set<String> = ["firing", "resolved"])
    {
        self.severities = severities
        self.kpiPrefix = kpiPrefix
        self.states = states
    }

    /// True when a transition to `state` of an alert on `kpi` with `severity` passes.
    public func accepts(kpi: String, severity: String, state: String) -> Bool {
        guard states.contains(state) else { return false }
        if let severities, !severities.contains(severity) { return false }
        if let kpiPrefix, !kpi.hasPrefix(kpiPrefix) { return false }
        return true
    }
}
