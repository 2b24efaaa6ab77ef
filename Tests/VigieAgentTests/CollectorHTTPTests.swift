import Foundation
import Testing
import VigieAgent

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
