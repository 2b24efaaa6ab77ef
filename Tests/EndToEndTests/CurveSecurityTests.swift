import Foundation
import Testing
import VigieTesting

/// CURVE on a remote endpoint, end to end: keys from `vigie keygen`, the real vigied and
/// its ZAP handler, and a pyzmq client that loads the zcert files with pyzmq's own reader.
@Suite("CURVE: only known agents get in (vigied binary, pyzmq client)")
struct CurveSecurityTests {
    /// A daemon whose ingest endpoint is remote (0.0.0.0: CURVE) and whose control
    /// endpoint stays on plain loopback; `mairie-nord` may write `etat_civil.*` only.
    final class Setup {
        let directory: URL
        let daemon: DaemonProcess
        let ingest: String

        init(control: String = "tcp://127.0.0.1:*", ingestSettings: String = "") throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "vigie-curve-\(UUID().uuidString)"
            )
            let keys = directory.appendingPathComponent("keys").path
            let authorized = directory.appendingPathComponent("authorized").path
            try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: authorized, withIntermediateDirectories: true)
            for arguments in [
                ["vigied"], ["mairie-nord", "--prefixes", "etat_civil."], ["intrus"], ["officier", "--operator"],
            ] {
                let run = try BinaryRunner.run("vigie", arguments: ["keygen"] + arguments + ["--directory", keys])
                #expect(run.status == 0, "\(run.stderr)")
            }
            for name in ["mairie-nord", "officier"] {
                try FileManager.default.copyItem(atPath: "\(keys)/\(name).key", toPath: "\(authorized)/\(name).key")
            }
            daemon = try DaemonProcess(
                kpis: """
                    [security]
                    curve = true
                    secret_key_file = "\(keys)/vigied.key_secret"
                    authorized_keys = "\(authorized)"
                    [security.keys]
                    mairie-nord = { prefixes = ["etat_civil."] }
                    officier = { role = "operator" }

                    [ingest]
                    \(ingestSettings)

                    [[kpi]]
                    name = "attente"
                    metric = "etat_civil.attente"
                    aggregate = "count"
                    window = "1h"
                    """,
                directory: directory,
                endpoints: ["ingest": "tcp://0.0.0.0:*", "control": control]
            )
            let bound = try #require(daemon.endpoints["ingest"])
            ingest = bound.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1")
        }

        /// Runs the pyzmq client with `client`'s secret certificate.
        func push(
            as client: String,
            producer: String = "p",
            batches: Int,
            lines: Int,
            metrics: [String]
        ) throws
            -> [String: Any]
        {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Resources/curve_client.py").path
            let keys = directory.appendingPathComponent("keys").path
            let run = try BinaryRunner.run(
                "/usr/bin/python3",
                arguments: [
                    script, ingest, "\(keys)/vigied.key", "\(keys)/\(client).key_secret", producer, "\(batches)",
                    "\(lines)",
                ] + metrics,
                timeout: 20
            )
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        }

        /// `--server-key`/`--key` for the CLI as `client`.
        func keys(as client: String) -> [String] {
            let keys = directory.appendingPathComponent("keys").path
            return ["--server-key", "\(keys)/vigied.key", "--key", "\(keys)/\(client).key_secret"]
        }

        /// `vigie ARGUMENTS` against this daemon (wildcard endpoints reached on 127.0.0.1).
        /// Control goes to the configured endpoint (CURVE when not loopback), or with
        /// `operatorSocket` to the ipc operator socket.
        func vigie(_ arguments: [String], operatorSocket: Bool = false) throws -> BinaryRunResult {
            var named = daemon.endpoints
            if !operatorSocket { named["control"] = daemon.endpointLists["control"]?.last }
            let endpoints = ["ingest", "push", "feed", "control"].flatMap { ["--\($0)", named[$0] ?? ""] }
                .map { $0.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1") }
            return try BinaryRunner.run("vigie", arguments: arguments + endpoints)
        }

        func stats(as client: String? = nil) throws -> [String: Any] {
            let run = try vigie(["status", "--stats", "--json"] + (client.map(keys(as:)) ?? []))
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        }

        func stop() {
            _ = daemon.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func unlistedKeyGetsNothingInListedKeyDoesAndPrefixesHold() throws {
        let setup = try Setup()
        defer { setup.stop() }

        // An unlisted key: 1,000 samples, none accepted; the denial is logged and counted.
        let intruder = try setup.push(as: "intrus", batches: 100, lines: 10, metrics: ["etat_civil.attente"])
        #expect(intruder["acked"] as? Int == 0)
        #expect((intruder["auth_failed"] as? Int ?? 0) >= 1, "the client saw its handshake refused: \(intruder)")
        var stats = try setup.stats()
        #expect(stats["samples_accepted"] as? Int == 0)
        let security = try #require(stats["security"] as? [String: Any])
        #expect((security["handshakes_denied"] as? Int ?? 0) >= 1, "\(security)")
        #expect(security["authorized_keys"] as? Int == 2)
        #expect(setup.daemon.log.contains("connection denied: unknown CURVE key"))
        #expect(setup.daemon.log.contains("peer=127.0.0.1"), "the denial names the peer address")
        let status = try BinaryRunner.run("vigie", arguments: ["status"] + setup.daemon.endpointArguments)
        #expect(
            status.stdout.contains("security: CURVE on, 2 authorized key(s); 0 handshake(s) admitted"),
            "\(status.stdout)"
        )

        // A listed key: all 1,000 accepted.
        let nord = try setup.push(as: "mairie-nord", batches: 100, lines: 10, metrics: ["etat_civil.attente"])
        #expect(nord["acked"] as? Int == 100)
        #expect(nord["accepted"] as? Int == 1_000)
        stats = try setup.stats()
        #expect(stats["samples_accepted"] as? Int == 1_000)

        // Outside its prefixes: per-line rejections with a reason; its other lines count.
        let mixed = try setup.push(
            as: "mairie-nord",
            producer: "p2",
            batches: 1,
            lines: 10,
            metrics: ["etat_civil.attente", "voirie.nids_de_poule"]
        )
        #expect(mixed["accepted"] as? Int == 5)
        #expect(mixed["rejected"] as? Int == 5)
        let errors = try #require(mixed["errors"] as? [[String: Any]])
        #expect(errors.first?["line"] as? Int == 2)
        #expect(
            (errors.first?["error"] as? String)
                == "metric \"voirie.nids_de_poule\" is outside this key's prefixes (etat_civil.)"
        )
        stats = try setup.stats()
        #expect((stats["security"] as? [String: Any])?["samples_outside_prefixes"] as? Int == 5)

        // An operator key without prefixes may write any metric.
        let officer = try setup.push(as: "officier", batches: 1, lines: 4, metrics: ["voirie.nids_de_poule"])
        #expect(officer["accepted"] as? Int == 4)
    }

    @Test(.timeLimit(.minutes(2)))
    func producerIdsAreScopedByTheAuthenticatedName() throws {
        let setup = try Setup()
        defer { setup.stop() }
        // Two keys use the same producer id and the same sequence numbers: each is its
        // own producer, so neither batch is taken for the other's duplicate.
        let nord = try setup.push(
            as: "mairie-nord",
            producer: "cron",
            batches: 3,
            lines: 2,
            metrics: ["etat_civil.attente"]
        )
        let officer = try setup.push(
            as: "officier",
            producer: "cron",
            batches: 3,
            lines: 2,
            metrics: ["etat_civil.attente"]
        )
        #expect(nord["accepted"] as? Int == 6)
        #expect(officer["accepted"] as? Int == 6, "\(officer)")
        let stats = try setup.stats()
        #expect(stats["batches_duplicate"] as? Int == 0)
        #expect(stats["samples_accepted"] as? Int == 12)
        let producers = (stats["producers"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Set(producers) == ["mairie-nord\u{1F}cron", "officier\u{1F}cron"])
    }

    /// An agent configured with `server_key`/`key_file` forwards over CURVE; one with an
    /// unlisted key is refused, says why, and backs off instead of retrying every 100 ms.
    @Test(.timeLimit(.minutes(2)))
    func agentsForwardOverCurveAndARefusedAgentBacksOff() throws {
        let setup = try Setup()
        defer { setup.stop() }
        let keys = setup.directory.appendingPathComponent("keys").path
        func agent(_ name: String, key: String) throws -> (AgentEndToEndTests.AgentProcess, String) {
            let dir = setup.directory.appendingPathComponent("agent-\(name)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let config = dir + "/agent.toml"
            try """
            [agent]
            name = "\(name)"
            upstream = "\(setup.ingest)"
            server_key = "\(keys)/vigied.key"
            key_file = "\(keys)/\(key).key_secret"
            backoff_initial = "1s"

            [spool]
            directory = "\(dir)/spool"

            [listen]
            ingest = ["ipc://\(dir)/ingest.sock"]
            push = []
            control = ["tcp://127.0.0.1:*"]
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let log = dir + "/agent.log"
            return (try AgentEndToEndTests.AgentProcess(config: config, log: log), log)
        }

        let (nord, _) = try agent("nord", key: "mairie-nord")
        defer { nord.stop() }
        let push = try BinaryRunner.run(
            "vigie",
            arguments: ["push", "--agent", try #require(nord.endpoints["ingest"]), "etat_civil.attente", "12"]
        )
        #expect(push.status == 0, "\(push.stderr)")
        var accepted = 0
        for _ in 0..<100 where accepted < 1 {
            accepted = try setup.stats()["samples_accepted"] as? Int ?? 0
            if accepted < 1 { usleep(100_000) }
        }
        #expect(accepted >= 1, "the sample went agent → vigied over CURVE")

        let (intruder, intruderLog) = try agent("intrus", key: "intrus")
        defer { intruder.stop() }
        sleep(3)
        let log = (try? String(contentsOfFile: intruderLog, encoding: .utf8)) ?? ""
        #expect(log.contains("upstream handshake refused: backing off"), "\(log)")
        #expect(log.contains("ZAP 400"))
        // Backing off from 1 s (doubling): a handful of attempts in 3 s, not thirty.
        let denied = (try setup.stats()["security"] as? [String: Any])?["handshakes_denied"] as? Int ?? 0
        #expect(denied >= 1 && denied <= 5, "denied handshakes in 3 s: \(denied)")
    }

    /// Over a CURVE control endpoint any listed key may read, only operator keys may
    /// acknowledge, silence or reload; a reload takes newly authorized keys at once.
    @Test(.timeLimit(.minutes(2)))
    func mutatingControlOpsNeedAnOperatorKeyAndReloadReadsNewKeys() throws {
        let setup = try Setup(control: "tcp://0.0.0.0:*")
        defer { setup.stop() }
        let stats = try setup.stats(as: "mairie-nord")
        #expect(stats["samples_accepted"] as? Int == 0, "an agent key may read")

        let silence = ["silence", "rule=x", "--for", "1h", "--by", "test", "--comment", "maintenance"]
        let refused = try setup.vigie(silence + setup.keys(as: "mairie-nord"))
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("needs operator access"), "\(refused.stderr)")
        #expect(refused.stderr.contains("key \"mairie-nord\" is an agent's"), "\(refused.stderr)")
        let allowed = try setup.vigie(silence + setup.keys(as: "officier"))
        #expect(allowed.status == 0, "\(allowed.stderr)")

        // The intruder is refused until its key is authorized and the daemon reloaded.
        #expect(
            try setup.push(as: "intrus", batches: 1, lines: 1, metrics: ["etat_civil.attente"])["acked"] as? Int == 0
        )
        let keys = setup.directory.appendingPathComponent("keys").path
        let authorized = setup.directory.appendingPathComponent("authorized").path
        try FileManager.default.copyItem(atPath: "\(keys)/intrus.key", toPath: "\(authorized)/intrus.key")
        #expect(try setup.vigie(["reload"] + setup.keys(as: "mairie-nord")).status != 0, "agents may not reload")
        let reload = try setup.vigie(["reload"] + setup.keys(as: "officier"))
        #expect(reload.status == 0, "\(reload.stderr)")
        let now = try setup.push(as: "intrus", producer: "p9", batches: 1, lines: 3, metrics: ["etat_civil.attente"])
        #expect(now["accepted"] as? Int == 3, "\(now)")
        #expect((try setup.stats(as: "officier")["security"] as? [String: Any])?["authorized_keys"] as? Int == 3)
    }

    /// A reload that removes a key shuts its established connections out: each message
    /// gets ERR (once, such a connection wrote any metric: an unknown key meant no
    /// prefixes), and nothing it sends is applied.
    @Test(.timeLimit(.minutes(2)))
    func aRevokedKeyGetsNothingThroughItsOpenConnection() throws {
        let setup = try Setup()
        defer { setup.stop() }
        let keys = setup.directory.appendingPathComponent("keys").path
        let go = setup.directory.appendingPathComponent("go").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources/curve_session.py").path
        let output = setup.directory.appendingPathComponent("session.out").path
        let session = try ChildProcess(
            path: "/usr/bin/python3",
            arguments: [
                script, setup.ingest, "\(keys)/vigied.key", "\(keys)/mairie-nord.key_secret", "etat_civil.attente", go,
            ],
            stdoutPath: output
        )
        defer { session.signal(SIGKILL) }
        func replies() -> [[String: Any]] {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        #expect(eventually(seconds: 10) { replies().count == 1 })
        #expect(replies().first?["command"] as? String == "ACK", "\(replies())")

        try FileManager.default.removeItem(
            atPath: setup.directory.appendingPathComponent("authorized/mairie-nord.key").path
        )
        // Its [security.keys] entry stays: a warning, not a refused reload.
        let reload = try setup.vigie(["reload"], operatorSocket: true)
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(setup.daemon.log.contains("[security.keys] mairie-nord: no key of that name"), "\(setup.daemon.log)")
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        #expect(eventually(seconds: 10) { replies().count == 2 })
        let second = replies().last
        #expect(second?["command"] as? String == "ERR", "\(replies())")
        #expect(
            ((second?["body"] as? [String: Any])?["error"] as? String)?.contains("no longer authorized") == true,
            "\(replies())"
        )
        let stats = try setup.stats()
        #expect(stats["samples_accepted"] as? Int == 1, "\(stats)")
        #expect((stats["security"] as? [String: Any])?["revoked_key_messages"] as? Int == 1, "\(stats)")
    }

    /// A line hidden in a string field of a refused line (a string may hold newlines) is
    /// refused with it: once, only the refused line's first byte was blanked, and the
    /// hidden line, outside the key's prefixes' reach, was applied.
    @Test(.timeLimit(.minutes(2)))
    func aLineSmuggledInARefusedLinesStringIsNotApplied() throws {
        let setup = try Setup()
        defer { setup.stop() }
        let keys = setup.directory.appendingPathComponent("keys").path
        let go = setup.directory.appendingPathComponent("go").path
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources/curve_session.py").path
        // mairie-nord may write etat_civil.* only; "voirie" is refused, and its string
        // field carries a "demandes" line, outside the prefixes too.
        let smuggler = "raw:voirie note=\"x\ndemandes value=999\n\"\n"
        let run = try BinaryRunner.run(
            "/usr/bin/python3",
            arguments: [script, setup.ingest, "\(keys)/vigied.key", "\(keys)/mairie-nord.key_secret", smuggler, go],
            timeout: 20
        )
        let first = run.stdout.split(separator: "\n").first.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let ack = first?["body"] as? [String: Any]
        #expect(first?["command"] as? String == "ACK", "\(run.stdout)\(run.stderr)")
        #expect(ack?["accepted"] as? Int == 0, "\(run.stdout)")
        let stats = try setup.stats()
        #expect(stats["samples_accepted"] as? Int == 0, "\(stats)")
        // The KPIs only: the random feed epoch may itself contain "999".
        let status = try setup.vigie(["status", "--json"])
        let snapshot = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let kpis = try JSONSerialization.data(withJSONObject: snapshot?["kpis"] ?? [])
        #expect(!String(decoding: kpis, as: UTF8.self).contains("999"), "\(status.stdout)")
    }

    /// One key may hold `max_producers_per_key` producers; at the limit its own idle ones
    /// make room (a CURVE cron job pushing with a fresh id per run keeps working).
    @Test(.timeLimit(.minutes(2)))
    func aKeysProducersAreCappedAndItsIdleOnesMakeRoom() throws {
        let setup = try Setup(ingestSettings: "max_producers_per_key = 2\nproducer_idle = \"1s\"")
        defer { setup.stop() }
        for producer in ["p1", "p2"] {
            let pushed = try setup.push(
                as: "mairie-nord",
                producer: producer,
                batches: 1,
                lines: 1,
                metrics: ["etat_civil.attente"]
            )
            #expect(pushed["acked"] as? Int == 1, "\(pushed)")
        }
        let third = try setup.push(
            as: "mairie-nord",
            producer: "p3",
            batches: 1,
            lines: 1,
            metrics: ["etat_civil.attente"]
        )
        #expect(third["acked"] as? Int == 0, "\(third)")
        #expect("\(third["errors"] ?? "")".contains("too many producers for key"), "\(third)")
        usleep(1_100_000)
        let later = try setup.push(
            as: "mairie-nord",
            producer: "p4",
            batches: 1,
            lines: 1,
            metrics: ["etat_civil.attente"]
        )
        #expect(later["acked"] as? Int == 1, "\(later)")
        let stats = try setup.stats()
        #expect(stats["samples_accepted"] as? Int == 3, "\(stats)")
        #expect((stats["limits"] as? [String: [String: Any]])?["producers_per_key"]?["hits"] as? Int == 1, "\(stats)")
    }
}
