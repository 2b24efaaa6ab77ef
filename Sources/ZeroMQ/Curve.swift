import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// CURVE (CurveZMQ) key management: long-term key pairs as 40-character Z85 text.
///
/// Give a server ``Socket/setCurveServer(_:)`` and its secret key; give a client the server's public key
/// (`setCurveServerKey`) and its own key pair.
public enum Curve {
    /// The length of a key in Z85 text.
    public static let z85KeyLength = 40
    /// The length of a raw key in bytes.
    public static let keyByteCount = 32

    /// `true` when the loaded libzmq was built with CURVE (libsodium); otherwise CURVE options fail.
    public static var isAvailable: Bool {
        ZMQVersion.has("curve")
    }

    /// Generates a new long-term key pair (`zmq_curve_keypair`), each key as 40 Z85 characters.
    ///
    /// - Throws: ``ZMQError`` with code `ENOTSUP` if libzmq was built without CURVE.
    public static func generateKeyPair() throws -> (publicKey: String, secretKey: String) {
        var publicKey = [CChar](repeating: 0, count: z85KeyLength + 1)
        var secretKey = [CChar](repeating: 0, count: z85KeyLength + 1)
        try zmqCall("zmq_curve_keypair") { zmq_curve_keypair(&publicKey, &secretKey) }
        return (text(publicKey), text(secretKey))
    }

    /// Derives the public key (40 Z85 characters) of a Z85 secret key (`zmq_curve_public`), e.g. to check a
    /// key file or to print the key to authorize.
    ///
    /// - Throws: ``ZMQError`` with code `EINVAL` if `secretKey` is not 40 valid Z85 characters, `ENOTSUP`
    ///   without CURVE.
    public static func publicKey(fromSecretKey secretKey: String) throws -> String {
        guard secretKey.utf8.count == z85KeyLength, Z85.decode(secretKey) != nil else {
            throw ZMQError(code: EINVAL, operation: "zmq_curve_public(secret key of \(secretKey.utf8.count) bytes)")
        }
        var publicKey = [CChar](repeating: 0, count: z85KeyLength + 1)
        try zmqCall("zmq_curve_public") { zmq_curve_public(&publicKey, secretKey) }
        return text(publicKey)
    }

    private static func text(_ characters: [CChar]) -> String {
        let end = characters.firstIndex(of: 0) ?? characters.count
        return String(decoding: characters[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
