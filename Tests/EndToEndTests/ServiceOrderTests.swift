import Foundation
import Testing
import VigieTesting

/// vigied's background threads as services (`ServiceStack`): each runs under its own
/// name while the daemon runs, and they stop in reverse order of start.
@Suite("vigied background services (vigied binary)")
struct ServiceOrderTests {
    /// The names of `pid`'s threads, as the kernel knows them.
    static func threadNames(_ pid: pid_t) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { task in
            (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    @Test func everyServiceRunsUnderItsNameAndTheyStopInReverseOrderOfStart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-svc-\(UUID())")
        let keys = directory.appendingPathComponent("keys").path
        let authorized = directory.appendingPathComponent("authorized").path
        for path in [keys, authorized] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let keygen = try BinaryRunner.run("vigie", arguments: ["keygen", "vigied", "--directory", keys])
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let daemon = try DaemonProcess(
            kpis: """
                [security]
                curve = true
                secret_key_file = "\(keys)/vigied.key_secret"
                authorized_keys = "\(authorized)"

                [[kpi]]
                name = "attente"
                metric = "etat_civil.attente"
                aggregate = "count"
                window = "1h"

                [[notifier]]
                name = "journal-des-alertes"
                type = "exec"
                command = ["/bin/true"]
                """,
            directory: directory,
            arguments: ["--log-level", "debug"]
        )
        let expectedNames = [
            "vigie-engine", "vigie-zap", "vigie-wal-sync", "vigie-history", "vigie-history-q", "vigie-ckpt",
            "notify-journa/0",
        ]
        // Each thread names itself once it runs: give them a moment.
        var names = Self.threadNames(daemon.pid)
        let deadline = Date().addingTimeInterval(5)
        while !Set(expectedNames).isSubset(of: names), Date() < deadline {
            usleep(20_000)
            names = Self.threadNames(daemon.pid)
        }
        for expected in expectedNames {
            #expect(names.contains(expected), "\(expected) not among \(names.sorted())")
        }
        let stop = daemon.stop()
        #expect(stop.status == 0, "\(daemon.log)")
        let stopped = daemon.log.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("service stopped"), let range = line.range(of: "service=") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        #expect(stopped == ["checkpoint writer", "history", "write-ahead log", "notifiers", "zap"], "\(daemon.log)")
    }
}
