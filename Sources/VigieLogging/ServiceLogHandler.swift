import Foundation
import Logging
import Synchronization
import VigieCore

/// swift-log handler for the daemons: one line per record on standard error.
///
/// Under systemd (`$JOURNAL_STREAM` set, i.e. stderr is connected to the journal) each
/// line starts with its syslog priority, `<3>` for an error, `<4>` a warning…, which
/// journald strips and stores as the record's priority (`journalctl -p warning`); the
/// journal adds its own timestamp. Elsewhere lines are for people: an RFC 3339 UTC time,
/// the level, the label and the message. Metadata follows as `key=value` pairs (values
/// with spaces, quotes or `=` are quoted), sorted by key.
///
/// Repeats are rate-limited: the same message (its literal text; metadata aside) is
/// written at most `burst` times per `window`; the rest are counted and the next one
/// written after the window says how many were dropped — so a flood of bad lines from
/// one producer cannot fill the disk or drown everything else.
public struct ServiceLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let sink: Sink

    /// Shared by every handler of a bootstrap: the output and the repeat counters.
    public final class Sink: Sendable {
        let journal: Bool
        let burst: Int
        let window: UInt64
        private let state = Mutex(RepeatState())
        private let write: @Sendable (String) -> Void

        struct RepeatState {
            var entries: [String: (windowStart: UInt64, written: Int, dropped: Int)] = [:]
        }

        /// - Parameters:
        ///   - journal: `<N>` priority prefixes (default: when `JOURNAL_STREAM` is set).
        ///   - burst: records with the same message written per `window` at most.
        ///   - window: rate-limit window, nanoseconds.
        ///   - write: where lines go (default: standard error, unbuffered).
        public init(
            journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil,
            burst: Int = 10,
            window: UInt64 = 10_000_000_000,
            write: (@Sendable (String) -> Void)? = nil
        ) {
            self.journal = journal
            self.burst = burst
            self.window = window
            self.write = write ?? { line in FileHandle.standardError.write(Data(line.utf8)) }
        }

        /// Whether a record with `message` goes out now, and how many like it were dropped
        /// since the last one written.
        func admit(_ message: String, now: UInt64) -> (write: Bool, dropped: Int) {
            state.withLock { state in
                var entry = state.entries[message] ?? (now, 0, 0)
                if now &- entry.windowStart >= window {
                    let dropped = entry.dropped
                    entry = (now, 1, 0)
                    state.entries[message] = entry
                    if state.entries.count > 10_000 { state.entries = [message: entry] }
                    return (true, dropped)
                }
                if entry.written < burst {
                    entry.written += 1
                    state.entries[message] = entry
                    return (true, 0)
                }
                entry.dropped += 1
                state.entries[message] = entry
                return (false, 0)
            }
        }

        func emit(_ line: String) { write(line) }
    }

    public init(label: String, sink: Sink) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // One event, one line: a control character from outside (a tag value in an alert
        // message) is escaped, never written raw.
        let text = DisplayText.escaped("\(event.message)")
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let admitted = sink.admit(text, now: UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec))
        guard admitted.write else { return }
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if admitted.dropped > 0 { merged["repeats_dropped"] = "\(admitted.dropped)" }
        var line = ""
        if sink.journal {
            line += "<\(Self.priority(event.level))>"
        } else {
            line += Self.timestamp() + " " + event.level.rawValue + " " + label + ": "
        }
        line += text
        for key in merged.keys.sorted() {
            line += " " + key + "=" + Self.quoted("\(merged[key].map { "\($0)" } ?? "")")
        }
        sink.emit(line + "\n")
    }

    /// syslog(3) priorities, as journald reads them.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// `value` as is, or in double quotes (with `"` and `\` escaped) when it has a space,
    /// a quote, `=`, a control character or nothing at all; control characters are
    /// escaped (`DisplayText`).
    static func quoted(_ value: String) -> String {
        let visible = DisplayText.escaped(value)
        let needs = visible.isEmpty || visible != value || visible.contains { $0 == " " || $0 == "\"" || $0 == "=" }
        guard needs else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
        return "\"" + DisplayText.escaped(escaped) + "\""
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var time = now.tv_sec
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            parts.tm_year + 1900,
            parts.tm_mon + 1,
            parts.tm_mday,
            parts.tm_hour,
            parts.tm_min,
            parts.tm_sec,
            now.tv_nsec / 1_000_000
        )
    }
}
