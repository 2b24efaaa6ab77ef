import Foundation
import Testing
import VigieCore
import VigieTesting

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.0 GET over a plain socket (the server closes after the reply): status and body.
func httpGet(_ hostPort: String, _ path: String, host: String? = nil) throws -> (status: Int, body: String) {
    let parts = hostPort.split(separator: ":")
    guard parts.count == 2, let port = UInt16(parts[1]) else { throw HarnessError("bad address \(hostPort)") }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    inet_pton(AF_INET, String(parts[0]), &address.sin_addr)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { throw HarnessError("connect \(hostPort): \(errno)") }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host ?? hostPort)\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response += chunk[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let headEnd = text.range(of: "\r\n\r\n") else { throw HarnessError("no HTTP response: \(text)") }
    let statusLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first ?? ""
    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, String(text[headEnd.upperBound...]))
}

@Suite("/metrics and /healthz (vigied binary, swift-nio listener)")
struct MetricsEndpointTests {
    static let toml = """
        [http]
        listen = "127.0.0.1:0"

        [[kpi]]
        name = "attente.p90"
        metric = "guichet_attente"
        group_by = ["site"]
        aggregate = "p90"
        window = "1h"
        target = 15

        [[alert]]
        name = "attente_longue"
        kpi = "attente.p90"
        above = 30
        """

    @Test func aRequestForAnotherHostNameIsRefused() throws {
        // DNS rebinding: a page of evil.example, whose name now resolves to 127.0.0.1,
        // must not read KPI values from the operator's browser.
        let daemon = try DaemonProcess(
            kpis: Self.toml.replacingOccurrences(
                of: "listen = \"127.0.0.1:0\"",
                with: "listen = \"127.0.0.1:0\"\nhosts = [\"Vigie.Mairie.nc\"]"
            )
        )
        let http = try #require(daemon.endpoints["http"])
        let port = http.split(separator: ":").last.map(String.init) ?? ""
        #expect(try httpGet(http, "/metrics", host: "evil.example:\(port)").status == 421)
        #expect(try httpGet(http, "/healthz", host: "evil.example").status == 421)
        for allowed in [http, "localhost:\(port)", "[::1]:\(port)", "vigie.mairie.nc:\(port)", "vigie.mairie.nc."] {
            #expect(try httpGet(http, "/healthz", host: allowed).status == 200, "\(allowed)")
        }
        #expect(daemon.stop().status == 0)
    }

    @Test func metricsPassPromtoolAndShowKPIsAlertsAndCounters() throws {
        let daemon = try DaemonProcess(kpis: Self.toml)
        let http = try #require(daemon.endpoints["http"], "the ready line names the listener")
        let push = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "--file", "-"] + daemon.endpointArguments,
            stdin: Data("guichet_attente,site=nord value=45\nguichet_attente,site=sud\\ est value=12\nbad\n".utf8)
        )
        #expect(push.status == 1)  // one line rejected

        let metrics = try httpGet(http, "/metrics")
        #expect(metrics.status == 200)
        let lines = Set(metrics.body.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"vigie_build_info{version="\#(VigieVersion.string)"} 1.0"#))
        #expect(lines.contains("vigie_samples_accepted_total 2"))
        #expect(lines.contains(#"vigie_samples_rejected_total{reason="invalid"} 1"#))
        // p90 from the sketch: within its 1 % of the one sample.
        func value(_ labels: String) -> Double? {
            lines.first { $0.hasPrefix("vigie_kpi_value{\(labels)} ") }.flatMap {
                Double($0.split(separator: " ").last ?? "")
            }
        }
        #expect(value(#"kpi="attente.p90",site="nord""#).map { abs($0 - 45) < 0.45 } == true, "\(metrics.body)")
        #expect(value(#"kpi="attente.p90",site="sud est""#).map { abs($0 - 12) < 0.12 } == true)
        #expect(lines.contains(#"vigie_kpi_target{kpi="attente.p90",direction="below"} 15.0"#))
        #expect(
            lines.contains(
                #"vigie_alert_active{rule="attente_longue",kpi="attente.p90",state="firing",severity="warning",site="nord"} 1.0"#
            )
        )
        #expect(lines.contains { $0.hasPrefix("vigie_wal_fsync_seconds_count ") })
        #expect(lines.contains("vigie_alert_latency_seconds_count 1"), "one firing transition, from a sample")
        #expect(lines.contains { $0.hasPrefix("vigie_producer_last_seen_timestamp_seconds{producer=") })

        // promtool, Prometheus's own checker, on the real output.
        let check = try BinaryRunner.run(
            "/usr/bin/promtool",
            arguments: ["check", "metrics"],
            stdin: Data(metrics.body.utf8)
        )
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        // A second scrape: counters grow, never restart.
        _ = try BinaryRunner.run("vigie", arguments: ["push", "guichet_attente", "1"] + daemon.endpointArguments)
        let again = try httpGet(http, "/metrics")
        #expect(again.body.contains("vigie_samples_accepted_total 3\n"))

        let health = try httpGet(http, "/healthz")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")
        #expect(try httpGet(http, "/nope").status == 404)
        #expect(daemon.stop().status == 0)
    }

    /// A free loopback TCP port (bound then released; Prometheus needs a number).
    static func freePort() throws -> Int {
        try LoopbackListener().port
    }

    @Test(.timeLimit(.minutes(1)))
    func aRealPrometheusScrapesKPIValues() async throws {
        let daemon = try DaemonProcess(kpis: Self.toml)
        let http = try #require(daemon.endpoints["http"])
        _ = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "guichet_attente", "33", "-t", "site=nord"] + daemon.endpointArguments
        )
        let directory = daemon.directory.appendingPathComponent("prometheus")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("prometheus.yml").path
        try """
        global:
          scrape_interval: 1s
        scrape_configs:
          - job_name: vigied
            static_configs:
              - targets: ["\(http)"]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let port = try Self.freePort()
        let prometheus = try ChildProcess(
            path: "/usr/bin/prometheus",
            arguments: [
                "--config.file=\(config)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ],
            stderrPath: directory.appendingPathComponent("prometheus.log").path
        )
        defer {
            prometheus.signal(SIGTERM)
            _ = prometheus.wait(timeout: 10)
        }
        var found = ""
        for _ in 0..<40 where !found.contains("\"nord\"") {
            try await Task.sleep(for: .milliseconds(500))
            found = (try? httpGet("127.0.0.1:\(port)", "/api/v1/query?query=vigie_kpi_value"))?.body ?? ""
        }
        #expect(found.contains(#""__name__":"vigie_kpi_value""#), "\(found)")
        #expect(found.contains(#""kpi":"attente.p90""#) && found.contains(#""site":"nord""#), "\(found)")
        let targets = (try? httpGet("127.0.0.1:\(port)", "/api/v1/targets"))?.body ?? ""
        #expect(targets.contains(#""health":"up""#), "\(targets)")
        #expect(daemon.stop().status == 0)
    }
}
