import Foundation
import Testing
import VigieTesting

/// The webhook notifier against a receiver written with Python's http.server.
@Suite("Webhook notifier through the daemon")
struct WebhookNotifierTests {
    typealias Fixture = AlertDaemonTests.Fixture

    /// Answers 500 to the first `fails` POSTs, then 200; writes each accepted body to
    /// `DIR/post-N.json` and its Content-Type to `DIR/post-N.type`; prints its port.
    /// With a third argument, answers every POST with a 307 to that URL instead (and
    /// counts them in `DIR/redirected`).
    static let receiver = """
        import http.server, os, sys
        out, fails = sys.argv[1], int(sys.argv[2])
        redirect = sys.argv[3] if len(sys.argv) > 3 else None
        seen = [0, 0]
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                seen[0] += 1
                if redirect:
                    with open(out + '/redirected', 'w') as f: f.write(str(seen[0]))
                    self.send_response(307); self.send_header('Location', redirect)
                    self.send_header('Content-Length', '0'); self.end_headers(); return
                if seen[0] <= fails:
                    self.send_response(500); self.send_header('Content-Length', '0'); self.end_headers(); return
                seen[1] += 1
                path = '%s/post-%d' % (out, seen[1])
                with open(path + '.type', 'w') as f: f.write(self.headers.get('Content-Type', ''))
                with open(path + '.tmp', 'wb') as f: f.write(body)
                os.rename(path + '.tmp', path + '.json')
                self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()
            def log_message(self, *args): pass
        server = http.server.HTTPServer(('127.0.0.1', 0), H)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// Starts the receiver; returns it and its port.
    static func startReceiver(directory: String, fails: Int, redirect: String? = nil) throws -> (ChildProcess, Int) {
        let portFile = directory + "/port"
        let child = try ChildProcess(
            path: "/usr/bin/python3",
            arguments: ["-c", receiver, directory, "\(fails)"] + (redirect.map { [$0] } ?? []),
            stdoutPath: portFile
        )
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: portFile),
                let text = String(data: data, encoding: .utf8), text.hasSuffix("\n"),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return (child, port)
            }
            usleep(10_000)
        }
        child.signal(SIGKILL)
        throw HarnessError("the Python receiver did not print its port")
    }

    static func notifier(port: Int) -> String {
        """
        [[notifier]]
        name = "astreinte"
        type = "webhook"
        url = "http://127.0.0.1:\(port)/alerts"
        timeout = "2s"

