import Foundation
import Testing

/// Runs the built `vigie` binary: `$VIGIE_BIN_DIR/vigie`, else `<package>/.build/debug/vigie`.
enum VigieBinary {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var url: URL {
        if let dir = ProcessInfo.processInfo.environment["VIGIE_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir).appendingPathComponent("vigie")
        }
        return packageRoot.appendingPathComponent(".build/debug/vigie")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `vigie arguments…` to completion (it reads no input) and captures its output.
    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }
}

@Suite("vigie check-config")
struct CheckConfigTests {
    @Test func exampleConfigIsOK() throws {
        let result = try VigieBinary.run(["check-config", "config/vigie.toml"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.hasPrefix("config/vigie.toml: OK — "))
        #expect(result.stdout.contains(" alert rules, "))
        #expect(result.stdout.contains("timezone Pacific/Noumea"))
        #expect(result.stderr.isEmpty)
    }

    @Test func verboseListsKPIsWithFrenchTitles() throws {
        let result = try VigieBinary.run(["check-config", "--verbose", "config/vigie.toml"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("etat_civil.attente_p90  p90  1h  Attente au guichet état civil (p90)"))
    }

    @Test func badFileListsEveryErrorWithLineAndHint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("vigie.toml")
        try """
        [daemon]
        timezone = "Pacific/Noumé"

        [[kpi]]
        name = "etat_civil.attente_p90"
        metric = "guichet_attente"
        agregate = "p90"
        window = "1h"

        [[kpi]]
        name = "accueil.taux_decroche"
        aggregate = "ratio"
        numerator = { metric = "appels", field = "decroche" }
        window = "5 minutes"
        """.write(to: file, atomically: true, encoding: .utf8)

        let result = try VigieBinary.run(["check-config", file.path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let errorLines = lines.filter { $0.hasPrefix(file.path + ":") && !$0.hasPrefix(file.path + ": ") }
        #expect(
            errorLines == [
                "\(file.path):2: daemon.timezone: unknown time zone \"Pacific/Noumé\"",
                "\(file.path):7: kpi \"etat_civil.attente_p90\": agregate: unknown key in a [[kpi]] table",
                "\(file.path):10: kpi \"accueil.taux_decroche\": denominator: a ratio KPI needs denominator",
                "\(file.path):14: kpi \"accueil.taux_decroche\": window: \"5 minutes\" is not a window",
            ],
            "\(result.stderr)"
        )
        #expect(lines.contains("    hint: did you mean \"aggregate\"?"))
        #expect(lines.contains("    hint: did you mean \"Pacific/Noumea\"?"))
        #expect(lines.last == "\(file.path): 4 errors")
    }

    @Test func syntaxErrorGivesLineAndColumn() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigie-syntax-\(UUID().uuidString).toml"
        )
        defer { try? FileManager.default.removeItem(at: file) }
        try "[daemon]\nstate_dir = /var/lib/vigie\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try VigieBinary.run(["check-config", file.path])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("\(file.path):2:13: TOML syntax error"), "\(result.stderr)")
    }

    @Test func missingFileIsNamed() throws {
        let result = try VigieBinary.run(["check-config", "/nonexistent/vigie.toml"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("/nonexistent/vigie.toml: no such file"))
    }
}
