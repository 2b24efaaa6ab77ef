import Foundation
import Testing
import VigieCore
import VigieTesting

/// `make stage` (the install step of `make install`) and `make deb-package` (of `make
/// deb`), run on the built binaries into temporary directories; the package is then
/// installed, upgraded, removed and purged by dpkg in throwaway roots, never on this machine.
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

    /// A command of these tests that failed, with what it printed.
    struct CommandError: Error, CustomStringConvertible {
        var command: String
        var result: BinaryRunResult

        var description: String { "\(command) exited \(result.status):\n\(result.stdout)\(result.stderr)" }
    }

    /// The path of the package `make deb-package` makes of the binaries under test, built once for the
    /// suite into `.build/install-tests` (uncompressed: xz would take long on the large debug binaries).
    static let package = Result { () throws -> String in
        let output = VigieBinary.packageRoot.appendingPathComponent(".build/install-tests")
        let run = try make(["deb-package", "DEB_DIR=\(output.path)", "DEB_COMPRESSION=none"])
        guard run.status == 0 else { throw CommandError(command: "make deb-package", result: run) }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The files of this machine that installing a package for real would change: the tests compare them
    /// before and after, to prove the package was only ever installed into throwaway roots.
    static func hostFiles() -> [String: Data] {
        let paths = ["/etc/passwd", "/etc/group", "/etc/shadow", "/var/lib/dpkg/status", "/var/log/dpkg.log"]
        return paths.reduce(into: [:]) { files, path in files[path] = FileManager.default.contents(atPath: path) }
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

    @Test func debPackageDependsOnWhatTheBinariesLinkAndCarriesItsScripts() throws {
        let deb = try Self.package.get()
        #expect(deb.hasSuffix(".deb") && FileManager.default.fileExists(atPath: deb), "\(deb)")
        let info = try BinaryRunner.run("/usr/bin/dpkg-deb", arguments: ["--info", deb])
        #expect(info.stdout.contains("Package: vigie"))
        #expect(info.stdout.contains("Version: \(VigieVersion.string)"))
        // Depends is dpkg-shlibdeps's reading of the binaries, plus adduser for the postinst.
        let depends = try BinaryRunner.run("/usr/bin/dpkg-deb", arguments: ["--field", deb, "Depends"]).stdout
        let packages = depends.split(separator: ",").map { $0.split(whereSeparator: \.isWhitespace).first ?? "" }
        for package in ["libc6", "libstdc++6", "libgcc-s1", "libzmq5", "adduser"] {
            #expect(packages.contains { $0 == package }, "Depends: \(depends)")
        }
        #expect(!depends.contains("libcurl") && !depends.contains("${"), "Depends: \(depends)")
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
        // Every file under /etc is a conffile, as debhelper makes them.
        let collectors = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/config/collectors")
        let examples = collectors.map { "/etc/vigie/collectors/\($0)" }
        let expected = ["/etc/vigie/vigie.toml", "/etc/vigie/agent.toml"] + examples
        let conffiles = try String(contentsOf: control.appendingPathComponent("conffiles"), encoding: .utf8)
        #expect(conffiles == expected.sorted().map { "\($0)\n" }.joined())
        for script in ["postinst", "prerm", "postrm"] {
            let path = control.appendingPathComponent(script).path
            #expect(FileManager.default.isExecutableFile(atPath: path), "\(script)")
        }
        let postinst = try String(contentsOf: control.appendingPathComponent("postinst"), encoding: .utf8)
        #expect(postinst.contains("adduser --system --group"))
        #expect(!postinst.contains("systemctl enable") && !postinst.contains("systemctl start"))
    }

    /// Installs, upgrades, removes and purges the package with `dpkg --root` into a freshly initialised
    /// root, its maintainer scripts run unchrooted with `DPKG_ROOT` set (Debian's convention for them to
    /// act on that root alone). The evidence that each script did its part is left in the root.
    @Test(.enabled(if: getuid() == 0, "dpkg --root needs root"))
    func packageInstallsUpgradesRemovesAndPurgesInAThrowawayRoot() throws {
        let deb = try Self.package.get()
        let host = Self.hostFiles()
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let files = FileManager.default
        func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
        func exists(_ relative: String) -> Bool { (try? files.attributesOfItem(atPath: path(relative))) != nil }
        func read(_ relative: String) -> String { (try? String(contentsOfFile: path(relative), encoding: .utf8)) ?? "" }
        func write(_ text: String, _ relative: String) throws {
            try files.createDirectory(
                atPath: (path(relative) as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try text.write(toFile: path(relative), atomically: false, encoding: .utf8)
        }
        func dpkg(_ arguments: [String]) throws {
            let options = ["--root=\(root.path)", "--log=\(path("var/log/dpkg.log"))", "--force-script-chrootless"]
            // The root has no libraries: the dependencies are checked by the systemd test below.
            let run = try BinaryRunner.run("/usr/bin/dpkg", arguments: options + ["--force-depends"] + arguments)
            if run.status != 0 { throw CommandError(command: "dpkg \(arguments.joined(separator: " "))", result: run) }
        }
        func status() throws -> String {
            let query = ["--admindir=\(path("var/lib/dpkg"))", "--show", "--showformat=${Status} ${Version}", "vigie"]
            return try BinaryRunner.run("/usr/bin/dpkg-query", arguments: query).stdout
        }
        func accounts() -> [Substring] { read("etc/passwd").split(separator: "\n").filter { $0.hasPrefix("vigie:") } }
        let version = VigieVersion.string
        let wants = "etc/systemd/system/multi-user.target.wants"
        let enabled = wants + "/vigied.service"

        // A fresh root: an empty dpkg database, and the accounts base-passwd gives a new system.
        for directory in ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/log"] {
            try files.createDirectory(atPath: path(directory), withIntermediateDirectories: true)
        }
        try write("", "var/lib/dpkg/status")
        try write("root:x:0:0:root:/root:/bin/bash\n", "etc/passwd")
        try write("root:*:19000:0:99999:7:::\n", "etc/shadow")
        try write("root:x:0:\n", "etc/group")
        try write("root:*::\n", "etc/gshadow")

        // Install: files in place; the postinst made the system user; nothing enabled.
        try dpkg(["--install", deb])
        #expect(try status() == "install ok installed \(version)")
        for binary in ["vigied", "vigie", "vigie-agent"] {
            #expect(files.isExecutableFile(atPath: path("usr/bin/\(binary)")), "\(binary)")
        }
        for file in [
            "lib/systemd/system/vigied.service", "lib/systemd/system/vigie-agent.service", "etc/vigie/vigie.toml",
            "etc/vigie/agent.toml", "usr/share/man/man1/vigie.1.gz", "var/lib/dpkg/info/vigie.prerm",
        ] {
            #expect(exists(file), "missing \(file)")
        }
        #expect(accounts().count == 1 && accounts().first?.hasSuffix(":/var/lib/vigie:/usr/sbin/nologin") == true)
        #expect(read("etc/group").contains("\nvigie:"))
        #expect(!exists(enabled))

        // What the administrator and the daemons then do: enable vigied, edit its config, keep state and logs.
        try files.createDirectory(atPath: path(wants), withIntermediateDirectories: true)
        try files.createSymbolicLink(atPath: path(enabled), withDestinationPath: "/lib/systemd/system/vigied.service")
        try write(read("etc/vigie/vigie.toml") + "# the city's own\n", "etc/vigie/vigie.toml")
        try write("log\n", "var/lib/vigie/wal/00000001.log")
        try write("spool\n", "var/lib/private/vigie-agent/spool/00000001")
        try write("notified\n", "var/log/vigie/notifier.log")
        try files.createSymbolicLink(atPath: path("var/lib/vigie-agent"), withDestinationPath: "private/vigie-agent")

        // Upgrade (the same package again: prerm upgrade, postinst configure <old version>): vigied stays
        // enabled, the edited config and the state stay, and the user is not made twice.
        try dpkg(["--install", deb])
        #expect(try status() == "install ok installed \(version)")
        #expect(read("var/log/dpkg.log").contains(" upgrade vigie:"))
        #expect(exists(enabled), "prerm upgrade disabled vigied")
        #expect(read("etc/vigie/vigie.toml").hasSuffix("# the city's own\n"))
        #expect(accounts().count == 1)
        #expect(exists("var/lib/vigie/wal/00000001.log"))

        // Remove: the prerm disabled vigied; programs and units gone; conffiles, state and logs kept.
        try dpkg(["--remove", "vigie"])
        #expect(try status() == "deinstall ok config-files \(version)")
        #expect(!exists(enabled), "prerm remove left vigied enabled")
        for file in ["usr/bin/vigied", "usr/bin/vigie", "lib/systemd/system/vigied.service"] {
            #expect(!exists(file), "\(file) left after remove")
        }
        #expect(read("etc/vigie/vigie.toml").hasSuffix("# the city's own\n"))
        #expect(exists("etc/vigie/agent.toml"))
        for file in [
            "var/lib/vigie/wal/00000001.log", "var/lib/vigie-agent/spool/00000001", "var/log/vigie/notifier.log",
        ] {
            #expect(exists(file), "\(file) deleted by remove")
        }

        // Purge: conffiles gone, and the postrm deleted the state and the logs; the user stays.
        try dpkg(["--purge", "vigie"])
        #expect(try status() == "")
        for file in [
            "etc/vigie", "var/lib/vigie", "var/lib/vigie-agent", "var/lib/private/vigie-agent", "var/log/vigie",
        ] {
            #expect(!exists(file), "\(file) left after purge")
        }
        #expect(accounts().count == 1)

        #expect(Self.hostFiles() == host, "the host's accounts or dpkg database changed")
    }

    /// The maintainer scripts' systemd side, where systemd runs: dpkg installs, upgrades, removes and purges
    /// the package chrooted into an overlay of this machine (writes to a tmpfs, in a private mount
    /// namespace) where systemctl only logs what it is asked (`Resources/deb-systemd-lifecycle.sh`).
    @Test(.enabled(if: getuid() == 0, "mounts an overlay in a private mount namespace"))
    func maintainerScriptsDriveSystemdAsDhInstallsystemdDoes() throws {
        let deb = try Self.package.get()
        let host = Self.hostFiles()
        let work = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let script = Self.root + "/Tests/EndToEndTests/Resources/deb-systemd-lifecycle.sh"
        let run = try BinaryRunner.run("/bin/bash", arguments: [script, deb, work.path], timeout: 120)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let units = "vigied.service vigie-agent.service"
        let calls = """
            == install
            systemctl --system daemon-reload
            == upgrade
            systemctl --system daemon-reload
            systemctl try-restart \(units)
            == remove
            systemctl stop \(units)
            systemctl disable \(units)
            systemctl --system daemon-reload
            == purge
            systemctl --system daemon-reload
            == user

            """
        #expect(run.stdout.hasPrefix(calls), "\(run.stdout)")
        let user = run.stdout.dropFirst(calls.count).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(user.hasPrefix("vigie:x:") && user.hasSuffix(":/var/lib/vigie:/usr/sbin/nologin"), "\(user)")
        #expect(Self.hostFiles() == host, "the host's accounts or dpkg database changed")
    }
}
