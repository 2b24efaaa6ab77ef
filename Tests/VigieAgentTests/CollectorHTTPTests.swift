import Foundation
import Testing
import VigieTesting

@testable import VigieAgent

@Suite struct CollectorHTTPTests {
    @Test func upNotFoundAndRefused() throws {
        let server = try PythonHTTPServer()
        let base = server.baseURL

        let up = HTTPCollector(name: "site", url: "\(base)/", timeout: 5_000_000_000, expectStatus: nil)
        let ok = up.collect(now: 99, stopping: { false })
        #expect(ok.result == "HTTP 200")
        #expect(!ok.failed)
        #expect(ok.lineCount == 1)
        #expect(ok.lines.hasPrefix("vigie_http,collector=site,url=\(base)/ up=1,status=200i,latency_ms="))
        #expect(ok.lines.hasSuffix(" 99\n"))

        let missing = HTTPCollector(name: "site", url: "\(base)/nope", timeout: 5_000_000_000, expectStatus: nil)
        let notFound = missing.collect(now: 100, stopping: { false })
        #expect(notFound.result == "HTTP 404")
        #expect(notFound.failed)
        #expect(notFound.lines.contains(" up=0,status=404i,latency_ms="))

        let strict = HTTPCollector(name: "site", url: "\(base)/nope", timeout: 5_000_000_000, expectStatus: 404)
        #expect(!strict.collect(now: 101, stopping: { false }).failed)

        server.stop()
        let down = up.collect(now: 102, stopping: { false })
        #expect(down.failed)
        #expect(down.result == "connection refused")
        #expect(down.lines.contains(" up=0,latency_ms="))
        #expect(!down.lines.contains("status="))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func tlsDaysLeftComesFromTheServedCertificate() throws {
        let server = try PythonHTTPServer(tlsDays: 30)
        defer { server.stop() }
        let url = "https://localhost:\(server.port)/"
        let collector = HTTPCollector(name: "tls", url: url, timeout: 5_000_000_000, expectStatus: nil)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let report = collector.collect(now: now, stopping: { false })
        // Self-signed: the GET refuses it, so the probe is down, but the expiry is read.
        #expect(report.failed)
        #expect(report.result.hasPrefix("TLS error"), "\(report.result)")
        #expect(!report.lines.contains("status="))
        let field = report.lines.split(separator: ",").first { $0.hasPrefix("tls_days_left=") }
        let days = field.flatMap { Double($0.dropFirst("tls_days_left=".count).split(separator: " ")[0]) }
        #expect(days.map { $0 > 29.9 && $0 <= 30.01 } == true, "\(report.lines) \(report.result)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func tlsExpiryIsReadByAddressWithoutServerName() throws {
        let server = try PythonHTTPServer(tlsDays: 400)
        defer { server.stop() }
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let days = HTTPCollector.tlsDaysLeft(
            host: "127.0.0.1",
            port: server.port,
            timeout: 5_000_000_000,
            now: now,
            stopping: { false }
        )
        #expect(days.map { $0 > 399.9 && $0 <= 400.01 } == true, "\(String(describing: days))")
    }

    @Test func tlsExpiryIsNilWhenTheServerSpeaksNoTLS() throws {
        let server = try PythonHTTPServer()
        defer { server.stop() }
        let started = Date()
        let days = HTTPCollector.tlsDaysLeft(
            host: "127.0.0.1",
            port: server.port,
            timeout: 2_000_000_000,
            now: 0,
            stopping: { false }
        )
        #expect(days == nil)
        #expect(Date().timeIntervalSince(started) < 2.5)
        let refused = HTTPCollector.tlsDaysLeft(host: "127.0.0.1", port: 9, timeout: 2_000_000_000, now: 0) { false }
        #expect(refused == nil)
    }

    @Test func redirectsAreReportedNotFollowed() throws {
        let server = try PythonHTTPServer()
        defer { server.stop() }
        // http.server answers a directory without its slash with 301 to the slashed path.
        try FileManager.default.createDirectory(
            atPath: server.directory.file("annexe"),
            withIntermediateDirectories: true
        )
        try Data("annexe\n".utf8).write(to: URL(fileURLWithPath: server.directory.file("annexe/index.html")))
        let collector = HTTPCollector(
            name: "r",
            url: "\(server.baseURL)/annexe",
            timeout: 5_000_000_000,
            expectStatus: 200
        )
        let report = collector.collect(now: 5, stopping: { false })
        #expect(report.result == "HTTP 301", "\(report.lines)")
        #expect(report.failed, "expect_status 200: a redirect is not what was expected")
        #expect(report.lines.contains(" up=0,status=301i,"))
        let lenient = HTTPCollector(
            name: "r",
            url: "\(server.baseURL)/annexe",
            timeout: 5_000_000_000,
            expectStatus: nil
        )
        #expect(!lenient.collect(now: 6, stopping: { false }).failed, "without expect_status a 3xx is up")
    }

    @Test func aStopEndsAProbeThatHangs() throws {
        // A listener that accepts and never answers: the GET waits until stopped.
        let listener = try LoopbackListener()
        let port = listener.port
        let collector = HTTPCollector(
            name: "h",
            url: "http://127.0.0.1:\(port)/",
            timeout: 30_000_000_000,
            expectStatus: nil
        )
        let started = Date()
        let report = collector.collect(now: 1) { Date().timeIntervalSince(started) > 0.3 }
        #expect(report.result == "stopped")
        #expect(report.failed)
        #expect(Date().timeIntervalSince(started) < 2)
        _ = consume listener
    }

    @Test func badURLIsDown() {
        let collector = HTTPCollector(
            name: "odd",
            url: "ftp://example.invalid/",
            timeout: 1_000_000_000,
            expectStatus: nil
        )
        let report = collector.collect(now: 1, stopping: { false })
        #expect(report.result == "bad url")
        #expect(report.lines == "vigie_http,collector=odd,url=ftp://example.invalid/ up=0,latency_ms=0.0 1\n")
    }
}
