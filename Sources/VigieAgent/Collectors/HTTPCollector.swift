import Foundation
import Synchronization
import VigieCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An `http` collector: GETs `url` every interval and writes one sample
///
///     vigie_http,collector=NAME,url=URL up=1,status=200i,latency_ms=12.5[,tls_days_left=87.4] <now>
///
/// `up` is 1 when a reply came with `expectStatus` (nil: any 2xx or 3xx; redirects are
/// followed), else 0; `status` is absent when no reply came (refused, timeout, DNS).
/// `latency_ms` is the time to the full reply (or to the failure).
///
/// `tls_days_left` (https only): URLSession on Linux does not expose the peer
/// certificate, so the expiry comes from `openssl s_client` piped into
/// `openssl x509 -enddate`, run as subprocesses with the same timeout, and only when
/// `/usr/bin/openssl` exists; the field is omitted when openssl is missing or fails. It
/// is the certificate the server presents, whether or not it verifies: a server whose
/// certificate URLSession rejects (self-signed, expired: up=0) still gets the field.
public final class HTTPCollector: Collector {
    public let name: String
    public var kind: String { "http" }
    /// The probed URL, as configured.
    public let url: String
    /// Longest wait for the whole reply, ns.
    public let timeout: Int64
    /// The status that means up; nil: any 2xx or 3xx.
    public let expectStatus: Int?
    /// Where openssl is looked for (for `tls_days_left`).
    static let opensslPath = "/usr/bin/openssl"

    private let session: URLSession

    /// Creates the collector.
    public init(name: String, url: String, timeout: Int64, expectStatus: Int?) {
        self.name = name
        self.url = url
        self.timeout = timeout
        self.expectStatus = expectStatus
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(timeout) / 1e9
        configuration.timeoutIntervalForResource = Double(timeout) / 1e9
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    deinit {
        session.invalidateAndCancel()
    }

    /// What one request gave.
    private enum Reply: Sendable {
        case status(Int)
        case failed(String)
    }

    private final class ReplyBox: Sendable {
        let reply = Mutex<Reply?>(nil)
        let done = DispatchSemaphore(value: 0)
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
        let reply = get(target, stopping: stopping)
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

    /// GETs `target`, blocking this thread; gives up when `stopping()` turns true.
    private func get(_ target: URL, stopping: @Sendable () -> Bool) -> Reply {
        var request = URLRequest(url: target)
        request.httpMethod = "GET"
        request.timeoutInterval = Double(timeout) / 1e9
        let box = ReplyBox()
        let task = session.dataTask(with: request) { _, response, error in
            let reply: Reply
            if let http = response as? HTTPURLResponse {
                reply = .status(http.statusCode)
            } else if let error = error as? URLError {
                reply = .failed(Self.describe(error))
            } else if let error {
                reply = .failed("\(error)")
            } else {
                reply = .failed("no reply")
            }
            box.reply.withLock { $0 = reply }
            box.done.signal()
        }
        task.resume()
        while box.done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if stopping() {
                task.cancel()
                return .failed("stopped")
            }
        }
        return box.reply.withLock { $0 } ?? .failed("no reply")
    }

    /// True when the server may have presented a certificate: it answered, or the request
    /// failed otherwise than by a refused connection, an unknown host, a timeout or a stop.
    private static func reachedTLS(_ reply: Reply) -> Bool {
        switch reply {
        case .status: return true
        case .failed(let reason):
            return !["connection refused", "unknown host", "timeout", "stopped"].contains(reason)
        }
    }

    private static func describe(_ error: URLError) -> String {
        switch error.code {
        case .cannotConnectToHost: return "connection refused"
        case .timedOut: return "timeout"
        case .cannotFindHost, .dnsLookupFailed: return "unknown host"
        case .networkConnectionLost: return "connection lost"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "TLS error: \(error.localizedDescription)"
        default: return error.localizedDescription
        }
    }

    /// Days (fractional) until the certificate `host:port` presents expires, from
    /// openssl subprocesses; nil when openssl is missing, fails or times out.
    static func tlsDaysLeft(
        host: String,
        port: Int,
        timeout: Int64,
        now: Int64,
        stopping: @Sendable () -> Bool
    ) -> Double? {
        guard FileManager.default.isExecutableFile(atPath: opensslPath) else { return nil }
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let handshake = CollectorProcess.run(
            [opensslPath, "s_client", "-connect", address, "-servername", host],
            timeout: timeout,
            stopping: stopping
        )
        guard handshake.outcome == .exited(0) || !handshake.stdout.isEmpty else { return nil }
        let pem = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-tls-\(UUID().uuidString).pem")
        defer { try? FileManager.default.removeItem(at: pem) }
        guard (try? Data(handshake.stdout).write(to: pem)) != nil else { return nil }
        let decoded = CollectorProcess.run(
            [opensslPath, "x509", "-noout", "-enddate", "-dateopt", "iso_8601"],
            stdinPath: pem.path,
            timeout: timeout,
            stopping: stopping
        )
        guard decoded.outcome == .exited(0), let notAfter = parseEndDate(decoded.stdout) else { return nil }
        return Double(notAfter - now) / 86_400e9
    }

    /// The instant of `notAfter=2027-11-29 07:55:08Z` (openssl's ISO 8601 date option),
    /// ns since the epoch.
    static func parseEndDate(_ output: [UInt8]) -> Int64? {
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("notAfter=") else { return nil }
        return Timestamps.parseRFC3339(String(text.dropFirst("notAfter=".count)))
    }
}
