import Foundation
import Testing
import VigieAgent
import VigieConfig

@Suite struct CollectorFileTests {
    private func tailer(
        _ dir: TemporaryDirectory,
        format: CollectorConfiguration.FileFormat = .lineProtocol
    )
        -> FileCollector
    {
        FileCollector(name: "log", path: dir.file("data.log"), format: format, stateDirectory: dir.file("state"))
    }

    /// One run whose lines the agent spooled (as the scheduler settles it).
    private func run(_ collector: FileCollector) -> [String] {
        let lines = dataLines(collector.collect(now: 1, stopping: { false }).lines)
        #expect(collector.settle(spooled: true) == nil)
        return lines
    }

    /// Defect 9 of issue 15: the offset is saved only once the lines are spooled, so a
    /// crash between reading and spooling reads them again instead of losing them.
    @Test func theOffsetIsSavedOnlyOnceTheLinesAreSpooled() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.append("a value=1\nb value=2\n", to: "data.log")
        let collector = tailer(dir)
        #expect(dataLines(collector.collect(now: 1, stopping: { false }).lines) == ["a value=1", "b value=2"])
        #expect(!FileManager.default.fileExists(atPath: dir.file("state/log.offset")))
        // The agent dies before spooling: the next agent reads the same lines.
        let restarted = tailer(dir)
        #expect(run(restarted) == ["a value=1", "b value=2"])
        #expect(FileManager.default.fileExists(atPath: dir.file("state/log.offset")))
        #expect(run(tailer(dir)) == [])
    }

    /// Lines the agent could not take (queue full, spool failing) are read again by the
    /// next run: backpressure instead of loss.
    @Test func linesTheAgentRefusedAreReadAgain() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.append("a value=1\n", to: "data.log")
        let collector = tailer(dir)
        #expect(dataLines(collector.collect(now: 1, stopping: { false }).lines) == ["a value=1"])
        #expect(collector.settle(spooled: false)?.contains("read again next run") == true)
        try dir.append("b value=2\n", to: "data.log")
        #expect(run(collector) == ["a value=1", "b value=2"])
        #expect(run(collector) == [])
        #expect(run(tailer(dir)) == [])
    }

    @Test func appendedLinesArriveOnceAndPartialLinesWait() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let collector = tailer(dir)
        #expect(collector.collect(now: 1, stopping: { false }).failed)  // no file yet

        try dir.append("a value=1\nb value=2\n", to: "data.log")
        #expect(run(collector) == ["a value=1", "b value=2"])
        #expect(run(collector) == [])

        try dir.append("c value=3\nd val", to: "data.log")
        #expect(run(collector) == ["c value=3"])
        try dir.append("ue=4\n", to: "data.log")
        #expect(run(collector) == ["d value=4"])

        try dir.append("bad line\ne value=5\n", to: "data.log")
        let report = collector.collect(now: 1, stopping: { false })
        #expect(report.result == "bad output (1 lines rejected)")
        #expect(dataLines(report.lines) == ["e value=5"])
        #expect(collector.settle(spooled: true) == nil)
        #expect(FileManager.default.fileExists(atPath: dir.file("state/log.offset")))
    }

    @Test func restartResumesFromTheSavedOffset() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.append("a value=1\nb value=2\nc val", to: "data.log")
        #expect(run(tailer(dir)) == ["a value=1", "b value=2"])

        try dir.append("ue=3\nd value=4\n", to: "data.log")
        let restarted = tailer(dir)
        #expect(run(restarted) == ["c value=3", "d value=4"])
        #expect(run(tailer(dir)) == [])
    }

    @Test func rotationLosesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let collector = tailer(dir)
        try dir.append("a value=1\n", to: "data.log")
        #expect(run(collector) == ["a value=1"])

        // Written after the last read, then rotated: the old file's tail must still come,
        // including a last line without its newline.
        try dir.append("b value=2\nc value=3", to: "data.log")
        try FileManager.default.moveItem(atPath: dir.file("data.log"), toPath: dir.file("data.log.1"))
        try dir.append("d value=4\n", to: "data.log")
        #expect(run(collector) == ["b value=2", "c value=3", "d value=4"])

        try dir.append("e value=5\n", to: "data.log")
        #expect(run(collector) == ["e value=5"])

        // Truncated in place (copytruncate): read again from the start.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file("data.log")))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try dir.append("f value=6\n", to: "data.log")
        #expect(run(collector) == ["f value=6"])
    }

    @Test func rotationWhileStoppedStartsTheNewFileFromZero() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.append("a value=1\n", to: "data.log")
        #expect(run(tailer(dir)) == ["a value=1"])
        try FileManager.default.moveItem(atPath: dir.file("data.log"), toPath: dir.file("data.log.1"))
        try dir.append("b value=2\nc value=3\n", to: "data.log")
        #expect(run(tailer(dir)) == ["b value=2", "c value=3"])
    }

    @Test func csvMapsColumnsEscapesAndTimestamps() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let format = CollectorConfiguration.FileFormat.csv(
            measurement: "bus load",
            tags: ["line", "stop"],
            fields: ["riders", "delay s"],
            timestamp: "time"
        )
        try dir.append("time,line,stop,riders,delay s,ignored\n", to: "data.log")
        try dir.append("2026-11-01T08:30:00Z,12,\"Gare, Nord\",42,1.5,x\n", to: "data.log")
        try dir.append("1764403200.25,a=b,Mairie ,7,,y\r\n", to: "data.log")
        try dir.append("1764403200,12,Port,lots,3,z\n", to: "data.log")
        try dir.append(",\"\",\"Quai \"\"B\"\"\",1,2,\n", to: "data.log")
        let collector = tailer(dir, format: format)
        let report = collector.collect(now: 1, stopping: { false })
        #expect(
            dataLines(report.lines) == [
                "bus\\ load,line=12,stop=Gare\\,\\ Nord riders=42.0,delay\\ s=1.5 1793521800000000000",
                "bus\\ load,line=a\\=b,stop=Mairie riders=7.0 1764403200250000000",
                "bus\\ load,stop=Quai\\ \"B\" riders=1.0,delay\\ s=2.0",
            ]
        )
        #expect(report.result == "bad output (1 lines rejected)")
        #expect(collector.settle(spooled: true) == nil)

        // Resumed by a new collector: the header is read back from the file's start.
        try dir.append("1764403201,13,Sud,5,0.5,w\n", to: "data.log")
        #expect(
            run(tailer(dir, format: format)) == [
                "bus\\ load,line=13,stop=Sud riders=5.0,delay\\ s=0.5 1764403201000000000"
            ]
        )
    }

    @Test func csvFieldNamesRenameColumns() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let format = CollectorConfiguration.FileFormat.csv(
            measurement: "guichet_attente",
            tags: ["guichet"],
            fields: ["attente_min", "appel"],
            timestamp: nil,
            fieldNames: ["attente_min": "value"]
        )
        try dir.append("guichet,appel,attente_min\n3,1,12.5\n", to: "data.log")
        #expect(run(tailer(dir, format: format)) == ["guichet_attente,guichet=3 value=12.5,appel=1.0"])
    }

    @Test func csvHeaderMissingAColumnIsReported() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.append("a,b\n1,2\n", to: "data.log")
        let collector = tailer(dir, format: .csv(measurement: "m", tags: [], fields: ["c"], timestamp: nil))
        let report = collector.collect(now: 1, stopping: { false })
        #expect(report.failed)
        #expect(report.result.contains("lacks column c"))
    }
}
