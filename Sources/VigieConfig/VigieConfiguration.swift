import VigieCore

/// A validated Vigie configuration: what `vigied` runs with and `vigie check-config` checks.
///
/// Built by `ConfigLoader` from TOML (DESIGN.md, "KPIs and alerts (config)"). Every value
/// here has passed validation: durations are positive where they must be, endpoints
/// are well-formed, KPI and alert names are unique, every alert watches a configured
/// KPI.
public struct VigieConfiguration: Sendable, Equatable {
    /// The `[daemon]` table: time zone, directories, publishing cadence.
    public var daemon: DaemonConfiguration
    /// The `[endpoints]` table: where each socket binds.
    public var endpoints: EndpointsConfiguration
    /// The `[ingest]` table: limits applied to incoming samples.
    public var ingest: IngestConfiguration
    /// The `[history]` table: whether history is kept, and for how long.
    public var history: HistoryConfiguration
    /// The `[http]` table: the `/metrics` listener.
    public var http: HTTPConfiguration = HTTPConfiguration()
    /// The `[security]` table: CURVE and the authorized keys.
    public var security = SecurityConfiguration()
    /// The `[[kpi]]` tables, in file order.
    public var kpis: [KPIDefinition]
    /// The `[[alert]]` tables, in file order; each names a KPI of `kpis`.
    public var alerts: [AlertRule]
    /// The `[[notifier]]` tables, in file order; names are unique.
    public var notifiers: [NotifierConfiguration]
    /// The file this was loaded from; `nil` when parsed from a string.
    public var sourcePath: String?

    /// Creates a configuration; every part defaults to its documented default.
    public init(
        daemon: DaemonConfiguration = DaemonConfiguration(),
        endpoints: EndpointsConfiguration = EndpointsConfiguration(),
        ingest: IngestConfiguration = IngestConfiguration(),
        history: HistoryConfiguration = HistoryConfiguration(),
        kpis: [KPIDefinition] = [],
        alerts: [AlertRule] = [],
        notifiers: [NotifierConfiguration] = [],
        sourcePath: String? = nil
    ) {
        self.daemon = daemon
        self.endpoints = endpoints
        self.ingest = ingest
        self.history = history
        self.kpis = kpis
        self.alerts = alerts
        self.notifiers = notifiers
        self.sourcePath = sourcePath
    }
}

extension VigieConfiguration {
    /// The operator control socket: `ipc://<runtime_dir>/control.sock`, always bound,
    /// open to the daemon's user and group only (the directory is 0750). Every op is
    /// allowed on it, unlike on plain TCP control endpoints (``SecurityConfiguration/tcpControl``).
    public var operatorControlEndpoint: String {
        DaemonConfiguration.operatorControlEndpoint(runtimeDir: daemon.runtimeDir)
    }

    /// Problems that do not stop the daemon but that an administrator should hear of:
    /// plain endpoints reachable from the network.
    public var warnings: [String] {
        let roles: [(String, [String])] = [
            ("ingest", endpoints.ingest), ("push", endpoints.push), ("feed", endpoints.feed),
            ("control", endpoints.control),
        ]
        let exposed = roles.flatMap { role, list in list.compactMap { security.exposureWarning($0, role: role) } }
        let unmatched = security.unmatchedGrants.map { name in
            let names = security.authorized.keys.map(\.name)
            let guess = Suggestions.closest(to: name, among: names).map { " (a misspelling of \"\($0)\"?)" } ?? ""
            return
                "[security.keys] \(name): no key of that name in \(security.authorizedKeysDirectory ?? "authorized_keys")"
                + "\(guess); the entry grants nothing"
        }
        return exposed + unmatched
    }
}

extension DaemonConfiguration {
    /// `ipc://DIR/control.sock`.
    public static func operatorControlEndpoint(runtimeDir: String) -> String {
        "ipc://" + (runtimeDir.hasSuffix("/") ? String(runtimeDir.dropLast()) : runtimeDir) + "/control.sock"
    }

    /// Longest `runtime_dir` path, bytes: a Unix socket path holds at most 107.
    public static let maximumRuntimeDirLength = 107 - "/control.sock".utf8.count
}
