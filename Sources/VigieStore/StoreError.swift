/// A failure of the durable store (write-ahead log, checkpoints, history), naming the
/// file and the operation.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// The file or directory concerned.
    public var path: String
    /// What was being done, e.g. `fdatasync`.
    public var operation: String
    /// `errno` when a system call failed, else 0.
    public var code: Int32
    /// Extra detail (a corrupt record's offset and reason…).
    public var detail: String

    public init(path: String, operation: String, code: Int32 = 0, detail: String = "") {
        self.path = path
        self.operation = operation
        self.code = code
        self.detail = detail
    }

    /// True when the file system is full (ENOSPC, EDQUOT, EFBIG): ingest is refused
    /// until space returns.
    public var isOutOfSpace: Bool { code == 28 || code == 122 || code == 27 }

    public var description: String {
        var text = "\(operation) \(path)"
        if code != 0 { text += ": \(String(cString: strerror(code)))" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
