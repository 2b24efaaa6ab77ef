import Foundation
import Testing
import VigieCore
import VigieTesting

@Suite("History through the real daemon: vigie history and vigie events")
struct HistoryEndToEndTests {
    static let kpis = """
        [[kpi]]
        name = "h.wait"
        metric = "wait"
        group_by = ["site"]
        aggregate = "mean"
        window = "1h"
        unit = "min"
        target = 20

        [[kpi]]
        name = "h.p90"
        metric = "wait"
        aggregate = "p90"
        window = "1h"

        [[alert]]
        name = "h_long"
        kpi = "h.wait"
        above = 30
        severity = "warning"
        message = "Attente de {value} min au site {group.site}"
        """

    @Test func minuteRollupsSurviveARestartAndAnswerPerStep() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-hist-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var daemon = try DaemonProcess(kpis: Self.kpis, directory: directory)
        // Three whole minutes ago, two ago (late for nothing: history takes any age), now.
        let minute: Int64 = 60_000_000_000
        let now = SystemClock().now()
        let base = (now / minute - 3) * minute
        var lines = ""
        for i in 0..<30 { lines += "wait,site=nord value=\(10 + i % 3) \(base + Int64(i) * 1_000_000_000)\n" }
        for i in 0..<20 { lines += "wait,site=sud value=40 \(base + minute + Int64(i) * 1_000_000_000)\n" }
        let push = try BinaryRunner.run(
            "vigie",
            arguments: ["push"] + daemon.endpointArguments,
            stdin: Data(lines.utf8)
        )
        #expect(push.status == 0, "\(push.stderr)")
        // An operator acknowledges the alert the sud values fired.
        let ack = try BinaryRunner.run(
            "vigie",
            arguments: ["ack", "h_long", "--group", "site=sud", "--by", "ana", "--comment", "guichet 2 fermé"]
                + daemon.endpointArguments
        )
        #expect(ack.status == 0, "\(ack.stderr)")
        // History writes about once a second; a clean stop writes what is left.
        daemon.stop()
        daemon = try DaemonProcess(kpis: Self.kpis, directory: directory)

        let from = String(base / 1_000_000_000)
        // The new run's history thread catches up with what the old one left in the log.
        var points: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(10)
        repeat {
            let result = try BinaryRunner.run(
                "vigie",
                arguments: ["history", "h.wait", "--from", "-10m", "--step", "1m", "--json"] + daemon.endpointArguments
            )
            #expect(result.status == 0, "\(result.stderr)")
            let reply = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            points = (reply["points"] as? [[String: Any]] ?? []).filter { ($0["samples"] as? Int ?? 0) > 0 }
            if points.count < 2 { usleep(200_000) }
        } while points.count < 2 && Date() < deadline
        let nord = points.filter { ($0["group"] as? [String: String])?["site"] == "nord" }
        let sud = points.filter { ($0["group"] as? [String: String])?["site"] == "sud" }
        #expect(nord.map { $0["samples"] as? Int } == [30], "\(points) from \(from)")
        #expect(nord.first?["value"] as? Double == 11)
        #expect(sud.map { $0["samples"] as? Int } == [20])
        #expect(sud.first?["value"] as? Double == 40)

        let csv = try BinaryRunner.run(
            "vigie",
            arguments: ["history", "h.p90", "--from", "-10m", "--step", "1h", "--csv"] + daemon.endpointArguments
        )
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout.hasPrefix("ts,value,samples\n"), "\(csv.stdout)")
        let samples = csv.stdout.split(separator: "\n").dropFirst().compactMap {
            Int($0.split(separator: ",").last ?? "")
        }
        #expect(samples.reduce(0, +) == 50)

        let events = try BinaryRunner.run(
            "vigie",
            arguments: ["events", "--from", "-1h", "--json"] + daemon.endpointArguments
        )
        #expect(events.status == 0, "\(events.stderr)")
        let eventReply = try #require(
            try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [String: Any]
        )
        let list = eventReply["events"] as? [[String: Any]] ?? []
        #expect(list.contains { $0["kind"] as? String == "alert" && $0["state"] as? String == "firing" }, "\(list)")
        #expect(list.contains { $0["kind"] as? String == "ack" && $0["actor"] as? String == "ana" }, "\(list)")

        let unknown = try BinaryRunner.run("vigie", arguments: ["history", "h.wiat"] + daemon.endpointArguments)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("h.wait"), "did-you-mean: \(unknown.stderr)")
        daemon.stop()
    }
}
