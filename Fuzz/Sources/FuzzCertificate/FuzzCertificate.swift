import Foundation
import FuzzSupport
import VigieConfig
import ZeroMQ

/// libFuzzer target: CURVE certificates in czmq's `zcert` text format, as the daemon
/// reads its own secret certificate and every file of its authorized-keys directory,
/// and the agent its key file and the daemon's public certificate.
///
/// The input is the file: ``CurveCertificate/parse(_:file:)`` reads it as
/// ``CurveCertificate/load(path:)`` does (bytes decoded as UTF-8, invalid sequences
/// replaced); the keys it accepts go through ZeroMQ's Z85 decoder and, for a secret key,
/// `zmq_curve_public`; the file is also read as `agent.key` of an authorized-keys
/// directory (``AuthorizedKeys/load(directory:grants:)``). The input as a whole goes
/// through ``Z85`` too.
///
/// Invariants: an accepted key is 40 Z85 characters that decode to 32 bytes and encode
/// back to themselves, and a secret key has a public key; a certificate written back
/// with ``CurveCertificate/text(includingSecret:generatedAt:)`` parses to itself; an
/// error names a line of the file; the authorized-keys directory holds the key, or says
/// why not; what ``Z85`` decodes encodes back to the same text.
enum FuzzCertificate {
    static let directory = Scratch.directory("authorized_keys")
    static let stamp = Date(timeIntervalSince1970: 1_796_700_000)

    static func run(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        // By scalar, as the parser counts: "\r\n" is one Character, not a "\n".
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).count
        var certificate: CurveCertificate?
        do {
            certificate = try CurveCertificate.parse(text, file: "fuzz.key")
        } catch {
            if let line = error.line {
                guard line >= 1 && line <= lines else { fatalError("invariant: error at line \(line) of \(lines)") }
            }
        }
        if let certificate {
            check(key: certificate.publicKey, "public")
            if let secret = certificate.secretKey {
                check(key: secret, "secret")
                if Curve.isAvailable {
                    do {
                        _ = try Curve.publicKey(fromSecretKey: secret)
                    } catch {
                        fatalError("invariant: accepted secret key has no public key: \(error)")
                    }
                }
            }
            roundTrip(certificate)
        }
        authorize(Array(input), certificate: certificate)

        if let decoded = Z85.decode(text) {
            guard decoded.count == text.utf8.count / 5 * 4, Z85.encode(decoded) == text else {
                fatalError("invariant: Z85 decodes \(text.debugDescription) to bytes that encode otherwise")
            }
        }
    }

    /// An accepted key decodes to 32 bytes and encodes back to itself.
    static func check(key: String, _ what: String) {
        guard CurveCertificate.isZ85Key(key) else { fatalError("invariant: \(what) key accepted that is not Z85") }
        guard let bytes = Z85.decode(key), bytes.count == Curve.keyByteCount else {
            fatalError("invariant: \(what) key \(key) accepted that Z85 does not decode")
        }
        guard Z85.encode(bytes) == key else { fatalError("invariant: \(what) key \(key) does not encode back") }
    }

    /// Written back as `vigie keygen` writes, the certificate reads back the same, when
    /// its metadata can be written (printable ASCII, no quote: what keygen writes).
    static func roundTrip(_ certificate: CurveCertificate) {
        let printable = certificate.metadata.allSatisfy { key, value in
            (key + value).unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" }
        }
        guard printable else { return }
        let text = certificate.text(includingSecret: true, generatedAt: stamp)
        do {
            let back = try CurveCertificate.parse(text, file: "written.key")
            guard back == certificate else { fatalError("invariant: written back, the certificate reads otherwise") }
        } catch {
            fatalError("invariant: written back, the certificate does not read: \(error)")
        }
    }

    /// The file as an authorized key: admitted with its public key, or refused.
    static func authorize(_ bytes: [UInt8], certificate: CurveCertificate?) {
        Scratch.clear(directory)
        Scratch.write(bytes, to: directory + "/agent.key")
        do {
            let keys = try AuthorizedKeys.load(directory: directory).keys
            guard let certificate, certificate.secretKey == nil, keys.count == 1,
                keys[0].publicKey == certificate.publicKey
            else {
                fatalError("invariant: the authorized keys are not the certificate's public key")
            }
        } catch {
            guard let errors = error as? ConfigErrors, !errors.errors.isEmpty else {
                fatalError("invariant: authorized keys refused without saying why: \(error)")
            }
        }
    }
}

extension Error {
    /// The line a `ConfigError` names.
    fileprivate var line: Int? { (self as? ConfigError)?.line }
}

/// libFuzzer's own entry point, for its `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzCertificate.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
