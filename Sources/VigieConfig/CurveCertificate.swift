import Foundation

/// A CURVE key pair, or a public key alone, in the text format of czmq's `zcert`
/// (ZPL: a `metadata` section, then `curve` with `public-key` and, in the secret file
/// only, `secret-key`, both 40 Z85 characters). `vigie keygen` writes `NAME.key` (public)
/// and `NAME.key_secret` (secret, mode 0600); czmq's `zcert_load` reads both.
///
/// Metadata vigie uses: `name` (the identity the daemon admits, its ZAP User-Id),
/// `prefixes` (comma-separated metric prefixes the key may write; absent: any) and
/// `role` (`agent` or `operator`: operators may also ack, silence and reload over TCP).
public struct CurveCertificate: Sendable, Equatable {
    public var publicKey: String
    public var secretKey: String?
    public var metadata: [(key: String, value: String)]

    public init(publicKey: String, secretKey: String? = nil, metadata: [(key: String, value: String)] = []) {
        self.publicKey = publicKey
        self.secretKey = secretKey
        self.metadata = metadata
    }

    public static func == (a: CurveCertificate, b: CurveCertificate) -> Bool {
        a.publicKey == b.publicKey && a.secretKey == b.secretKey
            && a.metadata.map { "\($0.key)=\($0.value)" } == b.metadata.map { "\($0.key)=\($0.value)" }
    }

    /// The value of metadata `key`, if present.
    public func metadata(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    /// Reads a certificate file; errors name the file and line. A file that holds a
    /// secret key must not be readable by group or others (as ssh requires of its keys).
    public static func load(path: String) throws -> CurveCertificate {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(
                file: path,
                key: "",
                message: "cannot be read",
                hint: "check the path and its permissions"
            )
        }
        let certificate = try parse(String(decoding: data, as: UTF8.self), file: path)
        if certificate.secretKey != nil {
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
                throw ConfigError(
                    file: path,
                    key: "",
                    message: "holds a secret key and is readable by group or others (mode "
                        + String(info.st_mode & 0o777, radix: 8) + ")",
                    hint: "chmod 600 \(path)"
                )
            }
        }
        return certificate
    }

    /// Parses ZPL text as `zcert` writes it (4-space indentation, `name = "value"`).
    public static func parse(_ text: String, file: String) throws -> CurveCertificate {
        var section = ""
        var publicKey: String?
        var secretKey: String?
        var metadata: [(key: String, value: String)] = []
        func failure(_ line: Int, _ message: String, hint: String? = nil) -> ConfigError {
            ConfigError(file: file, line: line, key: "", message: message, hint: hint)
        }
        // By scalar: "\r\n" is one Character, so a Character split would not see CRLF lines.
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
            Substring(String(String.UnicodeScalarView($0)))
        }
        for (offset, raw) in lines.enumerated() {
            let number = offset + 1
            let line = raw.unicodeScalars.last == "\r" ? Substring(String(raw.unicodeScalars.dropLast())) : raw
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let indented = line.first == " " || line.first == "\t"
            guard indented else {
                section = trimmed
                continue
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw failure(number, "expected name = \"value\" in section \(section.isEmpty ? "(none)" : section)")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            switch (section, key) {
            case ("curve", "public-key"):
                guard isZ85Key(value) else {
                    throw failure(number, "public-key is not 40 Z85 characters", hint: "regenerate with vigie keygen")
                }
                publicKey = value
            case ("curve", "secret-key"):
                guard isZ85Key(value) else {
                    throw failure(number, "secret-key is not 40 Z85 characters", hint: "regenerate with vigie keygen")
                }
                secretKey = value
            case ("metadata", _):
                metadata.append((key, value))
            default:
                continue  // other zcert sections and keys are not ours
            }
        }
        guard let publicKey else {
            throw ConfigError(
                file: file,
                key: "",
                message: "no curve public-key: not a CURVE certificate",
                hint: "create one with vigie keygen NAME"
            )
        }
        return CurveCertificate(publicKey: publicKey, secretKey: secretKey, metadata: metadata)
    }

    /// The certificate as `zcert` writes it; `includingSecret: false` gives the public file.
    public func text(includingSecret: Bool, generatedAt: Date = Date()) -> String {
        let stamp = ISO8601DateFormatter().string(from: generatedAt)
        var out = "#   ****  Generated on \(stamp) by vigie keygen  ****\n"
        if includingSecret {
            out += "#   ZeroMQ CURVE **Secret** Certificate\n"
            out += "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n"
        } else {
            out += "#   ZeroMQ CURVE Public Certificate\n"
            out += "#   Exchange securely, or use a secure mechanism to verify the contents\n"
            out += "#   of this file after exchange.\n\n"
        }
        out += "metadata\n"
        for (key, value) in metadata { out += "    \(key) = \"\(value)\"\n" }
        out += "curve\n"
        out += "    public-key = \"\(publicKey)\"\n"
        if includingSecret, let secretKey { out += "    secret-key = \"\(secretKey)\"\n" }
        return out
    }

    /// 40 characters of the Z85 alphabet that decode to a 32-byte key: each group of 5
    /// encodes 4 bytes, so its value must fit 32 bits (`#####` does not; libzmq refuses it).
    public static func isZ85Key(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count == 40 else { return false }
        for group in stride(from: 0, to: 40, by: 5) {
            var value: UInt64 = 0
            for byte in utf8[group..<(group + 5)] {
                guard let digit = z85Digits[byte] else { return false }
                value = value * 85 + UInt64(digit)
            }
            guard value <= UInt64(UInt32.max) else { return false }
        }
        return true
    }

    /// Each Z85 character's value.
    private static let z85Digits: [UInt8: Int] = Dictionary(
        uniqueKeysWithValues: "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
            .utf8
            .enumerated().map { ($1, $0) }
    )
}
