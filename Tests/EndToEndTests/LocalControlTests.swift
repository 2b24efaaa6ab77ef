import Foundation
import Testing
import VigieTesting

/// The local control socket: `ipc://` in a directory only the daemon's user and group
/// can enter (SECURITY.md).
@Suite("Local control over ipc (vigied binary)")
struct LocalControlTests {
    @Test(.timeLimit(.minutes(1)))
    func ipcControlSocketGetsAPrivateRuntimeDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-ipc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let runtime = directory.appendingPathComponent("run/vigie").path
        let endpoint = "ipc://\(runtime)/control.sock"
        let daemon = try DaemonProcess(kpis: "", directory: directory, endpoints: ["control": endpoint])
        defer { _ = daemon.stop() }
        let attributes = try FileManager.default.attributesOfItem(atPath: runtime)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o750)
        let status = try BinaryRunner.run("vigie", arguments: ["status", "--stats", "--json", "--control", endpoint])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("\"samples_accepted\":0"))
    }
}
