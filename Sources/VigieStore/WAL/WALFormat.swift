/// The on-disk format of the write-ahead log (version 1). All integers are little-endian;
/// every checksum is ``CRC32C``.
///
/// **Segments.** The log is a directory of segment files named
/// `<start LSN as 20 decimal digits, zero-padded>.wal`, e.g. `00000000000067108864.wal`.
/// Each file starts with a 32-byte header, then records back to back, no padding:
///
/// | offset | size | field                                                  |
/// |-------:|-----:|--------------------------------------------------------|
/// | 0      | 8    | magic `VIGIEWAL` (ASCII)                               |
/// | 8      | 4    | u32 format version = 1                                 |
/// | 12     | 4    | u32 flags = 0                                          |
/// | 16     | 8    | u64 start LSN (equal to the file name's)               |
/// | 24     | 4    | u32 CRC-32C of bytes 0..<24                            |
/// | 28     | 4    | zero padding                                           |
///
/// **LSNs.** A log sequence number counts record bytes only, segment headers excluded:
/// the record at file offset `o` of the segment starting at LSN `L` has LSN
/// `L + o − 32`, and its end LSN is its LSN + 8 + body length. A new segment starts at
/// the end LSN of the last record of the previous one, so LSNs are contiguous across
/// segments (a gap appears only where recovery cut a corrupt segment short).
///
/// **Records.** An 8-byte record header, then the body:
///
/// | size  | field                                                            |
/// |------:|------------------------------------------------------------------|
/// | 4     | u32 body length `n` (at most 256 MiB; more is corruption)        |
/// | 4     | u32 CRC-32C of the `n` body bytes                                |
/// | 1     | body: u8 kind (``WALRecordKind``; unknown kinds are passed on)   |
/// | 8     | i64 received at, nanoseconds since the Unix epoch                |
/// | 8     | u64 sequence number (0 when there is none)                       |
/// | 1 + p | u8 producer id length `p` (0…128), then `p` bytes                |
/// | 4     | u32 frame count `f`                                              |
/// | f × … | per frame: u32 length `m`, then `m` bytes                        |
///
/// A body is well-formed when the producer length is at most 128 and the frames end
/// exactly at the body's end. The smallest body (no producer, no frame) is 22 bytes.
public enum WALFormat {
    /// Bytes of a segment header.
    public static let segmentHeaderSize = 32
    /// Bytes before a record's body (length and CRC).
    public static let recordHeaderSize = 8
    /// The largest body a valid record can have (256 MiB).
    public static let maxBodySize = 256 << 20
    /// The longest producer id a record can carry.
    public static let maxProducerLength = 128
    /// The format version this code writes and reads.
    public static let version: UInt32 = 1
    /// Bytes of a body with no producer and no frame.
    public static let minBodySize = 22
    /// The segment file name suffix.
    public static let fileExtension = ".wal"
    /// LSNs stay below 2⁶² (4 EiB of records: never reached), so that LSN arithmetic —
    /// a segment's start plus its size, the end of the log plus a record — cannot
    /// overflow. A file named beyond it is not a segment.
    public static let maxLSN: UInt64 = 1 << 62

    static let magic: [UInt8] = Array("VIGIEWAL".utf8)

    /// The file name of the segment starting at `startLSN`.
    public static func segmentFileName(startLSN: UInt64) -> String {
        let digits = String(startLSN)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + fileExtension
    }

