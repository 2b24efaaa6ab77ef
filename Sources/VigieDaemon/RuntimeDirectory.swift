import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The directory of the operator control socket (`[daemon] runtime_dir`): whoever can
/// enter it may ack, silence and reload, so vigied makes sure only its user and group can.
enum RuntimeDirectory {
    /// Creates `path` mode 0750 when it is missing (parents as needed), else checks that
    /// it is a real directory of this user that others cannot enter and the group cannot
    /// write (systemd's `RuntimeDirectory=` with `RuntimeDirectoryMode=0750` is).
    ///
    /// - Throws: `DaemonError` naming the path, what is wrong and the fix.
    static func prepare(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT else {
                throw failure(path, "cannot be examined: \(String(cString: strerror(errno)))")
            }
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw failure(path, "cannot be created (\(error.localizedDescription))")
            }
            // The umask may have taken bits away or left some: set the mode exactly.
            guard chmod(path, 0o750) == 0, lstat(path, &info) == 0 else {
                throw failure(path, "cannot be set to mode 0750: \(String(cString: strerror(errno)))")
            }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw failure(
                path,
                info.st_mode & S_IFMT == S_IFLNK ? "is a symbolic link" : "is not a directory",
                fix: "remove it, or point [daemon] runtime_dir at a directory of vigied's own"
            )
        }
        let user = geteuid()
        guard info.st_uid == user else {
            throw failure(
                path,
                "belongs to uid \(info.st_uid), not to vigied's uid \(user)",
                fix: "chown it to the daemon's user, or let systemd create it (RuntimeDirectory=vigie)"
            )
        }
        let mode = info.st_mode & 0o7777
        guard mode & 0o027 == 0 else {
            throw failure(
                path,
                "has mode \(String(mode, radix: 8)): others could reach the operator control socket in it",
                fix: "chmod 0750 \(path)"
            )
        }
    }

    private static func failure(_ path: String, _ problem: String, fix: String? = nil) -> DaemonError {
        DaemonError(
            message: "[daemon] runtime_dir \(path) \(problem)" + (fix.map { "; \($0)" } ?? "")
        )
    }
}
