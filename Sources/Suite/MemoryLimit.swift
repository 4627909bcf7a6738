import ArchbenchCore
import Foundation

/// The memory_constrained profile's limit: a cgroup v2 of its own for an architecture's spawned
/// processes, with `memory.max` set. Where the kernel has no cgroup v2 memory controller (a v1 or
/// hybrid hierarchy), nothing is limited and the reason is said.
final class MemoryLimit {
    let path: String

    /// A cgroup limiting `pids` (and the processes they fork from now on) to `bytes`, or the reason
    /// there can be none here.
    static func apply(_ bytes: UInt64, to pids: [Int32], name: String) -> Result<MemoryLimit, MemoryLimitError> {
        guard let mount = ProcessTable.cgroup2Mount else {
            return .failure(MemoryLimitError(reason: "no cgroup v2 hierarchy is mounted"))
        }
        let controllers = (ProcessTable.read("\(mount)/cgroup.controllers") ?? "").split(whereSeparator: \.isWhitespace)
        guard controllers.contains("memory") else {
            return .failure(MemoryLimitError(reason: "the cgroup v2 hierarchy at \(mount) has no memory controller"))
        }
        let path = "\(mount)/archbench-\(getpid())-\(name)"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try write("\(bytes)", to: "\(path)/memory.max")
            for pid in pids { try write("\(pid)", to: "\(path)/cgroup.procs") }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            return .failure(MemoryLimitError(reason: "cannot set up \(path): \(error.localizedDescription)"))
        }
        return .success(MemoryLimit(path: path))
    }

    private init(path: String) {
        self.path = path
    }

    private static func write(_ text: String, to file: String) throws {
        guard let handle = FileHandle(forWritingAtPath: file) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: file])
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Removes the cgroup once its processes are gone: the kernel refuses (EBUSY) while any is left,
    /// and the services may still be exiting, so it retries every 50 ms for up to 3 s, then kills
    /// what is left through `cgroup.kill` (where the kernel has it) and tries once more. Quiet: a
    /// cgroup that cannot be removed is left behind.
    func remove() {
        let deadline = Date().addingTimeInterval(3)
        while rmdir(path) != 0 {
            guard errno == EBUSY else { return }
            if Date() >= deadline {
                let kill = "\(path)/cgroup.kill"
                guard FileManager.default.fileExists(atPath: kill), (try? Self.write("1", to: kill)) != nil else { return }
                // Killing is asynchronous: give the processes a moment to leave.
                for _ in 0..<20 where rmdir(path) != 0 {
                    guard errno == EBUSY else { return }
                    usleep(50_000)
                }
                return
            }
            usleep(50_000)
        }
    }
}

struct MemoryLimitError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
