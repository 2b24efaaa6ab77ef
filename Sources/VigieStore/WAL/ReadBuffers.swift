#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reused storage for the frame offsets of the record being visited (no allocation per
/// record once grown). Owned by one reader.
final class FrameIndex {
    private(set) var starts: UnsafeMutablePointer<Int>
    private var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = capacity
        starts = .allocate(capacity: capacity)
    }

    deinit { starts.deallocate() }

    func reset(count: Int) {
        guard count > capacity else { return }
        starts.deallocate()
        capacity = max(count, capacity * 2)
        starts = .allocate(capacity: capacity)
    }
}

/// A reused, growable buffer holding one whole segment file.
final class SegmentBuffer {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int

    init(capacity: Int = 1 << 20) {
        self.capacity = capacity
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Reads the file at `path` whole; returns its size.
    func load(_ path: String) throws -> Int {
        let fd = try SystemCalls.openFile(path, O_RDONLY)
        defer { SystemCalls.closeFile(fd) }
        let size = try SystemCalls.fileSize(fd, path: path)
        reserve(size)
        return try SystemCalls.readFully(fd, into: storage, size, at: 0, path: path)
    }

    /// Makes room for `size` bytes (the contents are not kept).
    func reserve(_ size: Int) {
        guard size > capacity else { return }
        storage.deallocate()
        capacity = max(size, capacity * 2)
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    var base: UnsafeMutableRawPointer { storage }

    func bytes(_ count: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }
}
