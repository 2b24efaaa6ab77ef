import ArgumentParser
import Foundation
import VigieCore

/// `vigie reload`: have vigied re-read its configuration file (as `systemctl reload` does
/// with SIGHUP), and say what changed — or why the file was refused.
public struct ReloadCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-read vigied's configuration file; a file with errors is refused and the running one kept.",
        discussion: """
            KPIs whose definition is unchanged keep their windows and alert states; a \
            changed KPI starts empty; removed ones are dropped. Endpoints added to \
            [endpoints] are bound and removed ones closed; [daemon], [history] and [http] \
            changes take effect at the next restart (listed under "restart needed"). Exit status: 0 reloaded; 65 the file was refused (every error is \
            printed); 75 vigied is unreachable; 76 the request was refused (a read-only control endpoint).
            """
    )

    @Flag(help: "Print the control reply as JSON.")
    var json = false

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        let raw = try withControlClient(endpoints, command: "reload") {
            try $0.requestRaw(.reload, timeoutMilliseconds: 30_000)
        }
        let decoded = ControlReply.decode(ControlReply.Reload.self, from: raw)
        if case .failure(.notJSONObject) = decoded {
            FileHandle.standardError.write(Data("vigie reload: the reply is not a JSON object\n".utf8))
            throw ExitCode(76)
        }
        if json { print(String(decoding: raw, as: UTF8.self)) }
        switch decoded {
        case .success(let reply):
            if !json { print(Self.render(reply), terminator: "") }
        case .failure(.refused(let failure)):
            guard let errors = failure.errors else {
                // Refused before the file was read (e.g. a read-only control endpoint).
                FileHandle.standardError.write(Data("vigie reload: \(failure.error)\n".utf8))
                throw ExitCode(76)
            }
            var text = "vigie reload: configuration refused, vigied keeps running the previous one:\n"
            for error in errors { text += "  \(error)\n" }
            FileHandle.standardError.write(Data(text.utf8))
            throw ExitCode(65)
        case .failure(let error):
            FileHandle.standardError.write(Data("vigie reload: \(error)\n".utf8))
            throw ExitCode(76)
        }
    }

    static func render(_ reply: ControlReply.Reload) -> String {
        var out = "reloaded \(reply.file)\n"
        for (names, key, label) in [
            (reply.kpis.kept, "kept", "KPIs kept (windows and alert states carried over)"),
            (reply.kpis.restarted, "restarted", "KPIs changed (start empty)"),
            (reply.kpis.added, "added", "KPIs added"), (reply.kpis.removed, "removed", "KPIs removed"),
        ] {
            guard !names.isEmpty else { continue }
            // Kept KPIs are the usual case: a count; the others by name.
            out += "  \(label): \(key == "kept" ? "\(names.count)" : names.joined(separator: ", "))\n"
        }
        out += "  alert rules: \(reply.rules)"
        out += (reply.notifiersReplaced ? ", notifiers replaced" : "") + "\n"
        for change in reply.endpoints { out += "  \(change)\n" }
        if !reply.needsRestart.isEmpty {
            out +=
                "  restart needed for: \(reply.needsRestart.joined(separator: " ")) (changed in the file, not applied)\n"
        }
        return out
    }
}
