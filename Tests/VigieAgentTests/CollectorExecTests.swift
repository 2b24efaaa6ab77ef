import Foundation
import Logging
import Testing
import VigieAgent
import VigieConfig
import VigieCore

@Suite struct CollectorExecTests {
    private func sh(_ script: String, timeout: Int64 = 5_000_000_000) -> ExecCollector {
        ExecCollector(name: "job", command: ["/bin/sh", "-c", script], timeout: timeout)
    }

    @Test func successPassesLinesAndReportsUp() {
        let collector = sh("echo 'water,site=north level=1.5'; echo 'water,site=south level=2 1700000000000000000'")
        let report = collector.collect(now: 42, stopping: { false })
        #expect(report.result == "ok")
        #expect(!report.failed)
        #expect(
            dataLines(report.lines) == ["water,site=north level=1.5", "water,site=south level=2 1700000000000000000"]
        )
        #expect(report.lines.contains("vigie_collector_up,collector=job value=1 42\n"))
        #expect(report.lines.contains("vigie_collector_duration_seconds,collector=job value="))
        #expect(report.lineCount == 4)
        #expect(report.lines.hasSuffix("\n"))
    }

    @Test func nonZeroExitIsDownWithStderr() {
        let collector = sh("echo 'water level=1'; echo 'disk full' >&2; exit 3")
        let report = collector.collect(now: 7, stopping: { false })
        #expect(report.result == "exit 3")
        #expect(report.failed)
        #expect(report.stderr == "disk full\n")
        #expect(report.lines.contains("vigie_collector_up,collector=job value=0 7\n"))
        #expect(dataLines(report.lines) == ["water level=1"])
    }

    @Test func timeoutKillsTheCommand() {
        let collector = ExecCollector(name: "slow", command: ["sleep", "30"], timeout: 300_000_000)
        let started = Date()
        let report = collector.collect(now: 1, stopping: { false })
        let elapsed = Date().timeIntervalSince(started)
        #expect(report.result == "timeout")
        #expect(report.failed)
        #expect(elapsed < 1.5)
        #expect(report.lines.contains("vigie_collector_up,collector=slow value=0 1\n"))
    }

    @Test func ignoredSIGTERMGetsSIGKILLOneSecondLater() {
        let collector = sh("trap '' TERM; sleep 30 & wait; sleep 30", timeout: 200_000_000)
        let started = Date()
        let report = collector.collect(now: 1, stopping: { false })
        let elapsed = Date().timeIntervalSince(started)
        #expect(report.result == "timeout")
        #expect(elapsed >= 1.1 && elapsed < 2.5)
    }

    @Test func badOutputIsPartiallyRejected() {
        let collector = sh("printf 'ok value=1\\nnot line protocol\\nalso=bad\\nok value=2\\n\\n# comment\\n'")
        let report = collector.collect(now: 5, stopping: { false })
        #expect(report.result == "bad output (2 lines rejected)")
        #expect(report.failed)
        #expect(dataLines(report.lines) == ["ok value=1", "ok value=2"])
        #expect(report.lines.contains("vigie_collector_up,collector=job value=0 5\n"))
    }

    @Test func missingProgramIsReported() {
        let collector = ExecCollector(name: "ghost", command: ["/nonexistent/vigie-probe"], timeout: 1_000_000_000)
        let report = collector.collect(now: 1, stopping: { false })
        #expect(report.failed)
        #expect(report.result.hasPrefix("cannot run /nonexistent/vigie-probe"))
        #expect(report.lines.contains("vigie_collector_up,collector=ghost value=0 1\n"))
    }

    @Test func schedulerRunsEveryIntervalAndKeepsStatus() throws {
        let recorder = SinkRecorder()
        let scheduler = CollectorScheduler(
            configurations: [
                CollectorConfiguration(
                    name: "tick",
                    kind: .exec(command: ["/bin/sh", "-c", "echo 'tick value=1'"], timeout: 2_000_000_000),
                    interval: 100_000_000
                ),
                CollectorConfiguration(
                    name: "broken",
                    kind: .exec(command: ["/bin/sh", "-c", "exit 2"], timeout: 2_000_000_000),
                    interval: 100_000_000
                ),
            ],
            stateDirectory: "/nonexistent",
            sink: recorder.sink,
            logger: Logger(label: "test")
        )
        scheduler.start()
        let enough = recorder.wait {
            scheduler.statuses().allSatisfy { $0.runs >= 3 }
        }
        scheduler.stop()
        #expect(enough)
        let statuses = scheduler.statuses()
        #expect(statuses.map(\.name) == ["tick", "broken"])
        #expect(statuses[0].result == "ok")
        #expect(statuses[0].consecutiveFailures == 0)
        #expect(statuses[0].linesProduced == 3)
        #expect(statuses[1].result == "exit 2")
        #expect(statuses[1].consecutiveFailures == statuses[1].runs)
        #expect(statuses[1].lastRunAt != nil)
        #expect(recorder.allLines.filter { $0 == "tick value=1" }.count == statuses[0].runs)
        let json = scheduler.statusObjects()
        #expect(json[1]["result"] == .string("exit 2"))
        #expect(json[0]["kind"] == .string("exec"))
        #expect((try? JSONEncoder().encode(json)) != nil)
        // Not overlapping and roughly periodic: 3+ runs need 200+ ms.
        let runs = statuses[0].runs
        usleep(300_000)
        #expect(scheduler.statuses()[0].runs == runs)
    }

    @Test func stopKillsARunningCommandPromptly() {
        let recorder = SinkRecorder()
        let scheduler = CollectorScheduler(
            entries: [
                .init(
                    collector: ExecCollector(name: "sleeper", command: ["sleep", "30"], timeout: 60_000_000_000),
                    interval: 100_000_000
                )
            ],
            sink: recorder.sink,
            logger: Logger(label: "test")
        )
        scheduler.start()
        usleep(200_000)
        let started = Date()
        scheduler.stop()
        #expect(Date().timeIntervalSince(started) < 1)
        #expect(scheduler.statuses()[0].result == "stopped")
    }
}
