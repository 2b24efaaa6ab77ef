import Foundation
import Testing
import VigieTesting

@Suite("vigie simulate against the example city config")
struct SimulateTests {
    /// The `[[kpi]]` tables (and what follows) of config/vigie.toml.
    static func exampleKPIs() throws -> String {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/vigie.toml").standardized.path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let start = try #require(text.range(of: "[[kpi]]"))
        return String(text[start.lowerBound...])
    }

    @Test func everyExampleKPIGetsTraffic() throws {
        let daemon = try DaemonProcess(kpis: try Self.exampleKPIs())
        let run = try BinaryRunner.run(
            "vigie",
            arguments: ["simulate", "--speed", "3600", "--duration", "5s", "--seed", "7"] + daemon.endpointArguments,
            timeout: 60
        )
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("line"), "the simulator produced rejected lines: \(run.stderr)")
        let status = try BinaryRunner.run("vigie", arguments: ["status", "--json"] + daemon.endpointArguments)
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let fed = Set(
            (reply["kpis"] as? [[String: Any]] ?? []).compactMap { entry -> String? in
                (entry["samples"] as? Int ?? 0) > 0 ? entry["kpi"] as? String : nil
            }
        )
        let config = try BinaryRunner.run("vigie", arguments: ["check-config", "--verbose", daemon.configPath])
        let names = Set(
            try Self.exampleKPIs().split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("name = \""), let end = line.dropFirst(8).firstIndex(of: "\"") else { return nil }
                return String(line.dropFirst(8)[..<end])
            }.filter { !$0.contains("_") || $0.contains(".") }
        )
        #expect(config.status == 0)
        let kpiNames = names.filter { $0.contains(".") }
        #expect(kpiNames.count >= 12)
        #expect(
            kpiNames.subtracting(fed).isEmpty,
            "KPIs without simulated traffic: \(kpiNames.subtracting(fed).sorted())"
        )
        daemon.stop()
    }

    @Test func backfillFillsHistoryWithStampedSamples() throws {
        let daemon = try DaemonProcess(kpis: try Self.exampleKPIs())
        let run = try BinaryRunner.run(
            "vigie",
            arguments: ["simulate", "--backfill", "3d", "--seed", "11"] + daemon.endpointArguments,
            timeout: 120
        )
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("backfilled until"), "\(run.stdout)")
        #expect(run.stdout.contains(", 0 rejected"), "\(run.stdout)")
        // Calls are answered every working day: history has them spread over the days.
        var days: [Int] = []
        let deadline = Date().addingTimeInterval(20)
        repeat {
            let history = try BinaryRunner.run(
                "vigie",
                arguments: ["history", "accueil.taux_decroche", "--from", "-3d", "--step", "1d", "--json"]
                    + daemon.endpointArguments
            )
            #expect(history.status == 0, "\(history.stderr)")
            let reply = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any]
            days = (reply?["points"] as? [[String: Any]] ?? []).compactMap { $0["samples"] as? Int }.filter { $0 > 0 }
            if days.count < 2 { usleep(300_000) }
        } while days.count < 2 && Date() < deadline
        #expect(days.count >= 2, "samples per day: \(days)")
        daemon.stop()
    }
}
