import ArgumentParser
import Foundation
import Rainbow
import VigieCore
import ZeroMQ

/// Runs `body` with a control client for `endpoints`, turning failures into the
/// documented exit codes (75 unreachable, 76 refused) with a `vigie COMMAND:` message.
func withControlClient<R>(
    _ endpoints: EndpointOptions,
    command: String,
    _ body: (ControlClient) throws -> R
) throws -> R {
    let context = try ZMQContext(defaultLinger: 0)
    defer {
        context.shutdown()
        try? context.terminate()
    }
    let client = try ControlClient(
        context: context,
        endpoint: try endpoints.resolved().control,
        curve: try endpoints.curve()
    )
    defer { client.close() }
    do {
        return try body(client)
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("vigie \(command): \(error)\n".utf8))
        throw ExitCode(error.exitCode)
    }
}

/// Sends one control request and returns its reply decoded as `R` (see `withControlClient`).
func controlRequest<R: Decodable>(
    _ endpoints: EndpointOptions,
    _ request: ControlRequest,
    as type: R.Type,
    command: String
) throws -> R {
    try withControlClient(endpoints, command: command) { try $0.request(request, as: type) }
}

/// `vigie alerts`: the active alerts, or their transitions live.
public struct AlertsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Show active alerts (pending and firing), acknowledgments and silences.",
        discussion: "With --follow, print every alert transition as it happens (Ctrl-C to stop)."
    )

    @Flag(help: "JSON output: the control reply, or one feed message per line with --follow.")
    var json = false

    @Flag(help: "Print alert transitions live from the feed.")
    var follow = false

    @Option(help: "With --follow: stop after this long (e.g. 30s).")
    var duration: String?

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        if follow { return try followTransitions() }
        // --json prints the daemon's reply as sent, once it has decoded (so a refusal
        // still exits 76 with the daemon's message).
        let (raw, reply) = try withControlClient(endpoints, command: "alerts") { client in
            let raw = try client.requestRaw(.alerts)
            return (raw, try ControlClient.decode(ControlReply.Alerts.self, from: raw))
        }
        if json {
            print(String(decoding: raw, as: UTF8.self))
            return
        }
        print(Self.render(reply), terminator: "")
    }

    static func render(_ reply: ControlReply.Alerts) -> String {
        var out = ""
        if reply.alerts.isEmpty {
            out += "no active alerts\n"
        } else {
            let rows = reply.alerts.map { a -> [String] in
                let group = KPIRow.groupText(a.group, empty: "")
                let state = a.state.rawValue
                let styled = a.state == .firing ? state.red.bold : a.state == .pending ? state.yellow : state
                let value = KPIRow.format(a.value, unit: nil)
                let threshold = KPIRow.format(a.threshold, unit: nil)
                let shown = DisplayText.escaped
                return [
                    shown(a.rule), shown(a.kpi), group.isEmpty ? "—" : shown(group),
                    styled, shown(a.severity), "\(value) / \(threshold)",
                    shown(a.since), shown(a.acknowledgedBy ?? ""), shown(a.silencedUntil ?? ""),
                ]
            }
            out += TableRenderer.render(
                headers: [
                    "Rule", "KPI", "Group", "State", "Severity", "Value / threshold", "Since", "Ack by",
                    "Silenced until",
                ],
                rows: rows
            )
        }
        if !reply.silences.isEmpty {
            out += "\n"
            out += TableRenderer.render(
                headers: ["Silence", "Matchers", "Until", "By", "Comment"],
                rows: reply.silences.map {
                    [$0.id, $0.matchers.joined(separator: " "), $0.endsAt, $0.createdBy, $0.comment]
                        .map(DisplayText.escaped)
                }
            )
        }
        return out
    }

    private func followTransitions() throws {
        var stopAt = UInt64.max
        if let duration {
            guard let ns = DurationFormat.parse(duration) else {
                throw ValidationError("--duration: \(DurationFormat.explain(duration))")
            }
            stopAt = monotonicNanoseconds() + UInt64(ns)
        }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let sub = try context.makeSocket(.sub)
        try sub.setLinger(0)
        try endpoints.curve()?.apply(to: sub)
        try sub.subscribe("alert.")
        try sub.connect(try endpoints.resolved().feed)
        defer { sub.close() }
        var poller = Poller()
        poller.register(sub)
        while monotonicNanoseconds() < stopAt {
            guard try poller.poll(timeoutMilliseconds: 200) > 0 else { continue }
            while let frames = try sub.receiveMultipart(dontWait: true) {
                guard frames.count == 2 else { continue }
                let body = frames[1].bytes
                if json {
                    print(String(decoding: body, as: UTF8.self))
                } else if case .success(.alert(let a)) = FeedMessage.decode(body) {
                    print("\(a.ts)  \(a.state.rawValue.uppercased())  \(a.rule)  \(a.message)")
                }
                fflush(nil)
            }
        }
    }
}

