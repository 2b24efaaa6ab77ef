import Foundation
import Logging
import Synchronization
import Testing

@testable import VigieLogging

/// Lines a sink wrote.
final class Lines: Sendable {
    private let storage = Mutex<[String]>([])
    var all: [String] { storage.withLock { $0 } }
    func append(_ line: String) { storage.withLock { $0.append(line) } }
}

@Suite("Service log handler")
struct ServiceLogHandlerTests {
    static func logger(journal: Bool, burst: Int = 10, window: UInt64 = 10_000_000_000) -> (Logger, Lines) {
        let lines = Lines()
        let sink = ServiceLogHandler.Sink(journal: journal, burst: burst, window: window) { lines.append($0) }
        var logger = Logger(label: "vigied") { ServiceLogHandler(label: $0, sink: sink) }
        logger.logLevel = .debug
        return (logger, lines)
    }

    @Test func journalLinesCarryTheSyslogPriorityAndSortedMetadata() {
        let (logger, lines) = Self.logger(journal: true)
        logger.error("disk full: refusing ingest", metadata: ["path": "/var/lib/vigie/wal", "error": "No space left"])
        logger.warning("alert firing", metadata: ["rule": "attente"])
        logger.notice("configuration reloaded")
        logger.info("vigied ready")
        logger.debug("detail")
        logger.critical("fatal")
        #expect(
            lines.all == [
                "<3>disk full: refusing ingest error=\"No space left\" path=/var/lib/vigie/wal\n",
                "<4>alert firing rule=attente\n", "<5>configuration reloaded\n", "<6>vigied ready\n", "<7>detail\n",
                "<2>fatal\n",
            ]
        )
    }

    @Test func controlCharactersFromOutsideStayOnOneEscapedLine() {
        // An alert message built from a tag value that carries a newline and an escape.
        let (logger, lines) = Self.logger(journal: true)
        logger.error(
            "alert firing: Attente au site nord\n<2>forged \u{1B}[2J",
            metadata: ["group.site": "nord\r\u{1B}]52;c;eA==\u{07}"]
        )
        #expect(
            lines.all == [
                "<3>alert firing: Attente au site nord\\n<2>forged \\x1B[2J group.site=\"nord\\r\\x1B]52;c;eA==\\x07\"\n"
            ]
        )
    }

    @Test func readableLinesHaveTimeLevelAndLabel() throws {
        let (logger, lines) = Self.logger(journal: false)
        logger.warning("slow notifier", metadata: ["comment": "a \"quoted\" = sign"])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix(" warning vigied: slow notifier comment=\"a \\\"quoted\\\" = sign\"\n"), "\(line)")
        #expect(line.hasPrefix("20"))
        #expect(line.contains("T") && line.contains("Z warning"))
    }

    @Test func repeatsAreRateLimitedAndTheDropCountIsReported() {
        // A window of 0.2 s: 3 written, the rest dropped until the window ends.
        let (logger, lines) = Self.logger(journal: true, burst: 3, window: 200_000_000)
        for i in 0..<50 { logger.warning("line rejected", metadata: ["line": "\(i)"]) }
        logger.warning("something else")
        #expect(lines.all.count == 4)
        #expect(lines.all.filter { $0.hasPrefix("<4>line rejected") }.count == 3)
        usleep(250_000)
        logger.warning("line rejected", metadata: ["line": "50"])
        #expect(lines.all.last == "<4>line rejected line=50 repeats_dropped=47\n")
    }
}
