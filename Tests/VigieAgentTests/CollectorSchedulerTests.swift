import Foundation
import Logging
import Testing
import VigieAgent
import VigieConfig

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
