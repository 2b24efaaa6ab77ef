import ArgumentParser
import Foundation
import VigieConfig
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// `vigie keygen NAME`: a CURVE key pair for an agent, an operator or the daemon itself.
public struct KeygenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a CURVE key pair (NAME.key public, NAME.key_secret secret, mode 0600).",
        discussion: """
            The files use czmq's zcert format. Give the public NAME.key to the daemon's \
            authorized-keys directory ([security] authorized_keys) and keep NAME.key_secret on \
            the machine that uses it (agent: [agent] key_file; CLI: --key). The daemon's own \
            pair (vigie keygen vigied) goes to [security] secret_key_file, and its public key \
            to every client (--server-key, [agent] server_key). A key's role and the metrics it \
            may write are the daemon's administrator's decision, in the daemon's configuration \
            ([security.keys]); the options --operator, --prefixes: print the entry to add there.
              vigie keygen mairie-nord --prefixes guichet_,appels,etat_civil_
              vigie keygen officier --operator
            Exit status: 0 written; 73 a file exists (use --force to replace it) or cannot be \
            written; 69 libzmq lacks CURVE.
            """
    )

    @Argument(help: "Key name: the identity the daemon admits (letters, digits, . _ -).")
    var name: String

    @Option(help: "Directory to write the two files into.")
    var directory: String = "."

    @Option(
        help: """
            Comma-separated prefixes of the measurement names this key may write, e.g. guichet_ \
            (default: any): printed as the [security.keys] entry to add to the daemon's config.
            """
    )
    var prefixes: String?

    @Flag(
        name: .customLong("operator"),
        help: "An operator's key (may also ack, silence and reload): printed as the [security.keys] entry to add."
    )
    var isOperator = false

    @Flag(help: "Replace existing files.")
    var force = false

    public init() {}

    public func validate() throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ allowed.contains($0) }), !name.hasPrefix(".") else {
            throw ValidationError(
                "NAME '\(name)' must be 1-64 letters, digits, '.', '_' or '-' (not starting with '.')"
            )
        }
    }

    public func run() throws {
        guard Curve.isAvailable else {
            FileHandle.standardError.write(Data("vigie keygen: this libzmq was built without CURVE\n".utf8))
            throw ExitCode(69)
        }
        let pair = try Curve.generateKeyPair()
        // Only the name: what the key may do is written by the daemon's administrator.
        let certificate = CurveCertificate(
            publicKey: pair.publicKey,
            secretKey: pair.secretKey,
            metadata: [("name", name)]
        )
        let publicPath = directory + "/" + name + ".key"
        let secretPath = publicPath + "_secret"
        try write(certificate.text(includingSecret: true), to: secretPath, mode: 0o600)
        try write(certificate.text(includingSecret: false), to: publicPath, mode: 0o644)
        print("wrote \(publicPath) (public) and \(secretPath) (secret, mode 0600)")
        print("public key: \(pair.publicKey)")
        print("authorize it on the server:  install -m 0644 \(name).key /etc/vigie/authorized_keys/")
        if let entry = grantEntry {
            print("and grant it in the daemon's configuration (then systemctl reload vigied):")
            print("  [security.keys]")
            print("  \(entry)")
        }
    }

    /// The `[security.keys]` line for `--prefixes`/`--operator`; nil for a plain agent key.
    var grantEntry: String? {
        let list = (prefixes ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard isOperator || !list.isEmpty else { return nil }
        return SecurityConfiguration.KeyGrant(isOperator: isOperator, prefixes: list).entry(name: name)
    }

    /// Creates `path` with `mode` (exclusively unless --force), so a secret is never
    /// readable by others, not even for a moment.
    private func write(_ text: String, to path: String, mode: mode_t) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, mode)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "exists (use --force to replace it)" : String(cString: strerror(errno))
            FileHandle.standardError.write(Data("vigie keygen: \(path): \(reason)\n".utf8))
            throw ExitCode(73)
        }
        defer { close(fd) }
        // An existing file keeps its mode through O_TRUNC: set it.
        _ = fchmod(fd, mode)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            FileHandle.standardError.write(Data("vigie keygen: \(path): \(String(cString: strerror(errno)))\n".utf8))
            throw ExitCode(73)
        }
    }
}
