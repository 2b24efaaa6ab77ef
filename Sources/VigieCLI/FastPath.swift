import ArgumentParser

extension VigieCommand {
    /// Runs `vigie push …` without building the whole command tree: scripts call it once
    /// per sample and ArgumentParser's full-tree pass (completion and help lookups over
    /// every subcommand) is a third of the process's time. Only the plain case takes this
    /// path: help requests and anything `PushCommand` alone cannot parse return false,
    /// and the caller goes through ``main()`` so messages and exit codes are the same.
    ///
    /// - Returns: false if the arguments are not a plain `push`; otherwise never returns
    ///   (exits with the command's status).
    public static func runPushFastPath(_ arguments: [String]) -> Bool {
        guard arguments.first == PushCommand.configuration.commandName else { return false }
        let rest = Array(arguments.dropFirst())
        let helpFlags: Set<String> = ["-h", "--help", "-help", "--generate-completion-script"]
        guard !rest.contains(where: { helpFlags.contains($0) }),
            let push = try? PushCommand.parse(rest)
        else { return false }
        do {
            try push.run()
        } catch {
            exit(withError: error)
        }
        exit()
    }
}