        """
    }

    static func body(_ directory: String, _ n: Int, timeout: Double = 10) throws -> [String: Any] {
        let text = try #require(NotifierDaemonTests.waitForFile("\(directory)/post-\(n).json", timeout: timeout))
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func receiverGetsAlertmanagerShapedJSON() async throws {
        let dir = try NotifierDaemonTests.makeDirectory()
        let (receiver, port) = try Self.startReceiver(directory: dir, fails: 0)
        defer { receiver.signal(SIGKILL) }
        let f = try Fixture(rules: NotifierDaemonTests.rule + Self.notifier(port: port))
        try f.push(45)
        let firing = try Self.body(dir, 1)
        #expect(firing["version"] as? String == "4")
        #expect(firing["status"] as? String == "firing")
        #expect(firing["receiver"] as? String == "astreinte")
        #expect(firing["groupKey"] as? String == "{}:{alertname=\"longue\"}")
        #expect(firing["truncatedAlerts"] as? Int == 0)
        #expect((firing["groupLabels"] as? [String: String]) == ["alertname": "longue"])
        let alerts = try #require(firing["alerts"] as? [[String: Any]])
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert["status"] as? String == "firing")
        let labels = try #require(alert["labels"] as? [String: String])
        #expect(labels == ["alertname": "longue", "kpi": "attente", "severity": "critical", "site": "nord"])
        #expect((firing["commonLabels"] as? [String: String]) == labels)
        let annotations = try #require(alert["annotations"] as? [String: String])
        #expect(annotations["summary"] == "Attente de 45 min au site nord")
        #expect(annotations["value"] == "45")
        #expect(annotations["threshold"] == "30")
        #expect(alert["endsAt"] as? String == "0001-01-01T00:00:00Z")
        let startsAt = try #require(alert["startsAt"] as? String)
        #expect(startsAt.hasSuffix("Z"))
        let fingerprint = try #require(alert["fingerprint"] as? String)
        #expect(fingerprint.count == 16 && fingerprint.allSatisfy(\.isHexDigit))
        let type = try String(contentsOfFile: "\(dir)/post-1.type", encoding: .utf8)
        #expect(type == "application/json")

        try f.push(10)
        let resolved = try Self.body(dir, 2)
        #expect(resolved["status"] as? String == "resolved")
        let resolvedAlert = try #require((resolved["alerts"] as? [[String: Any]])?.first)
        #expect(resolvedAlert["startsAt"] as? String == startsAt)
        #expect(resolvedAlert["endsAt"] as? String != "0001-01-01T00:00:00Z")
        #expect(resolvedAlert["fingerprint"] as? String == fingerprint)
        let counters = try NotifierDaemonTests.waitForCounters(f, "astreinte") { $0["sent"] == 2 }
        #expect(counters["sent"] == 2)
        await f.stop()
    }

    @Test func retriesAfterServerErrors() async throws {
        let dir = try NotifierDaemonTests.makeDirectory()
        let (receiver, port) = try Self.startReceiver(directory: dir, fails: 2)
        defer { receiver.signal(SIGKILL) }
        let f = try Fixture(rules: NotifierDaemonTests.rule + Self.notifier(port: port))
        try f.push(45)
        // 500, 500, then 200: after backoffs of 500 ms and 1 s.
        let firing = try Self.body(dir, 1)
        #expect(firing["status"] as? String == "firing")
        let counters = try NotifierDaemonTests.waitForCounters(f, "astreinte") { $0["sent"] == 1 }
        #expect(counters["sent"] == 1)
        #expect(counters["retries"] == 2)
        #expect(counters["failed"] == 0)
        await f.stop()
    }

    @Test func unreachableReceiverDoesNotBlockIngestOrShutdown() async throws {
        // Nothing listens on port 9 (discard) here: connection refused, retried with
        // backoff on the worker thread.
        let f = try Fixture(
            rules: NotifierDaemonTests.rule + Self.notifier(port: 9)
                + NotifierDaemonTests.recorder("journal", directory: try NotifierDaemonTests.makeDirectory())
        )
        try f.push(45)
        let start = ContinuousClock.now
        for i in 0..<200 { try f.push(Double(40 + i % 5)) }
        #expect(ContinuousClock.now - start < .seconds(2))
        let counters = try NotifierDaemonTests.waitForCounters(f, "astreinte") { $0["retries"] ?? 0 >= 1 }
        #expect(counters["retries"] ?? 0 >= 1)
        let stopTime = f.harness.stopSynchronously()
        #expect(stopTime < .seconds(2), "stop took \(stopTime)")
        await f.stop()
    }

    @Test func aRedirectIsARefusalNotAResend() async throws {
        // The alert body must not follow a 307 to a host the configuration did not name.
        let elsewhere = try NotifierDaemonTests.makeDirectory()
        let (other, otherPort) = try Self.startReceiver(directory: elsewhere, fails: 0)
        defer { other.signal(SIGKILL) }
        let dir = try NotifierDaemonTests.makeDirectory()
        let (receiver, port) = try Self.startReceiver(
            directory: dir,
            fails: 0,
            redirect: "http://127.0.0.1:\(otherPort)/stolen"
        )
        defer { receiver.signal(SIGKILL) }
        let f = try Fixture(rules: NotifierDaemonTests.rule + Self.notifier(port: port))
        try f.push(45)
        let counters = try NotifierDaemonTests.waitForCounters(f, "astreinte") { $0["failed"] == 1 }
        #expect(counters["failed"] == 1)
        #expect(counters["sent"] == 0)
        #expect(counters["retries"] == 0)
        #expect(try String(contentsOfFile: "\(dir)/redirected", encoding: .utf8) == "1")
        usleep(300_000)
        #expect(!FileManager.default.fileExists(atPath: "\(elsewhere)/post-1.json"))
        await f.stop()
    }
}
