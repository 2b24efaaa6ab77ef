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
    /// The keys read from ``authorizedKeysDirectory`` (re-read on every load and reload),
    /// each with the role and prefixes ``grants`` gives it.
    public var authorized = AuthorizedKeys()
    /// `[security.keys]`: the role and metric prefixes the administrator grants each key,
    /// by key name. A key without an entry is an agent's that may write any metric. A
    /// certificate's own `role`/`prefixes` metadata never decides (its holder wrote it).
    public var grants: [String: KeyGrant] = [:]
    /// What a plain (not CURVE) TCP control endpoint allows (`tcp_control`): read-only
    /// ops by default; the ipc control socket in the runtime directory allows all.
    public var tcpControl: ControlAccess = .readOnly
    /// Names in ``grants`` that match no key of the directory (a revoked key, or a
    /// misspelling: warned about, see `VigieConfiguration.warnings`).
    public var unmatchedGrants: [String] = []

    public init() {}

    /// What a control request may do on a socket.
    public enum ControlAccess: String, Sendable, Equatable, CaseIterable {
        /// snapshot, stats, alerts, history, events, config, metrics, health.
        case readOnly = "read-only"
        /// Also ack, silence, unsilence and reload.
        case `operator`
    }

    /// The administrator's word on one key: `[security.keys] NAME = { role, prefixes }`.
    public struct KeyGrant: Sendable, Equatable {
        public var isOperator: Bool
        /// Metric prefixes the key may write; empty: any metric.
        public var prefixes: [String]

        public init(isOperator: Bool = false, prefixes: [String] = []) {
            self.isOperator = isOperator
            self.prefixes = prefixes
        }

        /// This grant as a `[security.keys]` line for key `name`, e.g.
        /// `mairie-nord = { prefixes = ["guichet_"] }`.
        public func entry(name: String) -> String {
            let bare =
                !name.isEmpty
                && name.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (48...57).contains(byte)
                        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                }
            var fields: [String] = []
            if isOperator { fields.append("role = \"operator\"") }
            if !prefixes.isEmpty {
                fields.append("prefixes = [\(prefixes.map { "\"\($0)\"" }.joined(separator: ", "))]")
            }
            if fields.isEmpty { fields.append("role = \"agent\"") }
            return "\(bare ? name : "\"\(name)\"") = { \(fields.joined(separator: ", ")) }"
        }
    }

    /// What a request on the control socket bound to `endpoint` may do, unless the
    /// socket is a CURVE server (then the key's grant decides): ipc sockets are guarded
    /// by their directory's mode, plain TCP by ``tcpControl``.
    public func controlAccess(plainEndpoint endpoint: String) -> ControlAccess {
        endpoint.hasPrefix("tcp://") ? tcpControl : .operator
    }

    /// Why a plain endpoint reachable from the network deserves a warning; nil for
    /// loopback, ipc, inproc and CURVE endpoints.
    public func exposureWarning(_ endpoint: String, role: String) -> String? {
        guard endpoint.hasPrefix("tcp://"), !Self.isLoopback(endpoint), !requiresCurve(endpoint) else { return nil }
        return "\(role) endpoint \(endpoint) is reachable from the network without CURVE: "
            + "anyone who can reach it may "
            + (role == "feed"
                ? "read the live feed" : role == "control" ? "read every KPI value" : "write measurements")
            + " (set [security] curve = true, or bind to 127.0.0.1)"
    }

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
    /// The identity: the file name without `.key` (a certificate whose `name` metadata
    /// says otherwise is refused).
    public var name: String
    public var publicKey: String
    /// Metric prefixes this key may write; empty: any metric.
    public var prefixes: [String]
    /// `role = "operator"` in `[security.keys]`: may also ack, silence and reload over TCP.
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

    /// Reads `directory`, giving each key its role and prefixes from `grants` (by key
    /// name); every problem is reported, each naming its file.
    public static func load(
        directory: String,
        grants: [String: SecurityConfiguration.KeyGrant] = [:]
    ) throws
        -> AuthorizedKeys
    {
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
                // The file's name is the administrator's; the certificate's own `name`
                // is its holder's and may not claim another key's grant.
                let name = String(file.dropLast(4))
                if let claimed = certificate.metadata("name"), !claimed.isEmpty, claimed != name {
                    errors.append(
                        ConfigError(
                            file: path,
                            key: "",
                            message: "the certificate names itself \"\(claimed)\" but its file is \(file)",
                            hint: "a key is known by its file name: rename the file \(claimed).key if it is that key"
                        )
                    )
                    continue
                }
                let grant = grants[name]
                if grant == nil, let claim = Self.metadataClaim(certificate, name: name) {
                    // Fail closed: ignoring the metadata would widen what the key may do.
                    errors.append(
                        ConfigError(
                            file: path,
                            key: "",
                            message: "the certificate itself claims \(claim.what); a key's role and prefixes "
                                + "are decided in the daemon's configuration, not by its holder",
                            hint: "add under [security.keys]: \(claim.entry)"
                        )
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
                        prefixes: grant?.prefixes ?? [],
                        isOperator: grant?.isOperator ?? false,
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

    /// What an older `vigie keygen` wrote into a certificate that would grant more than
    /// the default (an operator role) or that restricted the key (prefixes), with the
    /// `[security.keys]` entry that says the same; nil when it claims nothing.
    static func metadataClaim(_ certificate: CurveCertificate, name: String) -> (what: String, entry: String)? {
        let prefixes = (certificate.metadata("prefixes") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        let role = certificate.metadata("role") ?? "agent"
        guard role != "agent" || !prefixes.isEmpty else { return nil }
        var claims: [String] = []
        if role != "agent" { claims.append("role \"\(role)\"") }
        if !prefixes.isEmpty { claims.append("prefixes \(prefixes.joined(separator: ","))") }
        let grant = SecurityConfiguration.KeyGrant(isOperator: role == "operator", prefixes: prefixes)
        return (claims.joined(separator: " and "), grant.entry(name: name))
    }
}
