import Foundation
import Testing
import VigieCore
import VigieTesting

/// Drives `vigie watch` in a real terminal (tmux), the way a person sees it.
@Suite("vigie watch in a terminal")
struct WatchTerminalTests {
    @Test func liveTableThenUnreachableBanner() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is missing: run `make deps`")
        let daemon = try DaemonProcess(kpis: e2eKPIs)
        let session = "vigie-watch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let vigie = BinaryRunner.locate("vigie").path
        let command = ([vigie, "watch"] + daemon.endpointArguments).joined(separator: " ")
        // A private tmux server (-L): no interference with any other tmux on the machine.
        #expect(Self.tmux(["-L", session, "new-session", "-d", "-s", session, "-x", "150", "-y", "30", command]) == 0)
        defer {
            _ = Self.tmux(["-L", session, "kill-server"])
            // tmux's server can outlive kill-server while its pane winds down: make sure.
            ChildProcess.run("/usr/bin/pkill", ["-KILL", "-f", "tmux -L \(session) "])
        }

        for (site, value) in [("centre", "12.5"), ("nord", "31")] {
            let push = try BinaryRunner.run(
                "vigie",
                arguments: ["push", "guichet_attente", value, "-t", "site=\(site)"] + daemon.endpointArguments
            )
            #expect(push.status == 0)
        }
        let table = Self.waitForScreen(session, timeout: 10) { $0.contains("31.00 min") && $0.contains("12.50 min") }
        #expect(table.contains("guichet.attente"), "\(table)")
        #expect(table.contains("site=nord"))
        #expect(table.contains("samples/s"))
        #expect(!table.contains("UNREACHABLE"))

        // A value pushed now replaces the old one in place.
        _ = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "guichet_attente", "40", "-t", "site=nord"] + daemon.endpointArguments
        )
        let updated = Self.waitForScreen(session, timeout: 10) { $0.contains("35.50 min") && $0.contains("FIRING") }
        #expect(updated.contains("35.50 min"), "\(updated)")
        // 35.5 is above the rule's 35: the alert shows under the table, the status is critical.
        #expect(updated.contains("FIRING  attente_longue — Attente de 35.5 min au site nord"), "\(updated)")
        #expect(updated.contains("CRITICAL"), "\(updated)")

        daemon.stop()
        let banner = Self.waitForScreen(session, timeout: 10) { $0.contains("UNREACHABLE") }
        #expect(banner.contains("DAEMON UNREACHABLE"), "\(banner)")
    }

    static func waitForScreen(_ session: String, timeout: Double, until: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = capture(session)
            if until(screen) { return screen }
            usleep(200_000)
        }
        return screen
    }

    static func capture(_ session: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(session).screen").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Copy the visible pane into a tmux buffer, then save the buffer to a file.
        _ = tmux(["-L", session, "capture-pane", "-t", session, "-b", "screen"])
        _ = tmux(["-L", session, "save-buffer", "-b", "screen", path])
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    @discardableResult
    static func tmux(_ arguments: [String]) -> Int32 {
        ChildProcess.run("/usr/bin/tmux", arguments, timeout: 10) ?? -1
    }
}