    /// The start LSN a segment file name encodes, or `nil` if `name` is not exactly 20
    /// decimal digits followed by `.wal`.
    public static func startLSN(fileName name: String) -> UInt64? {
        let utf8 = Array(name.utf8)
        guard utf8.count == 24, name.hasSuffix(fileExtension) else { return nil }
        var value: UInt64 = 0
        for byte in utf8[0..<20] {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// The 32 header bytes of a segment starting at `startLSN`.
    static func header(startLSN: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: segmentHeaderSize)
        bytes.withUnsafeMutableBytes { raw in
            for (i, byte) in magic.enumerated() { raw[i] = byte }
            raw.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: UInt32(0), toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: startLSN.littleEndian, toByteOffset: 16, as: UInt64.self)
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<24]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: 24, as: UInt32.self)
        }
        return bytes
    }

    /// What a segment header says.
    enum HeaderCheck: Equatable {
        case valid(startLSN: UInt64)
        /// Shorter than a header, or all zeros: a segment whose creation was cut short.
        case torn
        /// Not a header (bad magic, CRC, padding).
        case corrupt(String)
        /// A sound header of a format this code does not read.
        case unsupported(String)
    }

    static func checkHeader(_ bytes: UnsafeRawBufferPointer) -> HeaderCheck {
        guard bytes.count >= segmentHeaderSize else { return .torn }
        let header = UnsafeRawBufferPointer(rebasing: bytes[0..<segmentHeaderSize])
        if header.allSatisfy({ $0 == 0 }) { return .torn }
        guard header[0..<8].elementsEqual(magic) else { return .corrupt("bad magic (not a Vigie WAL segment)") }
        let storedCRC = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[0..<24]))
        guard storedCRC == crc else { return .corrupt("segment header CRC mismatch") }
        let version = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let flags = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard version == Self.version else {
            return .unsupported("format version \(version) (this build reads version \(Self.version))")
        }
        guard flags == 0 else { return .unsupported("unknown segment flags 0x\(String(flags, radix: 16))") }
        return .valid(startLSN: UInt64(littleEndian: header.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
    }

    /// Where a record starts in a buffer and what came of checking it.
    enum RecordCheck {
        /// A valid record of `bodyLength` body bytes; `frameStarts` holds each frame's
        /// offset in the body.
        case valid(bodyLength: Int)
        /// The buffer ends before the record does (a torn tail, or not written yet).
        case incomplete(String)
        /// The bytes cannot be a record.
        case corrupt(String)
    }

    /// Checks the record at `offset` of `buffer`: length, CRC, body structure. On
    /// success, `frames` holds the frame offsets (in the body).
    static func checkRecord(_ buffer: UnsafeRawBufferPointer, at offset: Int, frames: FrameIndex) -> RecordCheck {
        let available = buffer.count - offset
        guard available >= recordHeaderSize else {
            return .incomplete("truncated record header (\(available) of \(recordHeaderSize) bytes)")
        }
        let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let storedCRC = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        if length == 0, storedCRC == 0 { return .corrupt("zero-filled record header") }
        guard length <= maxBodySize else { return .corrupt("record length \(length) exceeds the 256 MiB maximum") }
        guard length >= minBodySize else {
            return .corrupt("record length \(length) below the \(minBodySize)-byte minimum")
        }
        guard length <= available - recordHeaderSize else {
            return .incomplete("truncated record (\(length) body bytes, \(available - recordHeaderSize) present)")
        }
        let body = UnsafeRawBufferPointer(
            rebasing: buffer[(offset + recordHeaderSize)..<(offset + recordHeaderSize + length)]
        )
        guard CRC32C.checksum(body) == storedCRC else { return .corrupt("CRC mismatch") }
        if let problem = indexBody(body, frames: frames) { return .corrupt(problem) }
        return .valid(bodyLength: length)
    }

    /// Walks a body whose CRC matched; returns why it is malformed, or nil.
    static func indexBody(_ body: UnsafeRawBufferPointer, frames: FrameIndex) -> String? {
        let producerLength = Int(body[17])
        guard producerLength <= maxProducerLength else { return "producer length \(producerLength) exceeds 128" }
        var position = 18 + producerLength
        guard position + 4 <= body.count else { return "body too short for its producer id" }
        let count = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
        position += 4
        guard count <= (body.count - position) / 4 else { return "frame count \(count) does not fit the body" }
        frames.reset(count: count)
        for i in 0..<count {
            guard body.count - position >= 4 else { return "frame \(i) length runs past the body" }
            let length = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
            position += 4
            guard length <= body.count - position else { return "frame \(i) runs past the body" }
            frames.starts[i] = position
            position += length
        }
        guard position == body.count else { return "\(body.count - position) stray bytes after the last frame" }
        return nil
    }
}
