import Foundation

/// The `[security]` table: CURVE on the daemon's remote endpoints (SECURITY.md).
public struct SecurityConfiguration: Sendable, Equatable {
    /// CURVE encryption and authentication on every `tcp://` endpoint that is not
    /// loopback (and on loopback too with ``curveOnLoopback``); `ipc://` stays plain,
    /// protected by its directory's permissions.
    public var curve = false
    /// Also require CURVE on loopback TCP endpoints (hosts whose local users are not trusted).
    public var curveOnLoopback = false
    /// The daemon's secret certificate file (`vigie keygen vigied`).
    public var secretKeyFile: String?
    /// The directory of authorized public certificates, one `*.key` file per agent.
    public var authorizedKeysDirectory: String?
    /// The daemon's key pair, read from ``secretKeyFile`` when the configuration loads.
    public var serverCertificate: CurveCertificate?
    /// The keys read from ``authorizedKeysDirectory`` (re-read on every load and reload).
    public var authorized = AuthorizedKeys()

    public init() {}

    /// Whether a socket bound to `endpoint` is a CURVE server.
    public func requiresCurve(_ endpoint: String) -> Bool {
        guard curve, endpoint.hasPrefix("tcp://") else { return false }
        return curveOnLoopback || !Self.isLoopback(endpoint)
    }

    /// `tcp://127.x.y.z:…`, `tcp://localhost:…`, `tcp://[::1]:…` (and `::1`).
    public static func isLoopback(_ endpoint: String) -> Bool {
        var host = endpoint.dropFirst("tcp://".count)
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return host.hasPrefix("127.") || host == "localhost" || host == "::1"
    }
}

/// One agent or operator the daemon admits (a public certificate in the
/// authorized-keys directory).
public struct AuthorizedKey: Sendable, Equatable {
    /// The identity: the certificate's `name` metadata, else its file name without `.key`.
    public var name: String
    public var publicKey: String
    /// Metric prefixes this key may write; empty: any metric.
    public var prefixes: [String]
    /// `role = "operator"`: may also ack, silence and reload over TCP.
    public var isOperator: Bool
    public var file: String

    public init(name: String, publicKey: String, prefixes: [String] = [], isOperator: Bool = false, file: String = "") {
        self.name = name
        self.publicKey = publicKey
        self.prefixes = prefixes
        self.isOperator = isOperator
        self.file = file
    }
}

/// The authorized-keys directory: every `*.key` file in it (other files are ignored,
/// secret certificates are refused).
public struct AuthorizedKeys: Sendable, Equatable {
    public var keys: [AuthorizedKey] = []

    public init(keys: [AuthorizedKey] = []) { self.keys = keys }

    /// The key with this Z85 public key.
    public func key(publicKey: String) -> AuthorizedKey? {
        keys.first { $0.publicKey == publicKey }
    }

    /// Reads `directory`; every problem is reported, each naming its file and line.
    public static func load(directory: String) throws -> AuthorizedKeys {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ConfigErrors([
                ConfigError(
                    file: directory,
                    key: "",
                    message: "cannot list the authorized-keys directory",
                    hint: "create it and put one NAME.key file (vigie keygen NAME) per agent in it"
                )
            ])
        }
        var keys: [AuthorizedKey] = []
        var errors: [ConfigError] = []
        for file in names {
            let path = directory + "/" + file
            if file.hasSuffix(".key_secret") {
                errors.append(
                    ConfigError(
                        file: path,
                        key: "",
                        message: "a secret certificate in the authorized-keys directory",
                        hint: "only the public NAME.key belongs here; move the secret file back to its agent"
                    )
                )
                continue
            }
            guard file.hasSuffix(".key") else { continue }
            do {
                let certificate = try CurveCertificate.load(path: path)
                if certificate.secretKey != nil {
                    errors.append(
                        ConfigError(
                            file: path,
                            key: "",
                            message: "holds a secret-key",
                            hint: "authorize the public file (NAME.key) only"
                        )
                    )
                    continue
                }
                let name = certificate.metadata("name").flatMap { $0.isEmpty ? nil : $0 } ?? String(file.dropLast(4))
                let prefixes = (certificate.metadata("prefixes") ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }.filter { !$0.isEmpty }
                let role = certificate.metadata("role") ?? "agent"
                guard role == "agent" || role == "operator" else {
                    errors.append(
                        ConfigError(file: path, key: "role", message: "role \"\(role)\" is neither agent nor operator")
                    )
                    continue
                }
                if let clash = keys.first(where: { $0.name == name || $0.publicKey == certificate.publicKey }) {
                    errors.append(
                        ConfigError(
                            file: path,
                            key: "",
                            message: clash.name == name
                                ? "name \"\(name)\" is already used by \(clash.file)"
                                : "the same public key as \(clash.file)",
                            hint: "each agent has its own name and key pair"
                        )
                    )
                    continue
                }
                keys.append(
                    AuthorizedKey(
                        name: name,
                        publicKey: certificate.publicKey,
                        prefixes: prefixes,
                        isOperator: role == "operator",
                        file: path
                    )
                )
            } catch let error as ConfigError {
                errors.append(error)
            } catch {
                errors.append(ConfigError(file: path, key: "", message: "\(error)"))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return AuthorizedKeys(keys: keys)
    }
}
