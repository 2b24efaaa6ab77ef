/// The `[http]` table: the optional HTTP listener for `/metrics` and `/healthz`.
public struct HTTPConfiguration: Sendable, Equatable {
    /// Where to listen; nil (the default) serves nothing.
    public var listen: HostPort?
    /// Host names a request's `Host` header may carry besides IP literals, `localhost`
    /// and the listen host (`hosts = ["vigie.mairie.nc"]`): any other gets 421, so a web
    /// page whose name was rebound to this address cannot read KPI values.
    public var hosts: [String]

    public init(listen: HostPort? = nil, hosts: [String] = []) {
        self.listen = listen
        self.hosts = hosts
    }
}

/// A host (name, IPv4 or IPv6 literal without brackets) and a TCP port (0: any free one).
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, or `[v6]:port`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port` or `[v6]:port`; nil if malformed.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" "), host.contains(":") == text.hasPrefix("[") else { return nil }
        self.init(host: host, port: port)
    }
}
