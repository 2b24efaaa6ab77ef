import Foundation
import Testing
import VigieCore
import VigieTesting

/// `make stage` (the install step of `make install`) and `make deb-package` (of `make
/// deb`), run on the built binaries into temporary directories.
@Suite("make install and make deb")
struct InstallTests {
    static let root = VigieBinary.packageRoot.path

    static func make(_ arguments: [String]) throws -> BinaryRunResult {
        let binaries = BinaryRunner.binDirectory().path
        return try BinaryRunner.run(
            "/usr/bin/make",
            arguments: ["-s", "-C", root, "BIN_DIR=\(binaries)"] + arguments,
            timeout: 120
        )
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-install-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func stageInstallsEverythingAndKeepsAnExistingConfig() throws {
        let destination = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: destination) }
        let etc = destination.appendingPathComponent("etc/vigie")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        try "# the city's own\n".write(to: etc.appendingPathComponent("vigie.toml"), atomically: true, encoding: .utf8)

        let run = try Self.make(["stage", "DESTDIR=\(destination.path)", "PREFIX=/usr", "SYSCONFDIR=/etc"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("kept existing"))
        func path(_ relative: String) -> String { destination.appendingPathComponent(relative).path }
        for binary in ["vigied", "vigie", "vigie-agent"] {
            #expect(FileManager.default.isExecutableFile(atPath: path("usr/bin/\(binary)")))
            let man = try BinaryRunner.run("/bin/gzip", arguments: ["-dc", path("usr/share/man/man1/\(binary).1.gz")])
            #expect(man.stdout.hasPrefix(".TH \"\(binary.uppercased())\" 1"), "\(man.stdout.prefix(200))")
            #expect(man.stdout.contains(VigieVersion.string))
        }
        let manual = try BinaryRunner.run("/bin/gzip", arguments: ["-dc", path("usr/share/man/man1/vigie.1.gz")])
        #expect(manual.stdout.contains(".SS vigie reload"))
        #expect(try String(contentsOfFile: path("etc/vigie/vigie.toml"), encoding: .utf8) == "# the city's own\n")
        let agent = try String(contentsOfFile: path("etc/vigie/agent.toml"), encoding: .utf8)
        #expect(agent == (try String(contentsOfFile: Self.root + "/config/agent.toml", encoding: .utf8)))
        let unit = try String(contentsOfFile: path("lib/systemd/system/vigied.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/vigied --config /etc/vigie/vigie.toml"))
        let bash = try String(contentsOfFile: path("usr/share/bash-completion/completions/vigie"), encoding: .utf8)
        #expect(bash.contains("reload") && bash.contains("check-config"))
        #expect(FileManager.default.fileExists(atPath: path("usr/share/zsh/vendor-completions/_vigie")))
        #expect(FileManager.default.fileExists(atPath: path("usr/share/fish/vendor_completions.d/vigie.fish")))
        #expect(FileManager.default.fileExists(atPath: path("usr/share/doc/vigie/README.md")))
    }

    @Test func debPackageCarriesFilesConffilesAndTheUserScript() throws {
        let output = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        // Uncompressed: the debug binaries the tests use are large and xz would take long.
        let run = try Self.make(["deb-package", "DEB_DIR=\(output.path)", "DEB_COMPRESSION=none"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let deb = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix(".deb") && FileManager.default.fileExists(atPath: deb), "\(run.stdout)")
        let info = try BinaryRunner.run("/usr/bin/dpkg-deb", arguments: ["--info", deb])
        #expect(info.stdout.contains("Package: vigie"))
        #expect(info.stdout.contains("Version: \(VigieVersion.string)"))
        #expect(info.stdout.contains("Depends: libzmq5"))
        let contents = try BinaryRunner.run("/usr/bin/dpkg-deb", arguments: ["--contents", deb])
        for file in [
            "./usr/bin/vigied", "./usr/bin/vigie", "./usr/bin/vigie-agent", "./lib/systemd/system/vigied.service",
            "./lib/systemd/system/vigie-agent.service", "./etc/vigie/vigie.toml", "./usr/share/man/man1/vigied.1.gz",
        ] {
            #expect(contents.stdout.contains(file), "missing \(file)")
        }
        #expect(contents.stdout.contains("root/root"))
        let control = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: control) }
        #expect(try BinaryRunner.run("/usr/bin/dpkg-deb", arguments: ["--control", deb, control.path]).status == 0)
        let conffiles = try String(contentsOf: control.appendingPathComponent("conffiles"), encoding: .utf8)
        #expect(conffiles == "/etc/vigie/vigie.toml\n/etc/vigie/agent.toml\n")
        let postinst = try String(contentsOf: control.appendingPathComponent("postinst"), encoding: .utf8)
        #expect(postinst.contains("adduser --system --group"))
        #expect(!postinst.contains("systemctl enable"))
    }
}
