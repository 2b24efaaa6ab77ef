import Foundation
import Testing
import VigieCore
import VigieTesting
import ZeroMQ

@Suite("Write-ahead log through the daemon")
struct DurabilityTests {
    private func kpiValue(_ h: DaemonHarness, _ kpi: String, site: String? = nil) throws -> Double? {
        let snapshot = try h.control(#"{"op":"snapshot"}"#)
        let values = (snapshot["kpis"] as? [[String: Any]]) ?? []
        let match = values.first { value in
            guard value["kpi"] as? String == kpi else { return false }
            guard let site else { return true }
            return (value["group"] as? [String: String])?["site"] == site
        }
        return match?["value"] as? Double
    }

    @Test func acknowledgedSamplesSurviveARestart() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-dur-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let first = try DaemonHarness(toml: waitKPIs, stateDirectory: state)
        let s = try first.ingestSocket()
        for seq in 1...20 {
            try s.sendPush(
                producer: "restart",
                sequence: String(seq),
                payloads: ["guichet_attente,service=etat-civil,site=centre value=\(seq)\n"]
            )
        }
        for _ in 1...20 { #expect(try nextReply(s, timeout: 5_000).command == "ACK") }
        s.close(linger: 0)
        // An operator action is logged too.
        let silence = try first.control(#"{"op":"silence","matchers":["rule=x"],"for":"2h","by":"ana"}"#)
        #expect(silence["ok"] as? Bool == true)
        await first.stop()

        let second = try DaemonHarness(toml: waitKPIs, stateDirectory: state)
        #expect(try kpiValue(second, "attente.count") == 20)
        #expect(try kpiValue(second, "attente.mean", site: "centre") == 10.5)
        // A clean stop leaves a checkpoint of everything: nothing to replay.
        let stats = try second.control(#"{"op":"stats"}"#)
        #expect(stats["records_replayed"] as? Int == 0)
        let wal = try #require(stats["wal"] as? [String: Any])
        #expect((wal["restored_checkpoint_lsn"] as? Int ?? 0) > 0)
        let alerts = try second.control(#"{"op":"alerts"}"#)
        let silences = (alerts["silences"] as? [[String: Any]]) ?? []
        #expect(silences.map { $0["created_by"] as? String } == ["ana"])
        // Exactly-once across the restart: a resent batch is a duplicate, a new one counts.
        let t = try second.ingestSocket()
        try t.sendPush(producer: "restart", sequence: "20", payloads: ["guichet_attente value=99\n"])
        #expect(try nextReply(t, timeout: 5_000).body["duplicate"] as? Bool == true)
        try t.sendPush(producer: "restart", sequence: "21", payloads: ["guichet_attente value=99\n"])
        #expect(try nextReply(t, timeout: 5_000).body["duplicate"] as? Bool == false)
        try t.sendMultipart([Array("VGI1".utf8), Array("HELLO".utf8), Array("restart".utf8)])
        let welcome = try nextReply(t, timeout: 5_000)
        #expect(welcome.command == "WELCOME")
        #expect(welcome.rest.last == "21")
        t.close(linger: 0)
        #expect(try kpiValue(second, "attente.count") == 21)
        await second.stop()
    }

    @Test func periodicCheckpointsThenReplayOfTheLogAfterThem() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-ckp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let h = try DaemonHarness(toml: waitKPIs, stateDirectory: state) { config in
            config.daemon.checkpointInterval = 1_000_000_000
        }
        let s = try h.ingestSocket()
        for seq in 1...10 {
            try s.sendPush(producer: "ckp", sequence: String(seq), payloads: ["guichet_attente value=\(seq)\n"])
            #expect(try nextReply(s, timeout: 5_000).command == "ACK")
        }
        // Wait for a periodic checkpoint (the 1 s tick after the interval).
        var written = 0
        let deadline = Date().addingTimeInterval(10)
        while written == 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let wal = try h.control(#"{"op":"stats"}"#)["wal"] as? [String: Any]
            written = wal?["checkpoints_written"] as? Int ?? 0
        }
        #expect(written >= 1)
        for seq in 11...15 {
            try s.sendPush(producer: "ckp", sequence: String(seq), payloads: ["guichet_attente value=\(seq)\n"])
            #expect(try nextReply(s, timeout: 5_000).command == "ACK")
        }
        s.close(linger: 0)
        await h.stop()
        let files = try FileManager.default.contentsOfDirectory(atPath: state + "/checkpoints")
        #expect(files.filter { $0.hasSuffix(".checkpoint") }.count == 2, "\(files)")
        // Remove the shutdown checkpoint: the periodic one plus the log must give the same.
        let newest = try #require(files.filter { $0.hasSuffix(".checkpoint") }.sorted().last)
        try FileManager.default.removeItem(atPath: state + "/checkpoints/" + newest)
        let again = try DaemonHarness(toml: waitKPIs, stateDirectory: state)
        #expect(try kpiValue(again, "attente.count") == 15)
        let stats = try again.control(#"{"op":"stats"}"#)
        // Records after the periodic checkpoint (a second periodic one may have covered
        // some of the last five on a slow machine).
        let replayed = stats["records_replayed"] as? Int ?? -1
        #expect(replayed >= 1 && replayed <= 5, "\(replayed) records replayed")
        await again.stop()
    }

    @Test func fullDiskRefusesIngestWithERRAndRecoversWhenSpaceReturns() async throws {
        let mount = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-full-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mount) }
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mount]) == 0 else {
            Issue.record("cannot mount a tmpfs here (not root?): the full-disk path is untested")
            return
        }
        defer { _ = run("/bin/umount", ["-l", mount]) }
        let h = try DaemonHarness(toml: waitKPIs, stateDirectory: mount + "/state") { config in
            config.daemon.fsync = .always
        }
        let s = try h.ingestSocket()
        try s.sendPush(producer: "full", sequence: "1", payloads: ["guichet_attente value=1\n"])
        #expect(try nextReply(s, timeout: 5_000).command == "ACK")
        // Fill the file system.
        let filler = mount + "/filler"
        _ = run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k", "count=64"])
        let line = String(repeating: "guichet_attente value=2\n", count: 2_000)
        try s.sendPush(producer: "full", sequence: "2", payloads: [line])
        let refused = try nextReply(s, timeout: 5_000)
        #expect(refused.command == "ERR")
        #expect(refused.rest.last?.contains("disk full") == true, "\(refused.rest)")
        #expect(try kpiValue(h, "attente.count") == 1)
        try FileManager.default.removeItem(atPath: filler)
        try s.sendPush(producer: "full", sequence: "2", payloads: [line])
        let accepted = try nextReply(s, timeout: 5_000)
        #expect(accepted.command == "ACK")
        #expect(accepted.body["accepted"] as? Int == 2_000)
        s.close(linger: 0)
        let stats = try h.control(#"{"op":"stats"}"#)
        #expect(stats["batches_refused_storage"] as? Int == 1)
        await h.stop()
        // Everything acknowledged is in the log.
        let again = try DaemonHarness(toml: waitKPIs, stateDirectory: mount + "/state")
        #expect(try kpiValue(again, "attente.count") == 2_001)
        await again.stop()
    }

    private func run(_ path: String, _ arguments: [String]) -> Int32 {
        guard let child = try? ChildProcess(path: path, arguments: arguments) else { return -1 }
        return child.wait(timeout: 30) ?? -1
    }
}
