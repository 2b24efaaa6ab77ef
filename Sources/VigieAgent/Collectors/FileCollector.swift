import Foundation
import Synchronization
import VigieConfig
import VigieCore

/// A `file` collector: tails `path`, handing each new complete line to the sink as line
/// protocol (`lineProtocol`: each line as is, checked; `csv`: mapped, see
/// `CSVMapping`).
///
/// - Only complete lines are read; a partial last line waits for its newline.
/// - The position after the last line read is kept in `<stateDirectory>/NAME.offset`
///   (device, inode and offset; written, fsynced and renamed after every run that
///   moved), so a restarted agent resumes there: nothing skipped, nothing repeated.
///   When the file at `path` at startup is another file than the one recorded, it is
///   read from its start (what the old file got after the agent stopped is lost).
/// - Rotation: when `path` names another inode (renamed and recreated), the open old
///   file is read to its end (a last line without a newline counts as complete then),
///   closed, and the new file is read from its start; when the file shrank below the
///   offset (truncated, as `copytruncate` does), it is read again from its start.
/// - At most `maxReadBytes` are read per run; the rest waits for the next run. A line
///   longer than that is skipped and counted as rejected.
public final class FileCollector: Collector {
    public let name: String
    public var kind: String { "file" }
    /// The tailed file.
    public let path: String
    /// How lines become samples.
    public let format: CollectorConfiguration.FileFormat
    /// Where the offset file lives.
    public let stateDirectory: String
    /// Most bytes read per run.
    public let maxReadBytes: Int

    private struct Tail {
        var loaded = false
        var fd: Int32 = -1
        var device: UInt64 = 0
        var inode: UInt64 = 0
        var offset: Int64 = 0
        var saved: (device: UInt64, inode: UInt64, offset: Int64)?
        var header: CSVMapping.Header?
        /// Where the last run started, until its lines are settled.
        var runStart: (device: UInt64, inode: UInt64, offset: Int64, header: CSVMapping.Header?)?
    }

    private let tail = Mutex(Tail())

    /// Creates the collector; nothing is opened before the first run.
    public init(
        name: String,
        path: String,
        format: CollectorConfiguration.FileFormat,
        stateDirectory: String,
        maxReadBytes: Int = 8 << 20
    ) {
        self.name = name
        self.path = path
        self.format = format
        self.stateDirectory = stateDirectory
        self.maxReadBytes = max(4096, maxReadBytes)
    }

    deinit {
        tail.withLock { state in
            if state.fd >= 0 { close(state.fd) }
        }
    }

