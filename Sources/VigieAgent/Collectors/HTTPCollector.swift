import Foundation
import VigieCore
import VigieHTTP

/// An `http` collector: GETs `url` every interval and writes one sample
///
///     vigie_http,collector=NAME,url=URL up=1,status=200i,latency_ms=12.5[,tls_days_left=87.4] <now>
///
/// `up` is 1 when a reply came with `expectStatus` (nil: any 2xx or 3xx), else 0.
/// Redirects are not followed: a 3xx is the probe's answer (its target is another URL,
/// on a host this configuration did not name, to probe with a collector of its own); `status` is absent when no reply came (refused,
/// timeout, DNS, a certificate that does not verify). `latency_ms` is the time to the
/// full reply (or to the failure), on a fresh connection.
///
/// `tls_days_left` (https only) comes from a TLS handshake of its own
/// (`TLSCertificateProbe`, same timeout) once the server was reached: it is the
/// certificate the server presents, whether or not it verifies, so a server whose
/// certificate is refused (self-signed, expired: up=0) still gets the field. It is
/// omitted when that handshake fails.
public final class HTTPCollector: Collector {
    public let name: String
    public var kind: String { "http" }
    /// The probed URL, as configured.
    public let url: String
    /// Longest wait for the whole reply, ns.
    public let timeout: Int64
    /// The status that means up; nil: any 2xx or 3xx.
    public let expectStatus: Int?

    private let client: BlockingHTTPClient

    /// Creates the collector.
    public init(name: String, url: String, timeout: Int64, expectStatus: Int?) {
        self.name = name
        self.url = url
        self.timeout = timeout
        self.expectStatus = expectStatus
        client = BlockingHTTPClient(timeout: timeout)
    }

    deinit {
        client.close()
    }

    public func collect(now: Int64, stopping: @escaping @Sendable () -> Bool) -> CollectorReport {
        let tag = "collector=\(LineProtocolText.key(name)),url=\(LineProtocolText.key(url))"
        guard let target = URL(string: url), let scheme = target.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else {
            let line = "vigie_http,\(tag) up=0,latency_ms=0.0 \(now)\n"
            return CollectorReport(lines: line, lineCount: 1, result: "bad url", failed: true)
        }
        let started = monotonicNanoseconds()
        let reply = client.send(.GET, url: url, stopping: stopping)
        let latency = Double(monotonicNanoseconds() - started) / 1e6
        var fields: [String] = []
        let up: Bool
        let result: String
        switch reply {
        case .status(let code):
            up = expectStatus.map { $0 == code } ?? (200..<400).contains(code)
            result = "HTTP \(code)"
            fields = ["up=\(up ? 1 : 0)", "status=\(code)i"]
        case .failed(let reason):
            up = false
            result = reason
            fields = ["up=0"]
        case .abandoned:
            up = false
            result = "stopped"
            fields = ["up=0"]
        }
        fields.append("latency_ms=\(LineProtocolText.float(latency))")
        if scheme == "https", Self.reachedTLS(reply), let host = target.host,
            let days = Self.tlsDaysLeft(
                host: host,
                port: target.port ?? 443,
                timeout: timeout,
                now: now,
                stopping: stopping
            )
        {
            fields.append("tls_days_left=\(LineProtocolText.float(days))")
        }
        let line = "vigie_http,\(tag) \(fields.joined(separator: ",")) \(now)\n"
        return CollectorReport(lines: line, lineCount: 1, result: result, failed: !up)
    }

    /// True when the server may have presented a certificate: it answered, or the request
    /// failed otherwise than by a refused connection, an unknown host, a timeout or a stop.
    private static func reachedTLS(_ reply: BlockingHTTPClient.Outcome) -> Bool {
        switch reply {
        case .status: return true
        case .failed(let reason): return !["connection refused", "unknown host", "timeout"].contains(reason)
        case .abandoned: return false
        }
    }

    /// Days (fractional) until the certificate `host:port` presents expires; nil when
    /// no TLS handshake completed within `timeout`.
    static func tlsDaysLeft(
        host: String,
        port: Int,
        timeout: Int64,
        now: Int64,
        stopping: @Sendable () -> Bool
    ) -> Double? {
        guard let notAfter = TLSCertificateProbe.notAfter(host: host, port: port, timeout: timeout, stopping: stopping)
        else { return nil }
        return (Double(notAfter) - Double(now)) / 86_400e9
    }
}
