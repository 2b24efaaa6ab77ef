import Foundation
import Testing
import VigieStore
import VigieTesting

/// The edges of durability (issue 15, defect 8), through the real `vigied`: a failed
/// fdatasync stops it non-zero, what a crash left in the page cache is synced before it
/// counts, a new checkpoint directory's entry is synced, and a state that cannot be
/// rebuilt is refused rather than silently counted twice.
@Suite("Durability edges (real vigied)", .serialized)
struct DurabilityEdgesTests {
    static let kpis = """
        [[kpi]]
        name = "dur.count"
        metric = "dur"
        aggregate = "count"
        window = "7d"
        """

    /// `vigie push dur 1` as producer `p`, sequence `sequence`.
    static func push(_ daemon: DaemonProcess, sequence: Int, timeout: String = "5s") throws -> BinaryRunResult {
        try BinaryRunner.run(
            "vigie",
            arguments: ["push", "dur", "1", "--producer", "p", "--sequence", "\(sequence)", "--timeout", timeout]
                + daemon.endpointArguments
        )
    }

    /// dur.count's current value.
    static func count(_ daemon: DaemonProcess) throws -> Double? {
        let snapshot = try HostileControlTests.control(daemon.endpoints["control"] ?? "", #"{"op":"snapshot"}"#)
        let kpis = snapshot["kpis"] as? [[String: Any]] ?? []
        return kpis.first { $0["kpi"] as? String == "dur.count" }?["value"] as? Double
    }

    /// A shared object that makes `fdatasync` and `fsync` fail with EIO while the file
    /// named by `VIGIE_FAULT_TRIGGER` exists: a disk failing under a running daemon,
    /// which nothing else here can cause.
    static func faultShim(in directory: URL) throws -> String {
        let source = directory.appendingPathComponent("failsync.c").path
        let library = directory.appendingPathComponent("failsync.so").path
        try """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <errno.h>
        #include <stdlib.h>
        #include <unistd.h>
        static int failing(void) {
            const char *trigger = getenv("VIGIE_FAULT_TRIGGER");
            return trigger && access(trigger, F_OK) == 0;
        }
        int fdatasync(int fd) {
            if (failing()) { errno = EIO; return -1; }
            int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
            return real(fd);
        }
        int fsync(int fd) {
            if (failing()) { errno = EIO; return -1; }
            int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
            return real(fd);
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let build = try BinaryRunner.run(
            "/bin/sh",
            arguments: [
                "-c",
                "clang -shared -fPIC -o '\(library)' '\(source)' -ldl || cc -shared -fPIC -o '\(library)' '\(source)' -ldl",
            ],
            timeout: 60
        )
        #expect(build.status == 0, "\(build.stderr)")
        return library
    }

    @Test(.timeLimit(.minutes(2)))
    func aFailedSyncStopsVigiedNonZeroAndTheRestartLosesNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-dur-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let shim = try Self.faultShim(in: directory)
        let trigger = directory.appendingPathComponent("fail-now").path
        let daemon = try DaemonProcess(
            kpis: Self.kpis,
            directory: directory,
            daemonSettings: #"fsync = "always""#,
            environment: ["LD_PRELOAD": shim, "VIGIE_FAULT_TRIGGER": trigger]
        )
        #expect(try Self.push(daemon, sequence: 1).status == 0)

        // The disk fails: the batch is not acknowledged, and vigied does not linger
        // half-alive (feeding the watchdog, never acknowledging again): it exits 74.
        #expect(FileManager.default.createFile(atPath: trigger, contents: nil))
        let refused = try Self.push(daemon, sequence: 2, timeout: "3s")
        #expect(refused.status == 75, "\(refused.stdout) \(refused.stderr)")
        let status = daemon.waitForExit(timeout: 10)
        #expect(status == 74, "vigied exit status \(String(describing: status))\n\(daemon.log)")
        #expect(daemon.log.contains("write-ahead log sync failed"), "\(daemon.log)")

        // Restarted (the disk back), recovery replays the log: the acknowledged sample is
        // there, and the unacknowledged batch, resent, counts once.
        try FileManager.default.removeItem(atPath: trigger)
        let again = try DaemonProcess(kpis: Self.kpis, directory: directory, daemonSettings: #"fsync = "always""#)
        #expect(try Self.push(again, sequence: 2).status == 0)
        #expect(try Self.push(again, sequence: 2).stdout.contains("duplicate"))
        #expect(try Self.count(again) == 2)
        #expect(again.stop().status == 0)
    }

    /// Whether strace can trace here (ptrace may be forbidden in a container).
    static let canTrace: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/strace") else { return false }
        return ChildProcess.run("/usr/bin/strace", ["-o", "/dev/null", "/bin/true"]) == 0
    }()

    /// The system calls of a vigied recovering from SIGKILL under `fsync = "off"` (so its
    /// records are only in the page cache) and then stopping cleanly: the old segment is
    /// fdatasynced during recovery, and the checkpoint directory the stop creates has
    /// its entry synced in the state directory.
    @Test(.enabled(if: canTrace, "needs strace and ptrace"), .timeLimit(.minutes(2)))
    func recoverySyncsWhatACrashLeftAndANewCheckpointDirectoryIsSynced() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-dur-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let settings = #"fsync = "off""#
        let first = try DaemonProcess(kpis: Self.kpis, directory: directory, daemonSettings: settings)
        for sequence in 1...3 { #expect(try Self.push(first, sequence: sequence).status == 0) }
        #expect(first.stop(signal: SIGKILL).status == 128 + SIGKILL)
        let wal = directory.appendingPathComponent("state/wal").path
        let segments = try FileManager.default.contentsOfDirectory(atPath: wal).filter { $0.hasSuffix(".wal") }
        #expect(segments.count == 1, "\(segments)")
        let state = directory.appendingPathComponent("state").path
        #expect(!FileManager.default.fileExists(atPath: state + "/checkpoints"))

        let trace = directory.appendingPathComponent("strace.txt").path
        let traced = try DaemonProcess(
            kpis: Self.kpis,
            directory: directory,
            daemonSettings: settings,
            wrapper: ["/usr/bin/strace", "-f", "-e", "trace=openat,mkdir,fdatasync,fsync", "-o", trace]
        )
        #expect(try Self.count(traced) == 3)
        // Stop vigied itself (strace would kill it rather than pass the signal on).
        let children =
            (try? String(contentsOfFile: "/proc/\(traced.pid)/task/\(traced.pid)/children", encoding: .utf8))
            ?? ""
        let vigied = try #require(children.split(separator: " ").first.flatMap { pid_t($0) })
        #expect(kill(vigied, SIGTERM) == 0)
        #expect(traced.waitForExit(timeout: 20) != nil)

        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        var opened: [String: String] = [:]  // "pid fd" → path
        var synced: Set<String> = []
        var createdCheckpoints = false
        var stateSyncedAfter = false
        let segmentPath = wal + "/" + segments[0]
        for line in lines {
            let pid = line.prefix { $0 != " " }
            if line.contains("openat("), let path = line.split(separator: "\"").dropFirst().first,
                let fd = line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces), Int(fd) != nil
            {
                opened["\(pid) \(fd)"] = String(path)
            } else if line.contains("fdatasync(") || line.contains("fsync(") {
                guard line.hasSuffix("= 0"), let open = line.firstIndex(of: "("),
                    let close = line[open...].firstIndex(of: ")")
                else { continue }
                let fd = line[line.index(after: open)..<close]
                if let path = opened["\(pid) \(fd)"] {
                    synced.insert(path)
                    if createdCheckpoints && path == state { stateSyncedAfter = true }
                }
            } else if line.contains("mkdir(\"\(state)/checkpoints\"") && line.hasSuffix("= 0") {
                createdCheckpoints = true
            }
        }
        #expect(synced.contains(segmentPath), "the crashed run's segment was never synced: \(synced.sorted())")
        #expect(createdCheckpoints, "the clean stop created no checkpoint directory")
        #expect(stateSyncedAfter, "the state directory was not synced after checkpoints/ was created")
    }

    /// Every checkpoint unusable: with the whole log still there, vigied rebuilds from
    /// it (a resent batch is a duplicate); with the log pruned, it refuses to start
    /// unless told to accept the loss.
    @Test(.timeLimit(.minutes(2)))
    func unusableCheckpointsAreRebuiltFromTheLogOrRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-dur-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try DaemonProcess(kpis: Self.kpis, directory: directory)
        for sequence in 1...3 { #expect(try Self.push(first, sequence: sequence).status == 0) }
        #expect(first.stop().status == 0)
        let checkpoints = directory.appendingPathComponent("state/checkpoints").path
        func corruptCheckpoints() throws {
            let files = try FileManager.default.contentsOfDirectory(atPath: checkpoints)
            #expect(!files.isEmpty)
            for file in files {
                try Data(repeating: 0x5A, count: 64).write(to: URL(fileURLWithPath: checkpoints + "/" + file))
            }
        }
        try corruptCheckpoints()

        // The log starts at LSN 0: rebuilt from it, producers' numbers included.
        let rebuilt = try DaemonProcess(kpis: Self.kpis, directory: directory)
        #expect(try Self.count(rebuilt) == 3)
        #expect(try Self.push(rebuilt, sequence: 3).stdout.contains("duplicate"))
        #expect(rebuilt.stop().status == 0)

        // Checkpoints unusable and the log gone: refused, with the way out.
        try corruptCheckpoints()
        let wal = directory.appendingPathComponent("state/wal").path
        for file in try FileManager.default.contentsOfDirectory(atPath: wal) {
            try FileManager.default.removeItem(atPath: wal + "/" + file)
        }
        #expect(throws: (any Error).self) { try DaemonProcess(kpis: Self.kpis, readyTimeout: 10, directory: directory) }
        let log = try String(contentsOfFile: directory.appendingPathComponent("vigied.log").path, encoding: .utf8)
        #expect(log.contains("cannot be rebuilt"), "\(log)")
        #expect(log.contains("--accept-state-loss"), "\(log)")

        let accepted = try DaemonProcess(kpis: Self.kpis, directory: directory, arguments: ["--accept-state-loss"])
        #expect(accepted.log.contains("starting without the saved state"), "\(accepted.log)")
        #expect(accepted.stop().status == 0)
    }

    /// A log record whose producer id no vigied would write (empty: a forged or
    /// hand-edited log) is replayed without a window for it, so the checkpoint written
    /// at the next stop restores (FuzzWAL found the checkpoint refusing that id).
    @Test(.timeLimit(.minutes(2)))
    func aLoggedBatchWithAnImpossibleProducerIdStillRestarts() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-dur-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let wal = directory.appendingPathComponent("state/wal").path
        let writer = try WALWriter(directory: wal, startLSN: 0, syncPolicy: .always)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        try writer.append(
            kind: .ingest,
            receivedAt: now,
            sequence: 1,
            producer: [],
            frames: [Array("dur value=1".utf8)]
        )
        try writer.append(
            kind: .ingest,
            receivedAt: now,
            sequence: 1,
            producer: Array("p".utf8),
            frames: [Array("dur value=1".utf8)]
        )
        try writer.flush()
        try writer.close()

        let first = try DaemonProcess(kpis: Self.kpis, directory: directory)
        #expect(try Self.count(first) == 2)
        #expect(first.stop().status == 0)
        let second = try DaemonProcess(kpis: Self.kpis, directory: directory)
        #expect(try Self.count(second) == 2)
        #expect(!second.log.contains("checkpoint unusable"), "\(second.log)")
        #expect(try Self.push(second, sequence: 1).stdout.contains("duplicate"))
        #expect(second.stop().status == 0)
    }
}
