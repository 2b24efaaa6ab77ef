import ArgumentParser

extension VigieCommand {
    /// Runs `vigie push …` without ArgumentParser: scripts call it once per sample, and
    /// ArgumentParser's parse (reflection over the command's properties, protocol
    /// conformance lookups across the whole binary) was most of the process's CPU time.
    /// Only the forms ``PushRequest/init(fastArguments:)`` reads exactly as
    /// ArgumentParser would take this path; help requests and anything else return false,
    /// and the caller goes through ``main()`` so messages and exit codes are the same.
    ///
    /// - Returns: false if the arguments are not a plain `push`; otherwise never returns
    ///   (exits with the command's status).
    public static func runPushFastPath(_ arguments: [String]) -> Bool {
        guard arguments.first == PushCommand.configuration.commandName,
            let request = PushRequest(fastArguments: Array(arguments.dropFirst()))
        else { return false }
        do {
            try request.run(terminatesContext: false)
        } catch {
            exit(withError: error)
        }
        exit()
    }
}
