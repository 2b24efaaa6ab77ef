#!/usr/bin/env bash
# Release-mode measurements of the write-ahead log, without building the whole package:
# compiles Sources/VigieStore/WAL with swiftc -O plus a small driver, then reports CRC-32C
# throughput, append+flush speed per sync policy, and recovery / tail-read time for
# 10,000 records of 100 frames of 60 bytes (1,000,000 line-protocol samples, ~64 MB).
# Usage: scripts/wal-bench.sh [directory for the log, default a temp dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log_dir=${1:-$work/log}
cat > "$work/main.swift" <<'EOF'
import Foundation

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let size = 64 << 20
let data = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
for i in 0..<size { data[i] = UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 7) }
var best = 0.0
var crc: UInt32 = 0
for _ in 0..<5 {
    let t = seconds { for _ in 0..<4 { crc = CRC32C.update(crc, UnsafeRawBufferPointer(data)) } }
    best = max(best, Double(size * 4) / t / 1e9)
}
print(String(format: "CRC32C (slicing-by-8): best %.2f GB/s", best))

let dir = CommandLine.arguments[1]
let line = Array("guichet_attente,service=etat-civil,site=mairie-centre value=12".utf8.prefix(60))
let producer = Array("agent-42".utf8)
for policy in [WALSyncPolicy.off, .batch(), .always] {
    try? FileManager.default.removeItem(atPath: dir)
    let writer = try WALWriter(directory: dir, startLSN: 0, syncPolicy: policy)
    var durableAt = 0.0
    let t = try seconds {
        try producer.withUnsafeBytes { p in
            try line.withUnsafeBytes { l in
                for seq in 1...10_000 {
                    try writer.beginRecord(kind: .ingest, receivedAt: 1, sequence: UInt64(seq), producer: p)
                    for _ in 0..<100 { try writer.appendFrame(l) }
                    writer.endRecord()
                    if seq % 10 == 0 {
                        try writer.flush()
                        writer.requestSync()
                    }
                }
            }
        }
        let flushed = writer.flushedLSN
        durableAt = seconds { while writer.durableLSN < flushed { usleep(50) } }
    }
    let bytes = writer.flushedLSN
    try writer.close()
    print(
        String(
            format: "%@: 10,000 records / 1,000 flushes, %.1f MB in %.3f s (%.0f MB/s), last sync waited %.1f ms",
            "\(policy)", Double(bytes) / 1e6, t, Double(bytes) / t / 1e6, durableAt * 1e3
        )
    )
}

for pass in ["cold-ish", "warm"] {
    var frames = 0
    var report = WALRecoveryReport()
    let t = try seconds { report = try WALRecovery.recover(directory: dir) { frames += $0.frameCount } }
    print(
        String(
            format: "recovery (%@): %d records, %d frames, %.1f MB in %.3f s (%.0f MB/s)",
            pass, report.records, frames, Double(report.bytes) / 1e6, t, Double(report.bytes) / t / 1e6
        )
    )
}
let reader = WALTailReader(directory: dir, from: 0)
var records = 0
let t = try seconds { try reader.read(upTo: .max) { _ in records += 1 } }
print(String(format: "tail reader: %d records in %.3f s", records, t))
EOF
swiftc -O -wmo -module-name walbench -o "$work/walbench" "$work/main.swift" \
    "$root/Sources/VigieStore/StoreError.swift" "$root"/Sources/VigieStore/WAL/*.swift
"$work/walbench" "$log_dir"
