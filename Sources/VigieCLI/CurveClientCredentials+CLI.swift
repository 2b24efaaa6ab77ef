import ArgumentParser
import Foundation
import VigieConfig
import ZeroMQ

/// The keys a CLI command uses to reach a daemon whose endpoint requires CURVE:
/// `--server-key` (the daemon's public key, as Z85 text or its public certificate file)
/// and `--key` (this client's secret certificate, from `vigie keygen`).
extension CurveClientCredentials {
    /// The keys from the options (or `VIGIE_SERVER_KEY`/`VIGIE_KEY`); nil when neither is set.
    static func resolve(serverKey: String?, keyFile: String?) throws -> CurveClientCredentials? {
        let env = ProcessInfo.processInfo.environment
        let server = serverKey ?? env["VIGIE_SERVER_KEY"]
        let key = keyFile ?? env["VIGIE_KEY"]
        guard server != nil || key != nil else { return nil }
        guard let server, let key else {
            throw ValidationError(
                "--server-key and --key go together (the daemon's public key, your secret certificate)"
            )
        }
        do {
            return try load(serverKey: server, keyFile: key)
        } catch let error as CredentialError {
            throw ValidationError("\(error.option == .serverKey ? "--server-key" : "--key"): \(error.message)")
        }
    }

    /// Makes `socket` a CURVE client of the daemon (before it connects).
    func apply(to socket: Socket) throws {
        try socket.setCurveClient(serverKey: serverPublicKey, publicKey: publicKey, secretKey: secretKey)
    }
}
