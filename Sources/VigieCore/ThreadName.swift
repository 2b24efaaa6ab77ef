#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `name` cut (at a character boundary) so that it and `suffix` fit the 15 bytes Linux
/// keeps of a thread's name, then `suffix`: `threadName("notify-journal", keeping: "/0")`
/// is `notify-journa/0`.
public func threadName(_ name: String, keeping suffix: String = "") -> String {
    var cut = ""
    for character in name where cut.utf8.count + character.utf8.count + suffix.utf8.count <= 15 {
        cut.append(character)
    }
    return cut + suffix
}

/// Names the calling thread as `top -H`, `ps -L` and `/proc/PID/task/*/comm` show it,
/// cut to the 15 bytes Linux keeps. Call it from the thread's own body: Foundation's
/// `Thread.name` reaches the kernel only when set on the running thread after `start()`
/// has recorded it (a race the thread's body can lose), and a name over 15 bytes is
/// refused whole.
public func nameCurrentThread(_ name: String) {
    let cut = threadName(name)
    #if os(Linux)
    // `pthread_setname_np` is not in Swift's Glibc module; the kernel's own file is.
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = cut.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, cut.utf8.count) }
    close(fd)
    #elseif canImport(Darwin)
    _ = pthread_setname_np(cut)
    #endif
}
