#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Writes a file whole or not at all: into a temporary file beside it, then renamed over it, so a
/// reader (or a crash, or a full disk) never sees half of it.
///
/// - The temporary file is created with `O_CREAT | O_EXCL | O_NOFOLLOW`: whatever already has its
///   name (a symbolic link planted there, a stale file) is never followed, truncated nor reused; the
///   next name is tried instead, and left alone.
/// - Its mode is 0644 less the umask, as any file the user creates: a umask of 077 keeps results
///   private, which forcing 0644 would undo.
/// - Every byte is written (short writes and EINTR are resumed), then fsync'd before the rename, so
///   the new name never points at data still only in memory; the directory is synced after it.
/// - On any failure the temporary file is removed and the old file, if any, is left as it was.
public enum AtomicFile {
    /// How many names are tried before giving up when each is taken.
    static let attempts = 16

    public static func write(_ data: Data, to path: String) throws {
        let (fd, temporary) = try createTemporary(beside: path)
        var placed = false
        defer { if !placed { unlink(temporary) } }
        do {
            try writeAll(data, to: fd, temporary: temporary, path: path)
            guard fsync(fd) == 0 else { throw AtomicFileError(path: path, step: "syncing \(temporary)", errno: errno) }
        } catch {
            close(fd)
            throw error
        }
        // close can report a write-back error (NFS, some FUSE file systems) that fsync did not.
        guard close(fd) == 0 else { throw AtomicFileError(path: path, step: "closing \(temporary)", errno: errno) }
        guard rename(temporary, path) == 0 else {
            throw AtomicFileError(path: path, step: "renaming \(temporary) into place", errno: errno)
        }
        placed = true
        syncDirectory(of: path)
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// The temporary name for `path`: `.NAME.PID.tmp` beside it first, then with a random part.
    static func temporaryPath(for path: String, attempt: Int) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let extra = attempt == 0 ? "" : ".\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        return "\(directory).\(name).\(getpid())\(extra).tmp"
    }

    private static func createTemporary(beside path: String) throws -> (Int32, String) {
        var taken: [String] = []
        for attempt in 0..<attempts {
            let temporary = temporaryPath(for: path, attempt: attempt)
            let fd = open(temporary, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0o644)
            if fd >= 0 { return (fd, temporary) }
            guard errno == EEXIST || errno == ELOOP else {
                throw AtomicFileError(path: path, step: "creating the temporary file \(temporary)", errno: errno)
            }
            taken.append(temporary)
        }
        throw AtomicFileError(path: path, step: "creating a temporary file beside it (\(taken.count) names already taken, "
                              + "e.g. \(taken.first ?? ""))", errno: EEXIST)
    }

    private static func writeAll(_ data: Data, to fd: Int32, temporary: String, path: String) throws {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    // A write of 0 bytes to a regular file means it can take no more.
                    let code = n == 0 ? ENOSPC : errno
                    throw AtomicFileError(path: path, step: "writing \(temporary) (\(offset) of \(bytes.count) bytes written)",
                                          errno: code)
                }
            }
        }
    }

    /// Makes the rename itself durable; a directory that cannot be opened or synced (some file
    /// systems refuse) costs only that durability, not the write.
    private static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

/// A file `AtomicFile` could not write; the file at `path`, if there was one, is as it was.
public struct AtomicFileError: ArchbenchFailure, Equatable {
    public let path: String
    /// What failed, naming the temporary file.
    public let step: String
    public let errno: Int32

    public var exitCode: ArchbenchExitCode { .environment }

    public var description: String {
        "\(step): \(String(cString: strerror(errno))); \(path) was not replaced"
    }
}