    /// The offset file: `<stateDirectory>/NAME.offset`, the name's characters other than
    /// letters, digits, `.`, `_` and `-` replaced by `_`.
    public var stateFilePath: String {
        let safe = String(
            name.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": return Character(scalar)
                default: return "_"
                }
            }
        )
        return "\(stateDirectory)/\(safe).offset"
    }

    public func collect(now: Int64, stopping: @escaping @Sendable () -> Bool) -> CollectorReport {
        tail.withLock { state in collect(&state) }
    }

    private struct Batch {
        var lines = ""
        var accepted = 0
        var rejected = 0
        var problem: String?
    }

    private func collect(_ state: inout Tail) -> CollectorReport {
        if !state.loaded {
            state.saved = loadState()
            state.loaded = true
        }
        var batch = Batch()
        if state.fd < 0 && !open(&state, resume: true, batch: &batch) {
            return report(batch)
        }
        state.runStart = (state.device, state.inode, state.offset, state.header)
        read(&state, final: false, batch: &batch)
        var current = stat()
        if stat(path, &current) == 0 {
            let device = UInt64(current.st_dev)
            let inode = UInt64(current.st_ino)
            if device != state.device || inode != state.inode {
                // Rotated: finish the old file, then read the new one from its start.
                read(&state, final: true, batch: &batch)
                close(state.fd)
                state.fd = -1
                if open(&state, resume: false, batch: &batch) {
                    read(&state, final: false, batch: &batch)
                }
            } else if Int64(current.st_size) < state.offset {
                // Truncated in place: start again.
                state.offset = 0
                state.header = nil
                read(&state, final: false, batch: &batch)
            }
        }
        // The offset is saved when the lines are spooled (settle), or saved now when the
        // run produced none (it may have skipped blank or rejected lines).
        if state.fd >= 0, batch.lines.isEmpty {
            saveState(&state, batch: &batch)
            state.runStart = nil
        }
        return report(batch)
    }

    /// Saves the offset once the run's lines are in the spool (a crash before that
    /// reads them again: at-least-once, and the daemon's sequence numbers do not
    /// dedupe collector lines, so the window is kept to this one handoff); if they were
    /// not taken, goes back to where the run started so the next run reads them again.
    public func settle(spooled: Bool) -> String? {
        tail.withLock { state -> String? in
            guard let start = state.runStart else { return nil }
            state.runStart = nil
            if spooled {
                var batch = Batch()
                if state.fd >= 0 { saveState(&state, batch: &batch) }
                return batch.problem
            }
            if start.device == state.device && start.inode == state.inode {
                state.offset = start.offset
                state.header = start.header
                return "output not spooled (the agent's queue is full or its spool failing): read again next run"
            }
            // Rotated during the run: the old file is closed; its tail is lost, the new
            // file is read again from its start.
            state.offset = 0
            state.header = nil
            return "output not spooled while the file was rotated: the rotated file's last lines are lost"
        }
    }

    private func report(_ batch: Batch) -> CollectorReport {
        let result: String
        if let problem = batch.problem {
            result = problem
        } else if batch.rejected > 0 {
            result = "bad output (\(batch.rejected) lines rejected)"
        } else {
            result = "ok"
        }
        return CollectorReport(
            lines: batch.lines,
            lineCount: batch.accepted,
            result: result,
            failed: result != "ok"
        )
    }

    /// Opens `path`; with `resume`, continues at the recorded offset when it is the same
    /// file and not shorter, else starts at 0.
    private func open(_ state: inout Tail, resume: Bool, batch: inout Batch) -> Bool {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            batch.problem = "cannot open \(path): \(CollectorProcess.errorText(errno))"
            return false
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            batch.problem = "cannot stat \(path): \(CollectorProcess.errorText(errno))"
            close(fd)
            return false
        }
        state.fd = fd
        state.device = UInt64(info.st_dev)
        state.inode = UInt64(info.st_ino)
        state.offset = 0
        state.header = nil
        if resume, let saved = state.saved, saved.device == state.device, saved.inode == state.inode,
            saved.offset <= Int64(info.st_size)
        {
            state.offset = saved.offset
        }
        return true
    }

    /// Reads complete lines from the offset (with `final`, a last line without its
    /// newline too) and converts them into `batch`.
    private func read(_ state: inout Tail, final: Bool, batch: inout Batch) {
        guard state.fd >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: maxReadBytes)
        var filled = 0
        while filled < buffer.count {
            let n = buffer.withUnsafeMutableBytes { raw in
                pread(
                    state.fd,
                    raw.baseAddress.map { $0 + filled },
                    raw.count - filled,
                    off_t(state.offset) + off_t(filled)
                )
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                batch.problem = "cannot read \(path): \(CollectorProcess.errorText(errno))"
                return
            }
            if n == 0 { break }
            filled += n
        }
        guard filled > 0 else { return }
        var end = filled
        if !final || filled == buffer.count {
            guard let lastNewline = buffer[0..<filled].lastIndex(of: 0x0A) else {
                if filled == buffer.count {
                    // One line longer than a whole read: skip it.
                    batch.rejected += 1
                    state.offset += Int64(filled)
                }
                return
            }
            end = lastNewline + 1
        }
        // Without a usable CSV header nothing is consumed: the lines wait for a fix.
        if convert(Array(buffer[0..<end]), startingAt: state.offset, state: &state, batch: &batch) {
            state.offset += Int64(end)
        }
    }

    /// Converts complete lines read at `offset` into `batch`; false when they cannot be
    /// (CSV without a usable header).
    private func convert(_ bytes: [UInt8], startingAt offset: Int64, state: inout Tail, batch: inout Batch) -> Bool {
        switch format {
        case .lineProtocol:
            let checked = LineProtocolText.validate(bytes, parser: LineProtocolParser())
            batch.lines += checked.lines
            batch.accepted += checked.accepted
            batch.rejected += checked.rejected
            return true
        case .csv(let measurement, let tags, let fields, let timestamp, let fieldNames):
            let mapping = CSVMapping(
                measurement: measurement,
                tags: tags,
                fields: fields,
                timestamp: timestamp,
                fieldNames: fieldNames
            )
            var start = 0
            if offset == 0 {
                guard let newline = bytes.firstIndex(of: 0x0A) else {
                    state.header = mapping.header(String(decoding: bytes, as: UTF8.self))
                    return true
                }
                state.header = mapping.header(String(decoding: bytes[0..<newline], as: UTF8.self))
                start = newline + 1
            } else if state.header == nil {
                state.header = readHeader(state.fd).map { mapping.header($0) }
            }
            guard let header = state.header else {
                batch.problem = "no CSV header in \(path)"
                return false
            }
            if let missing = header.missing {
                batch.problem = "CSV header of \(path) lacks column \(missing)"
                state.header = nil
                return false
            }
            for line in bytes[start...].split(separator: 0x0A, omittingEmptySubsequences: true) {
                var text = String(decoding: line, as: UTF8.self)
                if text.hasSuffix("\r") { text.removeLast() }
                if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                if let converted = mapping.line(text, header: header) {
                    batch.lines += converted + "\n"
                    batch.accepted += 1
                } else {
                    batch.rejected += 1
                }
            }
        }
        return true
    }

    /// The file's first line (at most 64 KiB), without its line end.
    private func readHeader(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0, let newline = buffer[0..<n].firstIndex(of: 0x0A) else { return nil }
        var text = String(decoding: buffer[0..<newline], as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    // MARK: - Offset file

    private func loadState() -> (device: UInt64, inode: UInt64, offset: Int64)? {
        guard let text = try? String(contentsOfFile: stateFilePath, encoding: .utf8) else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 3, let device = UInt64(parts[0]), let inode = UInt64(parts[1]),
            let offset = Int64(parts[2]), offset >= 0
        else { return nil }
        return (device, inode, offset)
    }

    /// Writes `device inode offset` to a temporary file, fsyncs it, renames it over the
    /// offset file and fsyncs the directory; only when it changed.
    private func saveState(_ state: inout Tail, batch: inout Batch) {
        if let saved = state.saved, saved.device == state.device, saved.inode == state.inode,
            saved.offset == state.offset
        {
            return
        }
        let target = stateFilePath
        let temporary = target + ".tmp"
        let bytes = Array("\(state.device) \(state.inode) \(state.offset)\n".utf8)
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        } catch {
            batch.problem = "cannot create \(stateDirectory): \(error.localizedDescription)"
            return
        }
        let fd = Foundation.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            batch.problem = "cannot write \(temporary): \(CollectorProcess.errorText(errno))"
            return
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, target) == 0 else {
            batch.problem = "cannot write \(target): \(CollectorProcess.errorText(errno))"
            return
        }
        let directory = Foundation.open(stateDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
        state.saved = (state.device, state.inode, state.offset)
    }
}
