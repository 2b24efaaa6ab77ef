import Foundation
import Testing
import VigieStore
import VigieTesting

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "wal") throws {
        var template = Array("\(NSTemporaryDirectory())vigie-\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { throw StoreError(path: "tmp", operation: "mkdtemp", code: errno) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A record as plain values, for comparing what was written with what is read back.
struct RecordValue: Equatable, CustomStringConvertible {
    var kindRaw: UInt8
    var receivedAt: Int64
    var sequence: UInt64
    var producer: [UInt8]
    var frames: [[UInt8]]
    var lsn: UInt64 = 0
    var endLSN: UInt64 = 0

    init(kindRaw: UInt8, receivedAt: Int64, sequence: UInt64, producer: [UInt8], frames: [[UInt8]]) {
        self.kindRaw = kindRaw
        self.receivedAt = receivedAt
        self.sequence = sequence
        self.producer = producer
        self.frames = frames
    }

    init(_ record: WALRecord) {
        kindRaw = record.kindRaw
        receivedAt = record.receivedAt
        sequence = record.sequence
        producer = Array(record.producer)
        frames = (0..<record.frameCount).map { Array(record.frame($0)) }
        lsn = record.lsn
        endLSN = record.endLSN
    }

    var kind: WALRecordKind { WALRecordKind(rawValue: kindRaw) ?? .ingest }

    /// Bytes the record takes in the log.
    var size: Int { 8 + 22 + producer.count + frames.reduce(0) { $0 + 4 + $1.count } }

    var description: String { "record@\(lsn) kind \(kindRaw) seq \(sequence) \(frames.count) frames" }

    static func random(using rng: inout SeededGenerator, maxFrames: Int = 6, maxFrameBytes: Int = 300) -> RecordValue {
        let kind = WALRecordKind.allCases.randomElement(using: &rng) ?? .ingest
        let producer = (0..<Int.random(in: 0...128, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let frames = (0..<Int.random(in: 0...maxFrames, using: &rng)).map { _ in
            (0..<Int.random(in: 0...maxFrameBytes, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        return RecordValue(
            kindRaw: kind.rawValue,
            receivedAt: Int64.random(in: Int64.min...Int64.max, using: &rng),
            sequence: UInt64.random(in: 0...UInt64.max, using: &rng),
            producer: producer,
            frames: frames
        )
    }

    /// Appends through the allocation-free API and fills in the LSNs.
    mutating func write(to writer: WALWriter) throws {
        lsn = writer.nextLSN
        try producer.withUnsafeBytes {
            try writer.beginRecord(kind: kind, receivedAt: receivedAt, sequence: sequence, producer: $0)
        }
        for frame in frames { try frame.withUnsafeBytes { try writer.appendFrame($0) } }
        endLSN = writer.endRecord()
    }
}

/// Every record of the log from `lsn` on, and the report.
func recoverAll(_ directory: String, from lsn: UInt64 = 0) throws -> ([RecordValue], WALRecoveryReport) {
    var records: [RecordValue] = []
    let report = try WALRecovery.recover(directory: directory, from: lsn) { records.append(RecordValue($0)) }
    return (records, report)
}

/// Writes `count` random records, flushing every few, then closes the writer.
func writeRandomLog(
    _ directory: String,
    count: Int,
    seed: UInt64,
    startLSN: UInt64 = 0,
    segmentBytes: Int = 4_096,
    policy: WALSyncPolicy = .off
) throws -> [RecordValue] {
    var rng = SeededGenerator(seed: seed)
    let writer = try WALWriter(directory: directory, startLSN: startLSN, segmentBytes: segmentBytes, syncPolicy: policy)
    var written: [RecordValue] = []
    for _ in 0..<count {
        var record = RecordValue.random(using: &rng)
        try record.write(to: writer)
        written.append(record)
        if Int.random(in: 0..<4, using: &rng) == 0 { try writer.flush() }
    }
    try writer.close()
    return written
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : -1
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Reads, changes and writes back part of a file.
func patchFile(_ path: String, _ body: (inout [UInt8]) -> Void) throws {
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    body(&bytes)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func truncateFile(_ path: String, to length: Int) {
    #expect(truncate(path, off_t(length)) == 0)
}

/// The segment holding `lsn` and the file offset of that LSN.
func locate(_ lsn: UInt64, in directory: String) throws -> (segment: WALSegments.Segment, offset: Int) {
    let segments = try WALSegments.list(directory: directory)
    let segment = try #require(segments.last { $0.startLSN <= lsn })
    return (segment, 32 + Int(lsn - segment.startLSN))
}

/// Removes header-only segments at the end of the log (what a rotation at close leaves).
func dropEmptyTailSegments(_ directory: String) throws {
    while let last = try WALSegments.list(directory: directory).last, fileSize(last.path) == 32 {
        unlink(last.path)
    }
}

/// Waits up to `milliseconds` for `fd` to become readable.
func waitReadable(_ fd: Int32, milliseconds: Int32) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, milliseconds) == 1 && entry.revents & Int16(POLLIN) != 0
}
