import Foundation
import Testing
import VigieCore
import VigieStore
import VigieTesting
import ZeroMQ

/// Extreme and malformed control requests against the real `vigied`: each is refused
/// with a reason, the daemon keeps serving, and a restart on the same state works.
@Suite("Hostile control requests (real vigied)")
struct HostileControlTests {
    static let kpis = """
        [[kpi]]
        name = "hostile.count"
        metric = "hostile"
        aggregate = "count"
        window = "1h"

        [[alert]]
        name = "trop"
        kpi = "hostile.count"
        above = 0
        for = "0s"
        """

    /// One request to `endpoint`'s control socket; the parsed reply.
    static func control(_ endpoint: String, _ request: String) throws -> [String: Any] {
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let socket = try context.makeSocket(.dealer)
        defer { socket.close(linger: 0) }
        try socket.connect(endpoint)
        try socket.sendMultipart([[], Array(request.utf8)])
        let frames = try #require(try socket.receiveMultipart(timeoutMilliseconds: 10_000))
        return try #require(try JSONSerialization.jsonObject(with: Data(frames.last ?? [])) as? [String: Any])
    }

    static func stats(_ daemon: DaemonProcess) throws -> [String: Any] {
        try control(daemon.endpoints["control"] ?? "", #"{"op":"stats"}"#)
    }

    @Test(arguments: [
        // Each once killed vigied (Int64 overflow) or slipped through unchecked.
        (#"{"op":"silence","matchers":["rule=trop"],"for":"100000d","by":"a","comment":"b"}"#, "36500d"),
        (#"{"op":"silence","matchers":["rule=trop"],"for":"2562047h","by":"a"}"#, "36500d"),
        (#"{"op":"silence","matchers":["rule=trop"],"for":"99999999999999999999d","by":"a"}"#, "not a duration"),
        (#"{"op":"silence","matchers":["rule=trop"],"for":"-1h","by":"a"}"#, "not a duration"),
        (#"{"op":"silence","matchers":["rule=trop"],"for":7,"by":"a"}"#, "needs \"for\""),
        (#"{"op":"silence","matchers":[],"for":"1h","by":"a"}"#, "matchers"),
        (#"{"op":"history","kpi":"hostile.count","step":"2562047h"}"#, "36500d"),
        (#"{"op":"history","kpi":"hostile.count","step":9223372036}"#, "100 years"),
        (#"{"op":"history","kpi":"hostile.count","from":"-2562047h"}"#, "not a time"),
        (#"{"op":"events","from":"-99999d"}"#, "not a time"),
        (#"{"op":"ack","rule":"trop","by":"a","group":{"x":1}}"#, "must be a string"),
        (#"{"op":"unsilence","id":"s-999"}"#, "no silence"),
    ])
    func refusedWithAReasonAndTheDaemonKeepsServing(request: String, reason: String) throws {
        let daemon = try DaemonProcess(kpis: Self.kpis)
        let control = daemon.endpoints["control"] ?? ""
        let reply = try Self.control(control, request)
        #expect(reply["ok"] as? Bool == false, "\(reply)")
        #expect((reply["error"] as? String)?.contains(reason) == true, "\(reply)")
        // Still serving, and nothing was logged: a restart replays nothing refused.
        let push = try BinaryRunner.run("vigie", arguments: ["push", "hostile", "1"] + daemon.endpointArguments)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(daemon.stop().status == 0)
        let again = try DaemonProcess(kpis: Self.kpis, directory: daemon.directory, endpoints: daemon.endpoints)
        let stats = try Self.stats(again)
        #expect(stats["records_skipped"] as? Int == 0, "\(stats)")
        #expect(again.stop().status == 0)
    }

    @Test func theCommandLineRefusesAnOverlongSilence() throws {
        let daemon = try DaemonProcess(kpis: Self.kpis)
        let run = try BinaryRunner.run(
            "vigie",
            arguments: ["silence", "rule=trop", "--for", "100000d", "--by", "a", "--comment", "b"]
                + daemon.endpointArguments
        )
        #expect(run.status == 64, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("longer than 36500d"), "\(run.stderr)")
        #expect(try Self.stats(daemon)["ok"] as? Bool == true)
        #expect(daemon.stop().status == 0)
    }

    @Test func aLoggedActionThatCannotBeCarriedOutIsSkippedAndCounted() throws {
        // What an older vigied logged before it crashed on it: recovery must not trap.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-poison-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let writer = try WALWriter(
            directory: directory.appendingPathComponent("state/wal").path,
            startLSN: 0,
            syncPolicy: .always
        )
        let poison = #"{"op":"silence","matchers":["rule=trop"],"for":"100000d","by":"a","comment":"b"}"#
        try writer.append(
            kind: .operatorAction,
            receivedAt: now,
            sequence: 0,
            producer: [],
            frames: [Array(poison.utf8)]
        )
        let fine = #"{"op":"silence","matchers":["rule=trop"],"for":"2h","by":"a","comment":"b"}"#
        try writer.append(kind: .operatorAction, receivedAt: now, sequence: 0, producer: [], frames: [Array(fine.utf8)])
        _ = try writer.flush()
        try writer.close()

        let daemon = try DaemonProcess(kpis: Self.kpis, directory: directory)
        let stats = try Self.stats(daemon)
        #expect(stats["records_skipped"] as? Int == 1, "\(stats)")
        #expect(stats["records_replayed"] as? Int == 2, "\(stats)")
        #expect(daemon.log.contains("logged operator action skipped"), "\(daemon.log)")
        let alerts = try Self.control(daemon.endpoints["control"] ?? "", #"{"op":"alerts"}"#)
        #expect((alerts["silences"] as? [[String: Any]])?.count == 1, "\(alerts)")
        let push = try BinaryRunner.run("vigie", arguments: ["push", "hostile", "1"] + daemon.endpointArguments)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(daemon.stop().status == 0)
    }

    @Test func escapeSequencesInTagValuesAreShownEscaped() throws {
        // OSC 52 writes to the operator's clipboard; CSI 2 J clears the screen.
        let daemon = try DaemonProcess(
            kpis: Self.kpis.replacingOccurrences(of: "window = \"1h\"", with: "window = \"1h\"\ngroup_by = [\"site\"]")
        )
        let line = "hostile,site=a\u{1B}]52;c;aGVsbG8\\=\u{07}\u{1B}[2Jb value=1\n"
        let push = try BinaryRunner.run("vigie", arguments: ["push"] + daemon.endpointArguments, stdin: Data(line.utf8))
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        let status = try BinaryRunner.run("vigie", arguments: ["status"] + daemon.endpointArguments)
        #expect(status.status == 0)
        #expect(
            !status.stdout.contains("\u{1B}") && !status.stdout.contains("\u{07}"),
            "\(status.stdout.debugDescription)"
        )
        #expect(status.stdout.contains("site=a\\x1B]52;c;aGVsbG8=\\x07\\x1B[2Jb"), "\(status.stdout)")
        let alerts = try BinaryRunner.run("vigie", arguments: ["alerts"] + daemon.endpointArguments)
        #expect(!alerts.stdout.contains("\u{1B}"), "\(alerts.stdout.debugDescription)")
        #expect(!daemon.log.contains("\u{1B}"), "the daemon's log carries the escape raw")
        #expect(daemon.stop().status == 0)
    }
}
