/// What a client needs to reach a CURVE endpoint: the daemon's public key and its own
/// key pair (40-character Z85 text each).
public struct CurveClientCredentials: Sendable, Equatable {
    public var serverPublicKey: String
    public var publicKey: String
    public var secretKey: String

    public init(serverPublicKey: String, publicKey: String, secretKey: String) {
        self.serverPublicKey = serverPublicKey
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Reads them: `serverKey` is the daemon's Z85 public key or its public certificate
    /// file, `keyFile` this client's secret certificate (`vigie keygen`). Errors say
    /// which of the two is wrong and why.
    public static func load(serverKey: String, keyFile: String) throws -> CurveClientCredentials {
        let serverPublicKey: String
        if CurveCertificate.isZ85Key(serverKey) {
            serverPublicKey = serverKey
        } else {
            do {
                serverPublicKey = try CurveCertificate.load(path: serverKey).publicKey
            } catch {
                throw CredentialError(option: .serverKey, message: "\(error)")
            }
        }
        let certificate: CurveCertificate
        do {
            certificate = try CurveCertificate.load(path: keyFile)
        } catch {
            throw CredentialError(option: .key, message: "\(error)")
        }
        guard let secretKey = certificate.secretKey else {
            throw CredentialError(
                option: .key,
                message: "\(keyFile) is a public certificate: give the NAME.key_secret file"
            )
        }
        return CurveClientCredentials(
            serverPublicKey: serverPublicKey,
            publicKey: certificate.publicKey,
            secretKey: secretKey
        )
    }

    /// Which input a ``load(serverKey:keyFile:)`` failure is about.
    public struct CredentialError: Error, CustomStringConvertible, Sendable {
        public enum Option: Sendable { case serverKey, key }
        public var option: Option
        public var message: String
        public var description: String { message }
    }
}
