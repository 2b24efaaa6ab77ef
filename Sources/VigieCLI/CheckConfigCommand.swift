import ArgumentParser
import Foundation
import VigieConfig
import VigieCore

/// `vigie check-config FILE`: validates a configuration file the way `vigied` will.
///
/// Prints a one-line summary and exits 0 when the file is valid; otherwise prints every
/// problem on stderr as `file:line: key: message`, each followed by an indented
/// `hint:` line, and exits 1.
public struct CheckConfigCommand: ParsableCommand {
    /// Name, abstract and discussion shown by `vigie help check-config`.
    public static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file and report every problem in it.",
        discussion: """
            Reads FILE as vigied would and lists all errors at once, each as \
            FILE:LINE: KEY: MESSAGE with a hint on the next line. Exit status 0 when the \
            file is valid, 1 otherwise.
            """
    )

    /// The TOML file to check.
    @Argument(help: "The configuration file (vigied reads /etc/vigie/vigie.toml by default).")
    public var file: String

    /// Also list every KPI on success.
    @Flag(name: .shortAndLong, help: "On success, also list each KPI: name, aggregate, window and title.")
    public var verbose = false

    /// Creates the command with no arguments set; ArgumentParser fills them in.
    public init() {}

    /// Checks `file`, printing the summary or the errors.
    public func run() throws {
        let configuration: VigieConfiguration
        do {
            configuration = try ConfigLoader.load(path: file)
        } catch let failure as ConfigErrors {
            var report = ""
            for error in failure.errors {
                report += error.headline + "\n"
                if let hint = error.hint { report += "    hint: \(hint)\n" }
            }
            let count = failure.errors.count
            report += "\(file): \(count) error\(count == 1 ? "" : "s")\n"
            FileHandle.standardError.write(Data(report.utf8))
            throw ExitCode(1)
        }
        print(Self.summary(of: configuration, file: file))
        if verbose {
            for kpi in configuration.kpis {
                print("  \(kpi.name)  \(kpi.aggregate.name)  \(kpi.window.label)  \(kpi.title)")
            }
        }
    }

    /// `config/vigie.toml: OK — 14 KPIs, 6 alert rules, 4 endpoints, timezone Pacific/Noumea`.
    public static func summary(of configuration: VigieConfiguration, file: String) -> String {
        let kpis = configuration.kpis.count
        let alerts = configuration.alerts.count
        let endpoints = configuration.endpoints.all.count
        return "\(file): OK — \(kpis) KPI\(kpis == 1 ? "" : "s"), \(alerts) alert rule\(alerts == 1 ? "" : "s"), "
            + "\(endpoints) endpoint\(endpoints == 1 ? "" : "s"), timezone \(configuration.daemon.timezone)"
    }
}
