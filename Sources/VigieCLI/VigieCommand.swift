import ArgumentParser

/// The `vigie` command-line tool: the root command that holds every subcommand.
public struct VigieCommand: AsyncParsableCommand {
    /// Name, abstract and subcommands of `vigie`.
    public static let configuration = CommandConfiguration(
        commandName: "vigie",
        abstract: "Push samples to vigied, watch KPIs and alerts, and check line protocol.",
        subcommands: [ParseCommand.self]
    )

    /// Creates the root command (ArgumentParser fills it in).
    public init() {}
}
