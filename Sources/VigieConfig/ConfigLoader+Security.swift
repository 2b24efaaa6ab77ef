extension ConfigLoader {
    static let securityKeys = [
        "curve", "curve_on_loopback", "secret_key_file", "authorized_keys", "tcp_control", "keys",
    ]
    static let grantKeys = ["role", "prefixes"]

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
        if let access = table.nonEmptyString("tcp_control", example: "tcp_control = \"read-only\"") {
            if let parsed = SecurityConfiguration.ControlAccess(rawValue: access) {
                security.tcpControl = parsed
            } else {
                table.report(
                    "tcp_control",
                    "unknown access \"\(access)\"",
                    hint: "use \"read-only\" (the default) or \"operator\" (ack, silence and reload over plain TCP)"
                )
            }
        }
        if let keys = table.table("keys", example: "[security.keys] on its own line") {
            security.grants = readGrants(keys)
        }
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
                security.authorized = try AuthorizedKeys.load(directory: directory, grants: security.grants)
                // Not an error: a key revoked by removing its file must not make the
                // reload fail (the old configuration, key and all, would stay in force).
                let names = Set(security.authorized.keys.map(\.name))
                security.unmatchedGrants = security.grants.keys.sorted().filter { !names.contains($0) }
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

    /// `[security.keys]`: `NAME = { role = "agent"|"operator", prefixes = ["guichet_"] }`.
    static func readGrants(_ table: TableReader) -> [String: SecurityConfiguration.KeyGrant] {
        var grants: [String: SecurityConfiguration.KeyGrant] = [:]
        for name in table.keys.sorted() {
            let example = "\(name) = { role = \"agent\", prefixes = [\"guichet_\"] }"
            guard let entry = table.table(name, example: example) else { continue }
            entry.rejectUnknownKeys(grantKeys, context: "a [security.keys] entry")
            var grant = SecurityConfiguration.KeyGrant()
            if let role = entry.nonEmptyString("role", example: "role = \"operator\"") {
                switch role {
                case "agent": grant.isOperator = false
                case "operator": grant.isOperator = true
                default:
                    entry.report(
                        "role",
                        "unknown role \"\(role)\"",
                        hint: "use \"agent\" (write measurements, read) or \"operator\" (also ack, silence, reload)"
                    )
                }
            }
            if let prefixes = entry.stringArray("prefixes", example: "prefixes = [\"guichet_\", \"appels\"]") {
                if let empty = prefixes.firstIndex(where: { $0.isEmpty }) {
                    let place = entry.scope.child("prefixes").element(empty)
                    table.diagnostics.report(
                        at: place.path,
                        key: place.displayKey,
                        "an empty prefix would allow every metric",
                        hint: "leave prefixes out to allow any metric"
                    )
                } else {
                    grant.prefixes = prefixes
                }
            }
            grants[name] = grant
        }
        return grants
    }
}
