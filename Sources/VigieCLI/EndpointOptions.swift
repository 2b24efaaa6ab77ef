import ArgumentParser
import Foundation
import VigieConfig

/// Where the daemon listens, shared by every client subcommand.
///
/// Precedence: the explicit option, then `VIGIE_INGEST`/`VIGIE_PUSH`/`VIGIE_FEED`/
/// `VIGIE_CONTROL`, then the first endpoint of `--config`, then DESIGN.md's defaults.
/// For control, the daemon's operator socket (`ipc://<runtime_dir>/control.sock`, from
/// `--config` or `/run/vigie`) comes before the configured endpoints whenever this user
/// can open it: it allows every op, plain TCP control only reading ones by default.
public struct EndpointOptions: ParsableArguments {
    @Option(help: "Read endpoints from this vigied configuration file.")
    var config: String?

    @Option(help: "Acknowledged ingest endpoint (ROUTER). Env: VIGIE_INGEST.")
    var ingest: String?

    @Option(help: "Fire-and-forget push endpoint (PULL). Env: VIGIE_PUSH.")
    var push: String?

    @Option(help: "Live feed endpoint (PUB). Env: VIGIE_FEED.")
    var feed: String?

    @Option(help: "Control endpoint (ROUTER, JSON). Env: VIGIE_CONTROL.")
    var control: String?

    @Option(
        help: ArgumentHelp(
            "The daemon's CURVE public key (Z85) or public certificate file. Env: VIGIE_SERVER_KEY.",
            valueName: "key-or-file"
        )
    )
    var serverKey: String?

    @Option(
        help: ArgumentHelp(
            "This client's secret certificate (vigie keygen) for CURVE endpoints. Env: VIGIE_KEY.",
            valueName: "file"
        )
    )
    var key: String?

    public init() {}

    /// The same choices as a plain value.
    var choice: EndpointChoice {
        EndpointChoice(
            config: config,
            ingest: ingest,
            push: push,
            feed: feed,
            control: control,
            serverKey: serverKey,
            key: key
        )
    }

    /// The resolved endpoints; a connect address for wildcard binds (`*` → 127.0.0.1).
    func resolved() throws -> (ingest: String, push: String, feed: String, control: String) {
        try choice.resolved()
    }

    /// CURVE client keys (`--server-key`, `--key`), or nil for plain endpoints.
    func curve() throws -> CurveClientCredentials? { try choice.curve() }

    /// A bind address made connectable: `tcp://*:7600` and `tcp://0.0.0.0:7600` → `tcp://127.0.0.1:7600`.
    static func connectable(_ endpoint: String) -> String {
        for wildcard in ["tcp://*:", "tcp://0.0.0.0:"] where endpoint.hasPrefix(wildcard) {
            return "tcp://127.0.0.1:" + endpoint.dropFirst(wildcard.count)
        }
        return endpoint
    }
}

/// The endpoint options as a plain value, for code that runs without ArgumentParser
/// (`vigie push`'s fast path).
struct EndpointChoice: Equatable, Sendable {
    var config: String?
    var ingest: String?
    var push: String?
    var feed: String?
    var control: String?
    var serverKey: String?
    var key: String?

    /// CURVE client keys (`--server-key`, `--key`), or nil for plain endpoints.
    func curve() throws -> CurveClientCredentials? {
        try CurveClientCredentials.resolve(serverKey: serverKey, keyFile: key)
    }

    /// See ``EndpointOptions``: option, then environment, then `--config`, then defaults.
    func resolved() throws -> (ingest: String, push: String, feed: String, control: String) {
        let env = ProcessInfo.processInfo.environment
        var fromConfig = EndpointsConfiguration()
        var runtimeDir = DaemonConfiguration().runtimeDir
        if let config {
            do {
                let loaded = try ConfigLoader.load(path: config)
                fromConfig = loaded.endpoints
                runtimeDir = loaded.daemon.runtimeDir
            } catch {
                throw ValidationError("cannot read endpoints from \(config):\n\(error)")
            }
        }
        func pick(_ option: String?, _ key: String, _ list: [String], _ fallback: String) -> String {
            EndpointOptions.connectable(option ?? env[key] ?? list.first ?? fallback)
        }
        let defaults = EndpointsConfiguration()
        return (
            pick(ingest, "VIGIE_INGEST", fromConfig.ingest, defaults.ingest.first ?? "tcp://127.0.0.1:7600"),
            pick(push, "VIGIE_PUSH", fromConfig.push, defaults.push.first ?? "tcp://127.0.0.1:7601"),
            pick(feed, "VIGIE_FEED", fromConfig.feed, defaults.feed.first ?? "tcp://127.0.0.1:7602"),
            pick(
                control,
                "VIGIE_CONTROL",
                Self.reachableOperatorSocket(runtimeDir: runtimeDir).map { [$0] } ?? fromConfig.control,
                defaults.control.first ?? "tcp://127.0.0.1:7603"
            )
        )
    }

    /// `ipc://DIR/control.sock` when the socket exists and this user may connect to it
    /// (write permission on it, search permission on its directories).
    static func reachableOperatorSocket(runtimeDir: String) -> String? {
        let endpoint = DaemonConfiguration.operatorControlEndpoint(runtimeDir: runtimeDir)
        let path = String(endpoint.dropFirst("ipc://".count))
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK, access(path, W_OK) == 0 else { return nil }
        return endpoint
    }
}
