import Foundation
import Logging
import Synchronization
import Testing
import VigieAgent
import VigieConfig

/// What a `RecordingLogHandler` was given: each message with its `result` metadata.
private final class LogRecords: Sendable {
    let entries = Mutex<[(message: String, result: String)]>([])
}

/// Keeps the messages logged through it in `records`.
private struct RecordingLogHandler: LogHandler {
    let records: LogRecords
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let result = event.metadata?["result"].map { "\($0)" } ?? ""
        records.entries.withLock { $0.append(("\(event.message)", result)) }
    }
}

@Suite struct CollectorSchedulerTests {
    @Test func fileCollectorDeliversEachLineOnceAcrossRunsAndRestarts() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let recorder = SinkRecorder()
        let configuration = CollectorConfiguration(
            name: "meters",
            kind: .file(path: dir.file("meters.log"), format: .lineProtocol),
            interval: 100_000_000
        )
        func scheduler() -> CollectorScheduler {
            CollectorScheduler(
                configurations: [configuration],
                stateDirectory: dir.file("collectors"),
                sink: recorder.sink,
                logger: Logger(label: "test")
            )
        }
        let first = scheduler()
        first.start()
        for i in 0..<5 {
            try dir.append("m value=\(i)\n", to: "meters.log")
            usleep(60_000)
        }
        #expect(recorder.wait { recorder.allLines.count == 5 })
        first.stop()
        #expect(FileManager.default.fileExists(atPath: dir.file("collectors/meters.offset")))

        try dir.append("m value=5\n", to: "meters.log")
        let second = scheduler()
        second.start()
        #expect(recorder.wait { recorder.allLines.count == 6 })
        usleep(250_000)
        second.stop()
        #expect(recorder.allLines == (0..<6).map { "m value=\($0)" })
        #expect(second.statuses()[0].totalLines == 1)
        #expect(second.statuses()[0].result == "ok")
    }

    /// A run whose lines the agent refuses (its queue full) is reported, and the file
    /// collector hands the same lines again at its next run: each arrives once.
    @Test func refusedFileLinesArriveAtTheNextRunOnce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let recorder = SinkRecorder()
        recorder.refusals.withLock { $0 = 2 }
        let scheduler = CollectorScheduler(
            configurations: [
                CollectorConfiguration(
                    name: "meters",
                    kind: .file(path: dir.file("meters.log"), format: .lineProtocol),
                    interval: 50_000_000
                )
            ],
            stateDirectory: dir.file("collectors"),
            sink: recorder.sink,
            logger: Logger(label: "test")
        )
        try dir.append("m value=1\nm value=2\n", to: "meters.log")
        scheduler.start()
        #expect(recorder.wait { recorder.allLines.count >= 2 })
        usleep(200_000)
        scheduler.stop()
        #expect(recorder.allLines == ["m value=1", "m value=2"])
        #expect(scheduler.statuses()[0].consecutiveFailures == 0)
        #expect(scheduler.statuses()[0].runs >= 3)
    }

    /// A collector failing the same way at every run (a file not there yet) is logged at
    /// its 1st, 2nd, 4th, 8th… failure in a row, and again when the reason changes.
    @Test func repeatedFailuresAreLoggedSparingly() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let records = LogRecords()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(records: records) }
        let scheduler = CollectorScheduler(
            configurations: [
                CollectorConfiguration(
                    name: "absent",
                    kind: .file(path: dir.file("absent.csv"), format: .lineProtocol),
                    interval: 100_000_000
                )
            ],
            stateDirectory: dir.file("collectors"),
            sink: SinkRecorder().sink,
            logger: logger
        )
        scheduler.start()
        #expect(SinkRecorder().wait { scheduler.statuses()[0].runs >= 12 })
        scheduler.stop()
        let runs = scheduler.statuses()[0].runs
        let failures = records.entries.withLock { $0.filter { $0.message == "collector run failed" } }
        // 12…31 failed runs: logged at 1, 2, 4, 8 (and 16).
        #expect(runs >= 12 && runs < 32, "\(runs) runs")
        #expect(failures.count == (runs >= 16 ? 5 : 4), "\(failures.count) logged for \(runs) runs")
        #expect(failures.allSatisfy { $0.result.hasPrefix("cannot open") })
    }

    @Test func slowRunsDoNotOverlapAndMissedRunsAreSkipped() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let marker = dir.file("running")
        // Fails (exit 9) if another run of the same collector is still going.
        let script = "[ -e '\(marker)' ] && exit 9; touch '\(marker)'; sleep 0.25; rm '\(marker)'"
        let recorder = SinkRecorder()
        let scheduler = CollectorScheduler(
            entries: [
                .init(
                    collector: ExecCollector(name: "slow", command: ["/bin/sh", "-c", script], timeout: 5_000_000_000),
                    interval: 100_000_000
                )
            ],
            sink: recorder.sink,
            logger: Logger(label: "test")
        )
        scheduler.start()
        usleep(1_000_000)
        scheduler.stop()
        let status = scheduler.statuses()[0]
        #expect(status.runs >= 2 && status.runs <= 4)
        #expect(status.consecutiveFailures == 0)
        #expect(!recorder.allLines.contains { $0.hasPrefix("vigie_collector_up,collector=slow value=0") })
    }
}
