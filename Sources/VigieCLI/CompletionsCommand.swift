import ArgumentParser

/// `vigie completions SHELL`: the shell completion script for `vigie` (from the argument
/// parser, so it always matches the commands and options of this build).
public struct CompletionsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "completions",
        abstract: "Print the completion script for bash, zsh or fish.",
        discussion: """
            bash:  vigie completions bash > /etc/bash_completion.d/vigie
            zsh:   vigie completions zsh > "${fpath[1]}/_vigie"
            fish:  vigie completions fish > ~/.config/fish/completions/vigie.fish
            (make install and the .deb install all three.)
            """
    )

    @Argument(help: "bash, zsh or fish.")
    var shell: String

    public init() {}

    public func run() throws {
        guard let kind = CompletionShell(rawValue: shell) else {
            throw ValidationError("unknown shell '\(shell)': use bash, zsh or fish")
        }
        print(VigieCommand.completionScript(for: kind))
    }
}
