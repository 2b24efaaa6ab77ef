import Foundation

/// Scratch directories for targets whose decoders read files: one per process and name,
/// in memory (`/dev/shm`) where there is one, since the stores fsync what they write;
/// emptied before each input, removed at exit.
public enum Scratch {
    nonisolated(unsafe) private static var made: [String] = []

    /// `/dev/shm/vigie-fuzz-<pid>`, or the same under the temporary directory.
    static var root: String {
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return base + "/vigie-fuzz-\(getpid())"
    }

    /// A new, empty directory `<root>/<name>`.
    public static func directory(_ name: String) -> String {
        let path = root + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("harness: cannot create \(path): \(error)")
        }
        if made.isEmpty {
            atexit { try? FileManager.default.removeItem(atPath: Scratch.root) }
        }
        made.append(path)
        return path
    }

    /// Removes everything in `directory` (not the directory itself).
    public static func clear(_ directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    /// Writes `bytes` to `path` (created or replaced, mode 0600).
    public static func write(_ bytes: some Collection<UInt8>, to path: String) {
        let data = Data(bytes)
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        else { fatalError("harness: cannot write \(path)") }
    }

    /// The directory named by `VIGIE_FUZZ_WRITE_SEEDS`, when the target is asked to write
    /// its generated seed inputs there (and exit) instead of fuzzing.
    public static var seedDirectory: String? {
        ProcessInfo.processInfo.environment["VIGIE_FUZZ_WRITE_SEEDS"]
    }

    /// Writes seed input `bytes` as `<directory>/<name>`.
    public static func writeSeed(_ bytes: [UInt8], named name: String, in directory: String) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        write(bytes, to: directory + "/" + name)
        print("seed \(directory)/\(name): \(bytes.count) bytes")
    }
}
