import Foundation
import Testing
import VigieTesting

#if canImport(Glibc)
import Glibc
#endif

/// A stand-in for systemd's notification socket: an `AF_UNIX` datagram socket the test
/// binds (in a directory of its own, removed with it) and reads, as systemd does for
/// `Type=notify` services.
final class NotifySocket {
    let path: String
    private let directory: URL
    private let fd: Int32
    private(set) var received: [String] = []
    /// When each of `received` arrived.
    private(set) var arrivals: [Date] = []

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-notify-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("notify.sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else { throw HarnessError("bind \(path): \(errno)") }
    }

    deinit {
        close(fd)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Reads datagrams for `seconds`, or until one contains `until`.
    @discardableResult
    func collect(for seconds: Double, until: String? = nil) -> [String] {
        let end = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while Date() < end {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { continue }
            let message = String(decoding: buffer[0..<n], as: UTF8.self)
            received.append(message)
            arrivals.append(Date())
            if let until, message.contains(until) { break }
        }
        return received
    }
}

@Suite("systemd notify protocol (vigied binary)")
struct SystemdNotifyTests {
    static let kpis = """
        [[kpi]]
        name = "attente.mean"
        metric = "guichet_attente"
        aggregate = "mean"
        window = "1m"
        """

    @Test func readyWatchdogStatusThenStopping() throws {
        let notify = try NotifySocket()
        let daemon = try DaemonProcess(
            kpis: Self.kpis,
            daemonSettings: #"heartbeat_interval = "200ms""#,
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000", "JOURNAL_STREAM": "8:12345"]
        )
        // Under the journal, log lines carry their syslog priority.
        #expect(daemon.log.contains("<6>vigied ready endpoints="), "\(daemon.log)")
        // The ready line was printed, so READY=1 is on its way or there.
        notify.collect(for: 1.5)
        let first = try #require(notify.received.first { !$0.hasPrefix("WATCHDOG=1") })
        #expect(first.hasPrefix("READY=1\n"), "\(notify.received)")
        #expect(first.contains("STATUS=ready: ingest="))
        // Pinged every 100 ms (half of WATCHDOG_USEC): at least 8 in 1.5 s, allowing for a
        // loaded CI machine; none before READY=1 matters to systemd, so none is checked.
        let pings = notify.received.filter { $0 == "WATCHDOG=1" }.count
        #expect(pings >= 8, "\(pings) pings: \(notify.received)")
        let status = notify.received.last { $0.hasPrefix("STATUS=") && $0.contains("samples/s") }
        #expect(status?.contains("alerts firing") == true, "\(notify.received)")

        // SIGHUP: RELOADING=1 with the monotonic time, then READY=1 again.
        let before = notify.received.count
        daemon.send(SIGHUP)
        notify.collect(for: 3, until: "STATUS=reloaded")
        let reload = notify.received.dropFirst(before).filter { $0 != "WATCHDOG=1" }
        let reloading = reload.firstIndex { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") }
        let ready = reload.firstIndex { $0.hasPrefix("READY=1\nSTATUS=reloaded") }
        #expect(reloading != nil && ready != nil && reloading! < ready!, "\(reload)")

        let stop = daemon.stop()
        #expect(stop.status == 0)
        notify.collect(for: 0.5, until: "STOPPING=1")
        #expect(notify.received.contains { $0.hasPrefix("STOPPING=1") }, "\(notify.received.suffix(3))")
    }

    @Test func aWatchdogMeantForAnotherProcessIsNotPinged() throws {
        // systemd sets WATCHDOG_PID to the main process; a child that inherited the
        // variables (or a daemon started by a wrapper) must not answer for it.
        let notify = try NotifySocket()
        let daemon = try DaemonProcess(
            kpis: Self.kpis,
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"]
        )
        notify.collect(for: 0.6)
        daemon.stop()
        #expect(notify.received.contains { $0.hasPrefix("READY=1") })
        #expect(!notify.received.contains("WATCHDOG=1"), "\(notify.received)")
    }

    @Test func theAgentNotifiesReadyWatchdogAndStopping() throws {
        let notify = try NotifySocket()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-agent-notify-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("agent.toml").path
        try """
        [agent]
        name = "notify"
        upstream = "tcp://127.0.0.1:1"

        [spool]
        directory = "\(directory.appendingPathComponent("spool").path)"

        [listen]
        ingest = ["tcp://127.0.0.1:*"]
        push = []
        control = ["tcp://127.0.0.1:*"]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("agent.log").path
        let agent = try AgentEndToEndTests.AgentProcess(
            config: config,
            log: log,
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000", "JOURNAL_STREAM": "8:1"]
        )
        notify.collect(for: 1.0)
        #expect(notify.received.first { $0.hasPrefix("READY=1") }?.contains("STATUS=ready: ingest=tcp://") == true)
        #expect(notify.received.filter { $0 == "WATCHDOG=1" }.count >= 5, "\(notify.received)")
        agent.stop()
        notify.collect(for: 0.5, until: "STOPPING=1")
        #expect(notify.received.contains { $0.hasPrefix("STOPPING=1") })
        // Its log lines carry journal priorities too.
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("<") }, "\(text)")
    }

    /// A shared object that blocks the engine thread (named `vigie-engine`) for 2.5 s in
    /// its next `zmq_poll` once the file named by `VIGIE_FREEZE_TRIGGER` exists (and
    /// removes it: one freeze): a stuck engine, which nothing else here can cause and
    /// which vigied itself has no way to ask for.
    static func freezeShim(in directory: URL) throws -> String {
        let source = directory.appendingPathComponent("freeze.c").path
        let library = directory.appendingPathComponent("freeze.so").path
        try """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <pthread.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        int zmq_poll(void *items, int count, long timeout) {
            const char *trigger = getenv("VIGIE_FREEZE_TRIGGER");
            char name[16] = {0};
            pthread_getname_np(pthread_self(), name, sizeof name);
            if (trigger && strcmp(name, "vigie-engine") == 0 && unlink(trigger) == 0) usleep(2500000);
            int (*real)(void *, int, long) = (int (*)(void *, int, long))dlsym(RTLD_NEXT, "zmq_poll");
            return real(items, count, timeout);
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let build = try BinaryRunner.run(
            "/bin/sh",
            arguments: [
                "-c",
                "clang -shared -fPIC -o '\(library)' '\(source)' -ldl -lpthread "
                    + "|| cc -shared -fPIC -o '\(library)' '\(source)' -ldl -lpthread",
            ],
            timeout: 60
        )
        #expect(build.status == 0, "\(build.stderr)")
        return library
    }

    @Test func aFrozenEngineStopsThePings() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigie-freeze-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let shim = try Self.freezeShim(in: directory)
        let trigger = directory.appendingPathComponent("freeze-now").path
        let notify = try NotifySocket()
        let daemon = try DaemonProcess(
            kpis: Self.kpis,
            environment: [
                "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000", "LD_PRELOAD": shim,
                "VIGIE_FREEZE_TRIGGER": trigger,
            ]
        )
        notify.collect(for: 0.5)
        // Freeze the engine thread for 2.5 s, then watch long enough to see the gap and
        // the pings come back.
        #expect(FileManager.default.createFile(atPath: trigger, contents: nil))
        // Read the datagrams as they come (their arrival times are the evidence).
        let deadline = Date().addingTimeInterval(20)
        while FileManager.default.fileExists(atPath: trigger) && Date() < deadline {
            notify.collect(for: 0.05)
        }
        #expect(!FileManager.default.fileExists(atPath: trigger), "the engine thread never polled")
        notify.collect(for: 3.5)
        let pings = zip(notify.received, notify.arrivals).filter { $0.0 == "WATCHDOG=1" }.map(\.1)
        let gaps = zip(pings, pings.dropFirst()).map { $1.timeIntervalSince($0) }
        // Every 100 ms normally; nothing for the frozen 2.5 s.
        #expect((gaps.max() ?? 0) >= 2.0, "largest gap between pings: \(gaps.max() ?? 0) s")
        let last = try #require(pings.last)
        #expect(last > Date().addingTimeInterval(-0.9), "the pings come back after the freeze")
        #expect(daemon.stop().status == 0)
    }
}
