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
        defer { _ = Self.tmux(["-L", session, "kill-server"]) }

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
        let updated = Self.waitForScreen(session, timeout: 10) { $0.contains("35.50 min") }
        #expect(updated.contains("35.50 min"), "\(updated)")

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tmux")
        process.arguments = ["-L", session, "capture-pane", "-p", "-t", session]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "" }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @discardableResult
    static func tmux(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tmux")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
