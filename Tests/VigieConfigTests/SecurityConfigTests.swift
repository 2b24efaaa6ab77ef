import Foundation
import Testing
import VigieConfig

/// `[security]`, key certificates and the authorized-keys directory.
@Suite("[security] and CURVE certificates")
struct SecurityConfigTests {
    static let publicKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    static let secretKey = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"

    /// A temporary directory with `files` (name → text); `*_secret` files get mode 0600,
    /// as `vigie keygen` writes them.
    static func directory(_ files: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-sec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
            if name.hasSuffix("_secret") {
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path + "/" + name)
            }
        }
        return path
    }

    @Test func aSecretKeyReadableByOthersIsRefusedWithTheFix() throws {
        let keys = try Self.directory(["vigied.key_secret": Self.certificate(name: "vigied", secret: true)])
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let file = keys + "/vigied.key_secret"
        #expect(throws: Never.self) { try CurveCertificate.load(path: file) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        do {
            _ = try CurveCertificate.load(path: file)
            Issue.record("a 0644 secret key was loaded")
        } catch {
            #expect("\(error)".contains("readable by group or others (mode 644)"), "\(error)")
            #expect("\(error)".contains("chmod 600 \(file)"), "\(error)")
        }
        // A public certificate may be world-readable.
        let publicKeys = try Self.directory(["vigied.key": Self.certificate(name: "vigied", secret: false)])
        defer { try? FileManager.default.removeItem(atPath: publicKeys) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: publicKeys + "/vigied.key")
        #expect(throws: Never.self) { try CurveCertificate.load(path: publicKeys + "/vigied.key") }
    }

    static func certificate(name: String, prefixes: String? = nil, role: String? = nil, secret: Bool) -> String {
        var metadata: [(key: String, value: String)] = [("name", name)]
        if let prefixes { metadata.append(("prefixes", prefixes)) }
        if let role { metadata.append(("role", role)) }
        return CurveCertificate(publicKey: publicKey, secretKey: secret ? secretKey : nil, metadata: metadata)
            .text(includingSecret: secret)
    }

    @Test func certificateTextRoundTrips() throws {
        let original = CurveCertificate(
            publicKey: Self.publicKey,
            secretKey: Self.secretKey,
            metadata: [("name", "mairie-nord"), ("prefixes", "etat_civil.,accueil."), ("role", "agent")]
        )
        let secret = try CurveCertificate.parse(original.text(includingSecret: true), file: "x")
        #expect(secret == original)
        let public_ = try CurveCertificate.parse(original.text(includingSecret: false), file: "x")
        #expect(public_.secretKey == nil)
        #expect(public_.publicKey == Self.publicKey)
        #expect(public_.metadata("prefixes") == "etat_civil.,accueil.")
    }

    /// A certificate saved with Windows line ends (CRLF) reads like the original.
    @Test func crlfCertificatesParse() throws {
        let original = CurveCertificate(publicKey: Self.publicKey, secretKey: Self.secretKey, metadata: [("name", "a")])
        let crlf = original.text(includingSecret: true).replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try CurveCertificate.parse(crlf, file: "a.key_secret") == original)
    }

    @Test func badCertificatesNameTheLine() {
        let text = "metadata\n    name = \"x\"\ncurve\n    public-key = \"too short\"\n"
        #expect {
            try CurveCertificate.parse(text, file: "k.key")
        } throws: { error in
            let e = error as? ConfigError
            return e?.line == 4 && e?.file == "k.key" && e?.message == "public-key is not 40 Z85 characters"
        }
        #expect {
            try CurveCertificate.parse("# nothing\n", file: "k.key")
        } throws: { ($0 as? ConfigError)?.message == "no curve public-key: not a CURVE certificate" }
    }

    @Test func securityTableLoadsKeysAndClassifiesEndpoints() throws {
        let keys = try Self.directory(["vigied.key_secret": Self.certificate(name: "vigied", secret: true)])
        let authorized = try Self.directory([
            "mairie-nord.key": Self.certificate(name: "mairie-nord", secret: false),
            "README": "not a key",
        ])
        let config = try ConfigLoader.parse(
            """
            [security]
            curve = true
            secret_key_file = "\(keys)/vigied.key_secret"
            authorized_keys = "\(authorized)"
            [security.keys]
            mairie-nord = { prefixes = ["etat_civil.", "accueil."] }
            """
        )
        #expect(config.security.serverCertificate?.secretKey == Self.secretKey)
        #expect(config.security.authorized.keys.map(\.name) == ["mairie-nord"])
        #expect(config.security.authorized.keys.first?.prefixes == ["etat_civil.", "accueil."])
        #expect(config.security.authorized.keys.first?.isOperator == false)
        #expect(config.security.requiresCurve("tcp://0.0.0.0:7600"))
        #expect(config.security.requiresCurve("tcp://10.1.2.3:7600"))
        #expect(!config.security.requiresCurve("tcp://127.0.0.1:7600"))
        #expect(!config.security.requiresCurve("tcp://[::1]:7600"))
        #expect(!config.security.requiresCurve("ipc:///run/vigie/ingest.sock"))
    }

    @Test func curveWithoutKeysIsReportedWithHints() {
        let errors = configErrors("[security]\ncurve = true\n")
        #expect(
            errors.map(\.message).sorted() == [
                "curve = true needs the daemon's secret certificate",
                "curve = true needs the directory of authorized agent keys",
            ]
        )
        #expect(errors.allSatisfy { $0.key == "security" && $0.line == 1 && $0.hint?.contains("vigie keygen") == true })
    }

    @Test func aSecretCertificateInTheAuthorizedDirectoryIsRefused() throws {
        let keys = try Self.directory(["vigied.key_secret": Self.certificate(name: "vigied", secret: true)])
        let authorized = try Self.directory(["nord.key_secret": Self.certificate(name: "nord", secret: true)])
        let errors = configErrors(
            """
            [security]
            curve = true
            secret_key_file = "\(keys)/vigied.key_secret"
            authorized_keys = "\(authorized)"
            """
        )
        #expect(errors.count == 1)
        #expect(errors.first?.line == 4)
        #expect(errors.first?.message.contains("a secret certificate in the authorized-keys directory") == true)
    }

    @Test func aPublicCertificateCannotServe() throws {
        let keys = try Self.directory(["vigied.key": Self.certificate(name: "vigied", secret: false)])
        let authorized = try Self.directory([:])
        let errors = configErrors(
            """
            [security]
            curve = true
            secret_key_file = "\(keys)/vigied.key"
            authorized_keys = "\(authorized)"
            """
        )
        #expect(errors.map(\.line) == [3])
        #expect(errors.first?.message.contains("is a public certificate") == true)
    }

    /// Two keys in the directory (`a.key`, `b.key`) and the daemon's secret; the
    /// `[security]` table for them with `extra` appended.
    static func grantConfig(_ extra: String, a: String? = nil) throws -> String {
        let keys = try Self.directory(["vigied.key_secret": Self.certificate(name: "vigied", secret: true)])
        let other = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
        let authorized = try Self.directory([
            "a.key": a ?? Self.certificate(name: "a", secret: false),
            "b.key": CurveCertificate(publicKey: other, secretKey: nil, metadata: [("name", "b")])
                .text(includingSecret: false),
        ])
        return """
            [security]
            curve = true
            secret_key_file = "\(keys)/vigied.key_secret"
            authorized_keys = "\(authorized)"
            """ + extra
    }

    /// Roles and prefixes are the daemon administrator's (defect 7): `[security.keys]`
    /// decides; a key without an entry is an agent's that may write anything.
    @Test func theDaemonsConfigurationGrantsRolesAndPrefixes() throws {
        let config = try ConfigLoader.parse(
            try Self.grantConfig(
                """

                tcp_control = "operator"
                [security.keys]
                a = { role = "operator", prefixes = ["guichet_", "appels"] }
                """
            )
        )
        let byName = Dictionary(uniqueKeysWithValues: config.security.authorized.keys.map { ($0.name, $0) })
        #expect(byName["a"]?.isOperator == true)
        #expect(byName["a"]?.prefixes == ["guichet_", "appels"])
        #expect(byName["b"]?.isOperator == false)
        #expect(byName["b"]?.prefixes == [])
        #expect(config.security.tcpControl == .operator)
        // The default: plain TCP control only reads; ipc allows all.
        let plain = try ConfigLoader.parse("")
        #expect(plain.security.tcpControl == .readOnly)
        #expect(plain.security.controlAccess(plainEndpoint: "tcp://127.0.0.1:7603") == .readOnly)
        #expect(plain.security.controlAccess(plainEndpoint: "ipc:///run/vigie/control.sock") == .operator)
        #expect(plain.operatorControlEndpoint == "ipc:///run/vigie/control.sock")
    }

    /// A certificate whose holder wrote itself an operator role (or that an older keygen
    /// marked with prefixes) is refused until the configuration decides: ignoring it
    /// would silently widen what the key may do.
    @Test(arguments: [("operator", nil), (nil, "guichet_,appels")] as [(String?, String?)])
    func certificateMetadataNeverDecides(role: String?, prefixes: String?) throws {
        let claiming = Self.certificate(name: "a", prefixes: prefixes, role: role, secret: false)
        let errors = configErrors(try Self.grantConfig("", a: claiming))
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.message.contains("the certificate itself claims") == true, "\(errors)")
        let hint = errors.first.map { "\($0)" } ?? ""
        if role != nil { #expect(hint.contains("a = { role = \"operator\" }"), "\(hint)") }
        if prefixes != nil { #expect(hint.contains("a = { prefixes = [\"guichet_\", \"appels\"] }"), "\(hint)") }
        // With an entry, the configuration decides and the metadata is ignored.
        let config = try ConfigLoader.parse(
            try Self.grantConfig("\n[security.keys]\na = { role = \"agent\" }\n", a: claiming)
        )
        #expect(config.security.authorized.keys.first { $0.name == "a" }?.isOperator == false)
        #expect(config.security.authorized.keys.first { $0.name == "a" }?.prefixes == [])
    }

    @Test(arguments: [
        ("a = { role = \"admin\" }", "unknown role \"admin\""),
        ("a = { prefixes = [\"\"] }", "an empty prefix would allow every metric"),
        ("a = { prefixes = \"guichet_\" }", "expected an array of strings"),
        ("a = { rol = \"operator\" }", "unknown key"),
    ])
    func badGrantsNameTheLine(entry: String, message: String) throws {
        let errors = configErrors(try Self.grantConfig("\n[security.keys]\n" + entry + "\n"))
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.message.contains(message) == true, "\(errors)")
        #expect(errors.first?.line == 6, "\(errors)")
    }

    /// A revoked key's entry (its file removed) must not make a reload fail, which would
    /// keep the key in force: it is a warning, naming a likely misspelling.
    @Test func anEntryWithoutAKeyIsAWarning() throws {
        let config = try ConfigLoader.parse(try Self.grantConfig("\n[security.keys]\nbb = { role = \"operator\" }\n"))
        #expect(config.security.authorized.keys.allSatisfy { !$0.isOperator })
        #expect(config.warnings.count == 1, "\(config.warnings)")
        #expect(config.warnings.first?.contains("[security.keys] bb: no key of that name") == true)
        #expect(config.warnings.first?.contains("a misspelling of \"b\"?") == true, "\(config.warnings)")
    }

    /// The name (what grants are keyed by) is the file's, which the administrator
    /// chose; a certificate naming itself after another key is refused.
    @Test func aCertificateCannotNameItselfAfterAnotherKey() throws {
        let impostor = Self.certificate(name: "officier", secret: false)
        let errors = configErrors(
            try Self.grantConfig("\n[security.keys]\nofficier = { role = \"operator\" }\n", a: impostor)
        )
        #expect(errors.count == 1, "\(errors)")
        #expect(
            errors.first?.message.contains("the certificate names itself \"officier\" but its file is a.key") == true
        )
    }

    @Test func badTCPControlAccessIsReported() {
        let errors = configErrors("[security]\ntcp_control = \"write\"\n")
        #expect(errors.map(\.message) == ["unknown access \"write\""])
        #expect(errors.first?.line == 2)
    }
}
