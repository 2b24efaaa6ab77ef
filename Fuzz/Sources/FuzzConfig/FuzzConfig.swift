import Foundation
import VigieConfig
import VigieCore

/// libFuzzer target: configuration files, daemon (`vigie.toml`) and agent
/// (`agent.toml`), as `vigied`, `vigie check-config` and `vigie agent` load them.
///
/// The input is the file's text (inputs that are not UTF-8 are refused by the loaders'
/// file reading and skipped here). It goes through ``ConfigLoader/parseAgent(_:path:)``
/// when ``ConfigLoader/isAgentConfiguration(_:)`` says it is an agent's, through
/// ``ConfigLoader/parse(_:path:)`` otherwise, as `vigie check-config` does.
/// A configuration that loads is then used the way the daemon starts with it: a KPI
/// engine and an alert evaluator built from it, a sample of every KPI applied at the
/// current time and later ones, values published and evaluated, rollups accumulated,
/// the daemon's deadlines (`now +` each interval) computed.
///
/// The loaders read certificate files named by `[security]` and `[agent]`; an input
/// whose text could name a device or pseudo-file (`/dev`, `/proc`, `/sys`, also spelled
/// with escapes) is skipped, so that no input makes the harness read `/dev/zero` or
/// `/dev/stdin`.
///
/// Invariants: errors name the string and a line of it; every duration accepted is
/// within 0…``DurationFormat/maximum`` (so adding one to the current time cannot
/// overflow) and every limit is positive; KPI and alert names are unique and every
/// alert watches a KPI; nothing the configuration makes the engine do traps.
enum FuzzConfig {
    static let now: Int64 = 1_796_700_000_000_000_000

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let text = String(validating: input, as: UTF8.self), isSafe(text) else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        // The loader `vigie check-config` picks.
        if ConfigLoader.isAgentConfiguration(text) {
            do {
                check(try ConfigLoader.parseAgent(text))
            } catch {
                check(error, lines: lines)
            }
        } else {
            do {
                let configuration = try ConfigLoader.parse(text)
                check(configuration)
                exercise(configuration)
            } catch {
                check(error, lines: lines)
            }
        }
    }

    /// False for text that could name a device, pseudo-file or FIFO: holding `/dev`,
    /// `/proc` or `/sys`, or able to spell them with escapes — a `\u`/`\U` escape of a
    /// printable ASCII character, or a backslash before white space (a line continuation
    /// in a multi-line string). Escapes of control and non-ASCII characters stay.
    static func isSafe(_ text: String) -> Bool {
        for word in ["/dev", "/proc", "/sys"] where text.contains(word) { return false }
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count - 1 {
            defer { i += 1 }
            guard bytes[i] == UInt8(ascii: "\\") else { continue }
            let next = bytes[i + 1]
            if next == 0x20 || next == 0x09 || next == 0x0A || next == 0x0D { return false }
            guard next == UInt8(ascii: "u") || next == UInt8(ascii: "U") else {
                i += 1  // an escaped backslash or character
                continue
            }
            let digits = next == UInt8(ascii: "u") ? 4 : 8
            guard i + 2 + digits <= bytes.count,
                let scalar = UInt32(String(decoding: bytes[(i + 2)..<(i + 2 + digits)], as: UTF8.self), radix: 16)
            else { continue }
            if scalar >= 0x20 && scalar < 0x7F { return false }
        }
        return true
    }

    static func check(_ error: any Error, lines: Int) {
        guard let errors = error as? ConfigErrors, !errors.errors.isEmpty else {
            fatalError("invariant: the loader throws \(type(of: error)), not ConfigErrors with at least one error")
        }
        for e in errors.errors {
            guard e.file == "<string>", !e.message.isEmpty else {
                fatalError("invariant: error without file or text: \(e)")
            }
            if let line = e.line, line < 1 || line > lines + 1 {
                fatalError("invariant: error at line \(line) of a \(lines)-line text: \(e)")
            }
            if let column = e.column, column < 1 { fatalError("invariant: error at column \(column): \(e)") }
        }
    }

    static func duration(_ value: Int64, _ what: String) {
        guard value >= 0, value <= DurationFormat.maximum else {
            fatalError("invariant: \(what) of \(value) ns accepted")
        }
    }

    static func check(_ configuration: VigieConfiguration) {
        let daemon = configuration.daemon
        duration(daemon.publishInterval, "publish_interval")
        duration(daemon.heartbeatInterval, "heartbeat_interval")
        duration(daemon.fsyncInterval, "fsync_interval")
        duration(daemon.checkpointInterval, "checkpoint_interval")
        guard daemon.heartbeatInterval > 0, daemon.checkpointInterval > 0, daemon.checkpointWALBytes > 0 else {
            fatalError("invariant: a zero heartbeat or checkpoint interval accepted")
        }
        guard TimeZone(identifier: daemon.timezone) != nil else {
            fatalError("invariant: time zone \(daemon.timezone)")
        }
        let ingest = configuration.ingest
        duration(ingest.maxAge, "max_age")
        duration(ingest.maxFuture, "max_future")
        duration(ingest.producerIdle, "producer_idle")
        guard ingest.maxLineLength > 0, ingest.maxTags > 0, ingest.maxFields > 0, ingest.maxNameLength > 0,
            ingest.maxLinesPerBatch > 0, ingest.maxMessageSize > 0, ingest.maxSeriesPerKPI > 0, ingest.maxProducers > 0
        else {
            fatalError("invariant: a limit of zero or less accepted: \(ingest)")
        }
        guard Set(configuration.kpis.map(\.name)).count == configuration.kpis.count,
            Set(configuration.alerts.map(\.name)).count == configuration.alerts.count
        else {
            fatalError("invariant: two KPIs or two alerts of one name accepted")
        }
        let kpis = Set(configuration.kpis.map(\.name))
        for kpi in configuration.kpis {
            if case .sliding(let width) = kpi.window {
                guard width > 0 else { fatalError("invariant: KPI \(kpi.name) of window \(width) ns") }
                duration(width, "window")
            }
            if let lateness = kpi.lateness { duration(lateness, "lateness") }
            guard kpi.buckets > 0, kpi.maxSeries > 0 else { fatalError("invariant: KPI \(kpi.name) without buckets") }
        }
        for rule in configuration.alerts {
            guard kpis.contains(rule.kpi) else { fatalError("invariant: alert \(rule.name) watches no KPI") }
            duration(rule.forDuration, "for")
            duration(rule.keepFiringFor, "keep_firing_for")
            if let absent = rule.absentFor { duration(absent, "absent_for") }
        }
    }

    static func check(_ configuration: AgentConfiguration) {
        duration(configuration.ackTimeout, "ack_timeout")
        duration(configuration.backoffInitial, "backoff_initial")
        duration(configuration.backoffMax, "backoff_max")
        guard configuration.window > 0, configuration.ackTimeout > 0, !configuration.producerID.isEmpty else {
            fatalError("invariant: agent window, ack_timeout or producer id out of range")
        }
        for collector in configuration.collectors {
            duration(collector.interval, "collector interval")
            guard collector.interval > 0 else { fatalError("invariant: collector \(collector.name) interval 0") }
        }
    }

    /// What the daemon does with a configuration it loaded.
    static func exercise(_ configuration: VigieConfiguration) {
        let zone = configuration.daemon.timeZone
        let engine = KPIEngine(kpis: configuration.kpis, timeZone: zone, now: now)
        engine.maxTotalSeries = configuration.ingest.maxSeriesTotal
        let evaluator = AlertEvaluator(rules: configuration.alerts, timeZone: zone, now: now)
        engine.trackChanges(
            forKPIs: Set(configuration.kpis.indices.filter { evaluator.watches(kpi: configuration.kpis[$0].name) })
        )
        var rollups = RollupAccumulator(kpis: configuration.kpis, policy: configuration.ingest.policy)
        let parser = LineProtocolParser(limits: configuration.ingest.lineProtocolLimits)
        let policy = configuration.ingest.policy
        let daemon = configuration.daemon
        for interval in [daemon.publishInterval, daemon.heartbeatInterval, daemon.checkpointInterval] {
            _ = now + interval  // the daemon's next deadlines
        }
        _ = UInt64(daemon.fsyncInterval)

        let lines = configuration.kpis.prefix(64).flatMap { kpi in
            [kpi.selector, kpi.denominator].compactMap { $0 }.map { line(for: $0, groupBy: kpi.groupBy) }
        }
        let payload = Array(lines.joined(separator: "\n").utf8)
        for (step, offset) in [0, 1_000_000_000, 3_600_000_000_000, 40 * 86_400_000_000_000].enumerated() {
            let t = now + Int64(offset)
            _ = payload.withUnsafeBytes { bytes in
                parser.parse(bytes) { line in
                    guard policy.rejection(lineNumber: line.lineNumber, timestamp: line.timestamp, receivedAt: t) == nil
                    else { return }
                    engine.apply(line, receivedAt: t, now: t)
                    rollups.add(line, receivedAt: t)
                } onError: { _ in
                }
            }
            for value in engine.takeChangedForAlerts(now: t) {
                if let v = value.value { precondition(!v.isNaN, "\(value.kpi) is NaN") }
                _ = evaluator.evaluate(value, now: t)
            }
            _ = evaluator.tick(now: t)
            _ = engine.takeDue(now: t, interval: daemon.publishInterval)
            if step == 1 { _ = rollups.drain() }
        }
        _ = engine.snapshot(now: now + 40 * 86_400_000_000_000)
        _ = evaluator.active(now: now + 40 * 86_400_000_000_000)
    }

    /// A line of line protocol the selector matches, with a value for each `group_by` tag.
    static func line(for selector: SampleSelector, groupBy: [String]) -> String {
        var tags = selector.filters.map { ($0.key, $0.value) }
        for key in groupBy where !tags.contains(where: { $0.0 == key }) { tags.append((key, "g")) }
        var text = escape(selector.metric, [",", " "])
        for (key, value) in tags { text += "," + escape(key, [",", " ", "="]) + "=" + escape(value, [",", " ", "="]) }
        return text + " " + escape(selector.field, [",", " ", "="]) + "=12.5"
    }

    static func escape(_ text: String, _ special: Set<Character>) -> String {
        var out = ""
        for character in text {
            if character == "\n" || character == "\r" { continue }
            if special.contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}

/// libFuzzer's own entry point, for its `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzConfig.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