/// `vigie ack`: acknowledge an alert (who and why), until it resolves.
public struct AckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Acknowledge an active alert.",
        discussion: "Example: vigie ack attente_excessive --group site=nord --by marie --comment \"renfort envoyé\""
    )

    @Argument(help: "Rule name.")
    var rule: String

    @Option(help: "The alert's group tag key=value (repeatable; all of them for a grouped KPI).")
    var group: [String] = []

    @Option(help: "Who acknowledges.")
    var by: String

    @Option(help: "Why, or what is being done.")
    var comment: String = ""

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        var tags: [String: String] = [:]
        for g in group {
            guard let m = AlertMatcher(parsing: g) else { throw ValidationError("--group '\(g)' must be key=value") }
            tags[m.key] = m.value
        }
        let reply = try controlRequest(
            endpoints,
            .operatorAction(.ack(rule: rule, group: tags, by: by, comment: comment)),
            as: ControlReply.Acknowledged.self,
            command: "ack"
        )
        print("acknowledged \(reply.acknowledged) alert(s)")
    }
}

/// `vigie silence`: mute notifications of matching alerts for a while.
public struct SilenceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Silence matching alerts for a duration.",
        discussion: """
            MATCHERS are key=value: rule, kpi, severity, or any group tag; a value ending in * \
            matches by prefix. Example: vigie silence rule=attente_excessive site=nord --for 2h \
            --by marie --comment "guichet fermé pour travaux"
            """
    )

    @Argument(help: "key=value matchers (all must match).")
    var matchers: [String]

    @Option(name: .customLong("for"), help: "How long, e.g. 2h.")
    var duration: String

    @Option(help: "Who silences.")
    var by: String

    @Option(help: "Why.")
    var comment: String = ""

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        guard !matchers.isEmpty else { throw ValidationError("give at least one key=value matcher") }
        var parsed: [AlertMatcher] = []
        for text in matchers {
            guard let m = AlertMatcher(parsing: text) else {
                throw ValidationError("matcher '\(text)' must be key=value")
            }
            parsed.append(m)
        }
        guard let ns = DurationFormat.parse(duration), ns > 0 else {
            throw ValidationError("--for: \(DurationFormat.explain(duration))")
        }
        let reply = try controlRequest(
            endpoints,
            .operatorAction(.silence(matchers: parsed, duration: ns, by: by, comment: comment)),
            as: ControlReply.Silenced.self,
            command: "silence"
        )
        print("silence \(reply.silence.id) until \(reply.silence.endsAt)")
    }
}

/// `vigie unsilence`: end a silence early.
public struct UnsilenceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "unsilence",
        abstract: "Remove a silence by id (see `vigie alerts`)."
    )

    @Argument(help: "Silence id, e.g. s-3.")
    var id: String

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        _ = try controlRequest(
            endpoints,
            .operatorAction(.unsilence(id: id)),
            as: ControlReply.Unsilenced.self,
            command: "unsilence"
        )
        print("silence \(id) removed")
    }
}
