import Foundation
import Testing
import VigieTesting

/// One-shot producers (a `vigie push` per cron run, each with a fresh producer id) never
/// exhaust the producer table: idle ones are forgotten, and the exactly-once window of
/// one that keeps sending is kept.
@Suite("Producer churn (real vigied, vigie push)")
struct ProducerChurnTests {
    static let kpis = """
        [ingest]
        max_producers = 4
        producer_idle = "1s"

        [[kpi]]
        name = "churn.count"
        metric = "churn"
        aggregate = "count"
        window = "1h"
        """

    static func stats(_ daemon: DaemonProcess) throws -> [String: Any] {
        let run = try BinaryRunner.run("vigie", arguments: ["status", "--stats", "--json"] + daemon.endpointArguments)
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    @Test(.timeLimit(.minutes(2)))
    func oneShotPushesNeverRunOutOfProducers() throws {
        let daemon = try DaemonProcess(kpis: Self.kpis)
        var accepted = 0
        for round in 0..<4 {
            for _ in 0..<4 {
                let push = try BinaryRunner.run("vigie", arguments: ["push", "churn", "1"] + daemon.endpointArguments)
                #expect(push.status == 0, "round \(round): \(push.stderr)")
                if push.status == 0 { accepted += 1 }
            }
            // The table is full of producers heard from just now: a fifth is refused
            // until they have been idle for the floor (here producer_idle, 1 s).
            if round == 0 {
                let refused = try BinaryRunner.run(
                    "vigie",
                    arguments: ["push", "churn", "1"] + daemon.endpointArguments
                )
                #expect(refused.status == 76, "\(refused.stdout)\(refused.stderr)")
                #expect(refused.stderr.contains("too many producers"), "\(refused.stderr)")
            }
            usleep(1_100_000)
        }
        #expect(accepted == 16)
        let stats = try Self.stats(daemon)
        #expect(stats["producers_evicted"] as? Int ?? 0 >= 12, "\(stats)")
        #expect(stats["samples_accepted"] as? Int == 16, "\(stats)")
        #expect(daemon.stop().status == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aForgottenProducerThatComesBackIsAppliedAndSurvivesARestart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-churn-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try DaemonProcess(kpis: Self.kpis, directory: directory)
        func push(_ sequence: Int) throws -> BinaryRunResult {
            try BinaryRunner.run(
                "vigie",
                arguments: ["push", "churn", "1", "--producer", "cron", "--sequence", "\(sequence)"]
                    + daemon.endpointArguments
            )
        }
        #expect(try push(5).status == 0)
        let resend = try push(5)
        #expect((resend.stdout + resend.stderr).contains("duplicate"), "a resend within the window is a duplicate")
        // Idle past producer_idle, then four others fill the table: "cron" is forgotten.
        usleep(1_200_000)
        for _ in 0..<4 {
            #expect(
                try BinaryRunner.run("vigie", arguments: ["push", "churn", "1"] + daemon.endpointArguments).status == 0
            )
        }
        // Back with the same number once the table has room again (the one-shots idle
        // past the horizon): a new window, so a new batch, applied; both are in the log.
        usleep(1_100_000)
        let back = try push(5)
        #expect(back.status == 0)
        #expect(!(back.stdout + back.stderr).contains("duplicate"), "\(back.stdout)")
        #expect(daemon.stop(signal: SIGKILL).status != 0)
        // The log holds both cron batches: replay applies both, whatever the window says.
        let again = try DaemonProcess(kpis: Self.kpis, directory: directory, endpoints: daemon.endpoints)
        let stats = try Self.stats(again)
        #expect(stats["samples_replayed"] as? Int == 6, "\(stats)")
        let status = try BinaryRunner.run("vigie", arguments: ["status", "--json"] + again.endpointArguments)
        #expect(status.stdout.contains(#""value":6"#), "\(status.stdout)")
        #expect(again.stop().status == 0)
    }
}
