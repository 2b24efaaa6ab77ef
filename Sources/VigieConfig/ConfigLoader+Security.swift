extension ConfigLoader {
    static let securityKeys = ["curve", "curve_on_loopback", "secret_key_file", "authorized_keys"]

    /// `[security]`: with `curve = true`, the daemon's secret certificate and the
    /// authorized-keys directory are read now, so `vigie check-config` and a reload
    /// report a bad key file before anything binds.
    static func readSecurity(_ table: TableReader) -> SecurityConfiguration {
        table.rejectUnknownKeys(securityKeys, context: "[security]")
        var security = SecurityConfiguration()
        for (key, apply) in [
            ("curve", { (v: Bool) in security.curve = v }),
            ("curve_on_loopback", { (v: Bool) in security.curveOnLoopback = v }),
        ] {
            guard let value = table.table[key] else { continue }
            if let flag = value.bool {
                apply(flag)
            } else {
                table.reportType(key, value, expected: "a boolean", example: "\(key) = true")
            }
        }
        security.secretKeyFile = table.nonEmptyString(
            "secret_key_file",
            example: "secret_key_file = \"/etc/vigie/keys/vigied.key_secret\""
        )
        security.authorizedKeysDirectory = table.nonEmptyString(
            "authorized_keys",
            example: "authorized_keys = \"/etc/vigie/authorized_keys\""
        )
        guard security.curve else { return security }
        if let path = security.secretKeyFile {
            do {
                let certificate = try CurveCertificate.load(path: path)
                if certificate.secretKey == nil {
                    table.report(
                        "secret_key_file",
                        "\(path) is a public certificate: the daemon needs its secret one",
                        hint: "point it at the NAME.key_secret file vigie keygen wrote"
                    )
                } else {
                    security.serverCertificate = certificate
                }
            } catch {
                table.report(
                    "secret_key_file",
                    "\(error)",
                    hint: "create the daemon's key pair with vigie keygen vigied"
                )
            }
        } else {
            table.reportMissing(
                "secret_key_file",
                known: securityKeys,
                "curve = true needs the daemon's secret certificate",
                hint: "add secret_key_file = \"/etc/vigie/keys/vigied.key_secret\" (vigie keygen vigied)",
                onTable: true
            )
        }
        if let directory = security.authorizedKeysDirectory {
            do {
                security.authorized = try AuthorizedKeys.load(directory: directory)
            } catch let errors as ConfigErrors {
                for error in errors.errors { table.report("authorized_keys", "\(error)") }
            } catch {
                table.report("authorized_keys", "\(error)")
            }
        } else {
            table.reportMissing(
                "authorized_keys",
                known: securityKeys,
                "curve = true needs the directory of authorized agent keys",
                hint:
                    "add authorized_keys = \"/etc/vigie/authorized_keys\" (one NAME.key per agent, from vigie keygen NAME)",
                onTable: true
            )
        }
        return security
    }
}
