import ArgumentParser
import Foundation
import Rainbow
import VigieCore
import ZeroMQ

/// `vigie watch`: the live view (ZeroMQ guide's Clone pattern).
///
/// Subscribes to the feed first, then asks for a snapshot, then applies only feed
/// messages whose `seq` is newer than the snapshot's. A new `epoch` (daemon restart)
/// triggers a new snapshot; no heartbeat for 3 s shows a banner.
public struct WatchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch KPI values live.",
        discussion: """
            In a terminal: a table refreshed in place. Piped, or with --json: one feed \
            message (JSON) per line. Stop with Ctrl-C.
            """
    )

    @Argument(help: "Only KPIs whose name starts with this prefix.")
    var prefix: String = ""

    @Flag(help: "Print one feed message per line (JSON) instead of the table.")
    var json = false

    @Option(help: "Stop after this long (e.g. 30s); default: run until interrupted.")
    var duration: String?

    @Flag(help: "Include heartbeats in --json output.")
    var heartbeats = false

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        let resolved = try endpoints.resolved()
        let tableMode = !json && isatty(STDOUT_FILENO) == 1
        var stopAt: UInt64 = .max
        if let duration {
            guard let ns = DurationFormat.parse(duration) else {
                throw ValidationError("--duration '\(duration)' is not a duration such as 30s")
            }
            stopAt = monotonicNanoseconds() + UInt64(ns)
        }
        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let curve = try endpoints.curve()
        let sub = try context.makeSocket(.sub)
        try sub.setLinger(0)
        try curve?.apply(to: sub)
        try sub.connect(resolved.feed)
        try sub.subscribe("kpi." + prefix)
        try sub.subscribe("alert.")
        try sub.subscribe("hb")
        let control = try ControlClient(context: context, endpoint: resolved.control, curve: curve)
        defer {
            control.close()
            sub.close()
        }

        var state = WatchState()
        var poller = Poller()
        poller.register(sub)
        var lastDraw: UInt64 = 0
        var dirty = true
        var needSnapshot = true
        var lastSnapshotTry: UInt64 = 0
        while monotonicNanoseconds() < stopAt {
            let now = monotonicNanoseconds()
            if needSnapshot, now - lastSnapshotTry > 1_000_000_000 {
                lastSnapshotTry = now
                if let reply = try? control.request(
                    .snapshot(prefix: prefix),
                    as: ControlReply.Snapshot.self,
                    timeoutMilliseconds: 1_000
                ) {
                    state.apply(snapshot: reply)
                    needSnapshot = false
                    dirty = true
                    if !tableMode {
                        for row in state.sortedRows { Self.emit(Self.json(row.message)) }
                    }
                }
            }
            if try poller.poll(timeoutMilliseconds: 200) > 0 {
                while let frames = try sub.receiveMultipart(dontWait: true) {
                    guard frames.count == 2 else { continue }
                    let body = frames[1].bytes
                    guard case .success(let message) = FeedMessage.decode(body) else { continue }
                    var isHeartbeat = false
                    if case .heartbeat = message { isHeartbeat = true }
                    switch state.apply(feed: message, now: monotonicNanoseconds()) {
                    case .applied:
                        dirty = true
                        if case .alert(let alert) = message, !alert.kpi.hasPrefix(prefix) { continue }
                        if !tableMode, !isHeartbeat || heartbeats {
                            Self.emit(String(decoding: body, as: UTF8.self))
                        }
                    case .ignored:
                        if !tableMode, heartbeats, isHeartbeat {
                            Self.emit(String(decoding: body, as: UTF8.self))
                        }
                    case .restarted:
                        needSnapshot = true
                        lastSnapshotTry = 0
                    }
                }
            }
            let now2 = monotonicNanoseconds()
            if tableMode, dirty || now2 - lastDraw > 1_000_000_000, now2 - lastDraw > 250_000_000 {
                print(Self.screen(state, endpoint: resolved.feed, now: now2), terminator: "")
                fflush(nil)
                lastDraw = now2
                dirty = false
            }
        }
    }

    private static func emit(_ line: String) {
        print(line)
        fflush(nil)
    }

    /// A snapshot entry as one line of `--json` output: a `kpi` object, keys sorted.
    static func json(_ message: FeedMessage.KPI) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Strings, numbers (finite: they came from JSON text) and booleans: encoding cannot fail.
        return (try? encoder.encode(message)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The whole screen: cursor home, table, clear the rest.
    static func screen(_ state: WatchState, endpoint: String, now: UInt64) -> String {
        var out = "\u{1B}[H\u{1B}[2J"
        let silence = state.lastHeartbeat.map { Double(now - $0) / 1e9 }
        if let silence, silence < 3 {
            out += "vigie watch — \(endpoint) — \(state.rows.count) series — "
            out += "\(String(format: "%.0f", state.ingestRate)) samples/s".green + "\n\n"
        } else {
            let since = silence.map { String(format: "%.0f s", $0) } ?? "start"
            out += " DAEMON UNREACHABLE — no heartbeat from \(endpoint) since \(since) ".onRed.white.bold + "\n\n"
        }
        let rows = state.sortedRows.map { row -> [String] in
            let age = row.receivedAt.map { String(format: "%.0fs", Double(now - $0) / 1e9) } ?? "—"
            return [
                row.row.title, row.row.groupText, row.row.valueText, row.row.targetText, row.row.statusText,
                String(row.row.samples), row.row.window, age,
            ]
        }
        out += TableRenderer.render(
            headers: ["KPI", "Group", "Value", "Target", "Status", "Samples", "Window", "Age"],
            rows: rows
        )
        let alerts = state.sortedAlerts
        out += "\n" + "Alerts".bold + (alerts.isEmpty ? ": none" : "") + "\n"
        for alert in alerts {
            let word: String
            switch alert.state {
            case .firing: word = " FIRING ".onRed.white.bold
            case .pending: word = " pending ".yellow
            case .resolved: word = " resolved ".green
            }
            var line = "\(word) \(alert.rule) — \(alert.message) (since \(alert.since))"
            if let by = alert.acknowledgedBy { line += " — ack: \(by)" }
            if alert.silenced { line += " — silenced" }
            out += line + "\n"
        }
        return out
    }
}

