import Foundation
import Testing
import VigieAgent
import VigieConfig
import VigieStore
import VigieTesting

@Suite("Agent spool")
struct AgentSpoolTests {
    @Test func appendsRecordsWithDenseSequencesAndRecoversThemAfterReopen() throws {
        let directory = temporaryDirectory("spool")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = AgentSpoolConfiguration(directory: directory, fsync: .always)
        do {
            let spool = try AgentSpool(configuration: configuration, producerID: "agent-a", logger: testLogger())
            #expect(try spool.append(text: "m value=1\nm value=2", receivedAt: 10).sequence == 1)
            #expect(try spool.append(text: "m value=3", receivedAt: 11).sequence == 2)
            let last = try spool.append(text: "m value=4", receivedAt: 12)
            #expect(last.sequence == 3)
            #expect(eventually(seconds: 5, pollMilliseconds: 2) { spool.durableLSN >= last.position })
            try spool.close()
        }
        let reopened = try AgentSpool(configuration: configuration, producerID: "agent-a", logger: testLogger())
        #expect(reopened.state.lastSequence == 3)
        #expect(reopened.recoveryReport.records == 3)
        #expect(try reopened.append(text: "m value=5", receivedAt: 13).sequence == 4)
        try reopened.close()

        var seen: [(UInt64, String, String, Int64)] = []
        _ = try WALRecovery.recover(directory: reopened.segmentDirectory) { record in
            seen.append(
                (
                    record.sequence, String(decoding: record.producer, as: UTF8.self),
                    String(decoding: record.frame(0), as: UTF8.self), record.receivedAt
                )
            )
            #expect(record.kind == .ingest)
        }
        #expect(seen.map(\.0) == [1, 2, 3, 4])
        let upstream = reopened.shared.upstreamProducer
        #expect(upstream.hasPrefix("agent-a.") && upstream.count == "agent-a.".count + 8, "\(upstream)")
        #expect(seen.allSatisfy { $0.1 == upstream })
        #expect(seen.map(\.2) == ["m value=1\nm value=2", "m value=3", "m value=4", "m value=5"])
        #expect(seen.map(\.3) == [10, 11, 12, 13])
    }

    @Test func sequenceSurvivesWhenEverySegmentWasDeleted() throws {
        let directory = temporaryDirectory("spool-state")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = AgentSpoolConfiguration(directory: directory, fsync: .off)
        do {
            let spool = try AgentSpool(configuration: configuration, producerID: "agent-b", logger: testLogger())
            for i in 0..<5 { try spool.append(text: "m value=\(i)", receivedAt: 1) }
            try spool.close()
        }
        try FileManager.default.removeItem(atPath: directory + "/spool")
        let reopened = try AgentSpool(configuration: configuration, producerID: "agent-b", logger: testLogger())
        #expect(try reopened.append(text: "m value=9", receivedAt: 2).sequence == 6)
        try reopened.close()
    }

    @Test func sizeBoundDropsTheOldestSegmentsAndCountsThem() throws {
        let directory = temporaryDirectory("spool-bound")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = AgentSpoolConfiguration(
            directory: directory,
            maxBytes: 2_048,
            segmentBytes: 512,
            fsync: .off
        )
        let spool = try AgentSpool(configuration: configuration, producerID: "agent-c", logger: testLogger())
        for i in 0..<60 { try spool.append(text: "m,k=v value=\(i)\nm,k=v value=\(i)", receivedAt: 1) }
        #expect(spool.bytesOnDisk <= 2_048 + 512)
        let onDisk = try WALSegments.list(directory: spool.segmentDirectory).reduce(Int64(0)) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? NSNumber)?.int64Value ?? 0)
        }
        #expect(spool.bytesOnDisk == onDisk)
        #expect(spool.state.droppedBatches > 0)
        #expect(spool.state.droppedSamples == 2 * spool.state.droppedBatches)
        let segments = try WALSegments.list(directory: spool.segmentDirectory)
        #expect(segments.first.map { $0.startLSN > 0 } == true)
        try spool.close()
        let state = try AgentSpoolState.load(path: spool.statePath)
        #expect(state.droppedBatches == spool.state.droppedBatches)
        #expect(state.lastSequence == 60)
    }

    @Test func healthLinesAreByteExact() {
        var snapshot = AgentHealth.Snapshot(
            spoolBytes: 4_096,
            spoolUnsent: 2,
            oldestUnsentSeconds: 1.5,
            droppedSamples: 0,
            droppedBatches: 0,
            deadLetters: 0,
            connected: true
        )
        #expect(
            AgentHealth.lines(agent: "a1", snapshot)
                == "vigie_agent,agent=a1 spool_bytes=4096i,spool_unsent=2i,oldest_unsent_s=1.5,dropped_samples=0i,"
                + "dropped_batches=0i,dead_letters=0i,connected=true\n"
        )
        snapshot.droppedSamples = 10
        snapshot.droppedBatches = 3
        #expect(
            AgentHealth.lines(agent: "a,1", snapshot).hasSuffix(
                "\nvigie_agent_dropped,agent=a\\,1 samples=10i,batches=3i\n"
            )
        )
    }
}

/// Each life of a spool has its own producer id upstream, so that a wiped spool, whose
/// numbers start again at 1, is never taken for the old one by the daemon.
@Suite struct AgentSpoolIncarnationTests {
    static func open(_ directory: String) throws -> AgentSpool {
        try AgentSpool(
            configuration: AgentSpoolConfiguration(directory: directory),
            producerID: "agent-a",
            logger: testLogger()
        )
    }

    @Test func theIncarnationOutlivesRestartsAndALostStateButNotAWipe() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-inc-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var spool: AgentSpool? = try Self.open(directory)
        let first = try #require(spool?.shared.upstreamProducer)
        #expect(first.hasPrefix("agent-a."))
        _ = try Array("m value=1".utf8).withUnsafeBytes { try spool?.append(lines: $0, lineCount: 1, receivedAt: 1) }
        try spool?.close()
        spool = nil
        #expect(try Self.open(directory).shared.upstreamProducer == first, "a restart keeps it")
        // state.json lost (deleted by hand): the records still name the incarnation.
        try FileManager.default.removeItem(atPath: directory + "/state.json")
        #expect(try Self.open(directory).shared.upstreamProducer == first)
        // Everything wiped: a new life, a new id.
        try FileManager.default.removeItem(atPath: directory)
        let second = try Self.open(directory).shared.upstreamProducer
        #expect(second.hasPrefix("agent-a.") && second != first)
    }

    @Test func aSpoolFromBeforeIncarnationsKeepsItsPlainProducerID() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-inc-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(#"{"ackedLSN":0,"ackedSequence":7,"droppedBatches":0,"droppedSamples":0,"lastSequence":7}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/state.json"))
        #expect(try Self.open(directory).shared.upstreamProducer == "agent-a")
        #expect(AgentSpool.incarnation(of: "agent-a", producerID: "agent-a") == nil)
        #expect(AgentSpool.incarnation(of: "agent-a.0badcafe", producerID: "agent-a") == "0badcafe")
        #expect(AgentSpool.incarnation(of: "agent-b.0badcafe", producerID: "agent-a") != "0badcafe")
    }

    @Test func aLongProducerIDIsShortenedToFitWithItsIncarnation() {
        var state = AgentSpoolState()
        state.incarnation = "0badcafe"
        let upstream = state.upstreamProducer(String(repeating: "é", count: 100))
        #expect(upstream.utf8.count <= 128)
        #expect(upstream.hasSuffix(".0badcafe"))
    }
}
