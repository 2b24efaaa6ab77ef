import Foundation

extension AgentConfiguration {
    /// The subdirectory of a `--state-dir` that holds the agent's ipc sockets.
    public static let runtimeSubdirectory = "run"

    /// Moves everything the agent writes under `directory` (`vigie agent --state-dir`),
    /// so that a normal user can run an agent whose file names `/var/lib` and `/run`:
    ///
    /// - `[spool] directory` becomes `directory` itself (spool segments in `spool/`,
    ///   `state.json`, dead letters, file collectors' offsets in `collectors/`), as the
    ///   unit's `/var/lib/vigie-agent` is;
    /// - every `ipc://` endpoint of `[listen]` moves to `directory/run/`, keeping its
    ///   file name (`ipc:///run/vigie-agent/ingest.sock` → `ipc://DIR/run/ingest.sock`).
    ///
    /// TCP endpoints, the upstream and what collectors read are left as they are. A
    /// relative `directory` is taken from `workingDirectory`.
    public mutating func relocate(stateDirectory directory: String, workingDirectory: String? = nil) {
        let base = Self.absolute(directory, from: workingDirectory)
        spool.directory = base
        let runtime = (base as NSString).appendingPathComponent(Self.runtimeSubdirectory)
        func move(_ endpoints: [String]) -> [String] {
            endpoints.map { endpoint in
                guard endpoint.hasPrefix("ipc://") else { return endpoint }
                let name = (String(endpoint.dropFirst("ipc://".count)) as NSString).lastPathComponent
                return "ipc://" + (runtime as NSString).appendingPathComponent(name.isEmpty ? "ingest.sock" : name)
            }
        }
        listen.ingest = move(listen.ingest)
        listen.push = move(listen.push)
        listen.control = move(listen.control)
    }

    /// Makes collectors' relative paths absolute, from `directory` (the configuration
    /// file's directory):
    ///
    /// - an `exec` command whose program names a path (`collectors/rdv-etat-civil.sh`,
    ///   `./compte.sh`) runs that file; a bare name (`python3`) is still looked up in
    ///   `PATH`;
    /// - a `file` collector's relative `path`.
    public mutating func resolveCollectorPaths(relativeTo directory: String) {
        for index in collectors.indices {
            switch collectors[index].kind {
            case .exec(var command, let timeout):
                if let program = command.first, program.contains("/"), !program.hasPrefix("/") {
                    command[0] = Self.absolute(program, from: directory)
                    collectors[index].kind = .exec(command: command, timeout: timeout)
                }
            case .file(let path, let format) where !path.hasPrefix("/"):
                collectors[index].kind = .file(path: Self.absolute(path, from: directory), format: format)
            case .file, .http:
                break
            }
        }
    }

    /// `path` if absolute, else joined to `base` (default: the current directory), with
    /// `.` and `..` components and repeated slashes removed (symbolic links are kept).
    static func absolute(_ path: String, from base: String?) -> String {
        let joined = path.hasPrefix("/") ? path : (base ?? FileManager.default.currentDirectoryPath) + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
