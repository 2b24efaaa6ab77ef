import VigieCLI

/// Inside an `async` function the compiler picks `AsyncParsableCommand.main()`; at top level it would pick the
/// synchronous `ParsableCommand.main()`, which cannot run async subcommands.
func runVigie() async {
    await VigieCommand.main()
}

if !VigieCommand.runPushFastPath(Array(CommandLine.arguments.dropFirst())) {
    await runVigie()
}