/// The watcher's replica of KPI values (Clone pattern bookkeeping).
struct WatchState {
    struct Entry {
        var row: KPIRow
        /// The message or snapshot entry the row shows.
        var message: FeedMessage.KPI
        var receivedAt: UInt64?
    }

    enum Outcome { case applied, ignored, restarted }

    private(set) var entries: [String: Entry] = [:]

    /// An alert as the live view shows it.
    struct AlertEntry {
        var rule: String
        var group: String
        var state: AlertState
        var message: String
        var since: String
        var acknowledgedBy: String?
        var silenced: Bool
        /// When a resolved alert was last seen (it is shown for a minute, then dropped).
        var resolvedAt: UInt64?

        init(_ alert: FeedMessage.Alert, now: UInt64) {
            // Shown to a person: control characters escaped (DisplayText).
            rule = DisplayText.escaped(alert.rule)
            group = DisplayText.escaped(KPIRow.groupText(alert.group, empty: ""))
            state = alert.state
            message = DisplayText.escaped(alert.message)
            // 2026-11-29T04:13:29.123Z → 04:13:29 UTC
            since = alert.since.count >= 19 ? String(alert.since.dropFirst(11).prefix(8)) + " UTC" : alert.since
            acknowledgedBy = alert.acknowledgedBy.map(DisplayText.escaped)
            silenced = alert.silenced
            resolvedAt = alert.state == .resolved ? now : nil
        }

        var key: String { rule + "|" + group }
    }

    private(set) var alerts: [String: AlertEntry] = [:]

    /// Firing first, then pending, then recently resolved (for a minute).
    var sortedAlerts: [AlertEntry] {
        let order: [AlertState: Int] = [.firing: 0, .pending: 1, .resolved: 2]
        return alerts.values.sorted {
            (order[$0.state] ?? 3, $0.rule, $0.group) < (order[$1.state] ?? 3, $1.rule, $1.group)
        }
    }
    private(set) var snapshotSeq: UInt64 = 0
    private(set) var epoch: String?
    private(set) var lastHeartbeat: UInt64?
    private(set) var ingestRate: Double = 0
    private(set) var lastSeq: UInt64 = 0

    var rows: [Entry] { Array(entries.values) }
    var sortedRows: [Entry] {
        entries.values.sorted { ($0.row.kpi, $0.row.groupText) < ($1.row.kpi, $1.row.groupText) }
    }

    mutating func apply(snapshot reply: ControlReply.Snapshot) {
        snapshotSeq = reply.seq
        lastSeq = snapshotSeq
        epoch = reply.epoch
        entries = [:]
        alerts = [:]
        for alert in reply.alerts {
            let entry = AlertEntry(alert, now: 0)
            alerts[entry.key] = entry
        }
        for kpi in reply.kpis {
            let row = KPIRow(kpi)
            entries[row.key] = Entry(row: row, message: kpi, receivedAt: nil)
        }
    }

    /// Applies one feed message; messages not newer than the snapshot are ignored.
    mutating func apply(feed message: FeedMessage, now: UInt64) -> Outcome {
        let seq = message.seq ?? 0
        if let messageEpoch = message.epoch, let epoch, messageEpoch != epoch { return .restarted }
        switch message {
        case .heartbeat(let heartbeat):
            lastHeartbeat = now
            ingestRate = heartbeat.ingestRate
            if epoch == nil { return .restarted }
            return .ignored
        case .alert(let alert):
            guard epoch != nil, seq > snapshotSeq else { return .ignored }
            let entry = AlertEntry(alert, now: now)
            alerts[entry.key] = entry
            alerts = alerts.filter { $0.value.resolvedAt.map { now &- $0 < 60_000_000_000 } ?? true }
            lastSeq = max(lastSeq, seq)
            return .applied
        case .kpi(let kpi):
            guard epoch != nil, seq > snapshotSeq else { return .ignored }
            let row = KPIRow(kpi)
            lastSeq = max(lastSeq, seq)
            entries[row.key] = Entry(row: row, message: kpi, receivedAt: now)
            return .applied
        case .other:
            return .ignored
        }
    }
}
