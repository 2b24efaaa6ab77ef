import ArgumentParser
import Foundation
import VigieConfig
import VigieCore

/// `vigie check-config FILE`: validates a configuration file the way `vigied` (or
/// `vigie agent`, for a file with an `[agent]` table or with `--agent`) will.
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
            file is valid, 1 otherwise. A file with an [agent] table (or any file with \
            --agent) is checked as a `vigie agent` configuration.
            """
    )

    /// The TOML file to check.
    @Argument(help: "The configuration file (vigied reads /etc/vigie/vigie.toml by default).")
    public var file: String

    /// Also list every KPI on success.
    @Flag(name: .shortAndLong, help: "On success, also list each KPI: name, aggregate, window and title.")
    public var verbose = false

    /// Check FILE as an agent configuration even without an `[agent]` table.
    @Flag(help: "Check FILE as a `vigie agent` configuration (implied by an [agent] table).")
    public var agent = false

    /// Creates the command with no arguments set; ArgumentParser fills them in.
    public init() {}

    /// Checks `file`, printing the summary or the errors.
    public func run() throws {
        if agent || isAgentFile() {
            let configuration: AgentConfiguration
            do {
                configuration = try ConfigLoader.loadAgent(path: file)
            } catch let failure as ConfigErrors {
                try fail(failure)
            }
            print(Self.summary(of: configuration, file: file))
            if verbose {
                for collector in configuration.collectors { print("  \(collector.name)  \(Self.describe(collector))") }
            }
            return
        }
        let configuration: VigieConfiguration
        do {
            configuration = try ConfigLoader.load(path: file)
        } catch let failure as ConfigErrors {
            try fail(failure)
        }
        print(Self.summary(of: configuration, file: file))
        for warning in configuration.warnings {
            FileHandle.standardError.write(Data("\(file): warning: \(warning)\n".utf8))
        }
        if verbose {
            for kpi in configuration.kpis {
                print("  \(kpi.name)  \(kpi.aggregate.name)  \(kpi.window.label)  \(kpi.title)")
            }
        }
    }

    /// Whether `file` is readable UTF-8 with an `[agent]` table.
    func isAgentFile() -> Bool {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
        else { return false }
        return ConfigLoader.isAgentConfiguration(text)
    }

    /// Prints every problem of `failure` on stderr and exits 1.
    func fail(_ failure: ConfigErrors) throws -> Never {
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

    /// `config/agent.toml: OK — agent etat-civil-mairie, 3 collectors, upstream tcp://127.0.0.1:7600`.
    public static func summary(of configuration: AgentConfiguration, file: String) -> String {
        let collectors = configuration.collectors.count
        return "\(file): OK — agent \(configuration.name), \(collectors) collector\(collectors == 1 ? "" : "s"), "
            + "upstream \(configuration.upstream)"
    }

    /// `exec every 5m: /etc/vigie/collectors/rdv-etat-civil.sh`.
    static func describe(_ collector: CollectorConfiguration) -> String {
        let every = "every \(DurationFormat.format(nanoseconds: collector.interval))"
        switch collector.kind {
        case .exec(let command, _): return "exec \(every): \(command.joined(separator: " "))"
        case .http(let url, _, _): return "http \(every): \(url)"
        case .file(let path, .lineProtocol): return "file \(every): \(path) (line protocol)"
        case .file(let path, .csv(let measurement, _, _, _, _)): return "file \(every): \(path) (csv → \(measurement))"
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
