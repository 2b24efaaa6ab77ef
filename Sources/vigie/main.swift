// Temporary root for the `config` branch: the integrator replaces this file with the
// `VigieCommand` root from VigieCLI, which lists CheckConfigCommand among its subcommands.
import ArgumentParser
import VigieCLI

struct Vigie: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigie",
        abstract: "Vigie command-line client.",
        subcommands: [CheckConfigCommand.self]
    )
}

Vigie.main()
