#if canImport(Glibc)
import Glibc
#endif
import CProcess
import Foundation

/// What /proc says about one process.
public struct ProcessEntry: Equatable, Sendable {
    public let pid: Int32
    public let ppid: Int32
    public let comm: String
    /// The state letter of /proc/PID/stat: R, S, D, Z, T, …
    public let state: Character

    public init(pid: Int32, ppid: Int32, comm: String, state: Character) {
        self.pid = pid
        self.ppid = ppid
        self.comm = comm
        self.state = state
    }
}

/// Reads processes from /proc.
public enum ProcessTable {
    /// A /proc (or /sys) file, read to its end. Foundation's String(contentsOfFile:) trusts the
    /// size stat reports, which is 0 for these, and stops after one page: /proc/PID/maps and
    /// /proc/net/tcp of a busy machine are longer than that.
    public static func read(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The entry for `pid`, or nil when no such process exists.
    public static func entry(pid: Int32) -> ProcessEntry? {
        guard let stat = read("/proc/\(pid)/stat") else {
            return nil
        }
        return parseStat(stat)
    }

    /// Parses /proc/PID/stat. The comm field is in parentheses and may itself hold spaces and
    /// parentheses, so the fields after it are found from the last ')'.
    public static func parseStat(_ stat: String) -> ProcessEntry? {
        guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
              let pid = Int32(stat[..<open].trimmingCharacters(in: .whitespaces))
        else { return nil }
        let comm = String(stat[stat.index(after: open)..<close])
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        guard rest.count >= 2, let state = rest[0].first, let ppid = Int32(rest[1]) else { return nil }
        return ProcessEntry(pid: pid, ppid: ppid, comm: comm, state: state)
    }

    /// This executable's path, to start archbench again (the reference services, the suite's
    /// targets). /proc/self/exe itself would make every child's comm "exe"; the link's target keeps
    /// "archbench", unless the file was replaced since (a rebuild), when only the link still reaches
    /// the running image.
    public static func ownExecutable() -> String {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
              !target.hasSuffix(" (deleted)") else { return "/proc/self/exe" }
        return target
    }

    /// Every process now alive.
    public static func all() -> [ProcessEntry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { Int32($0) }.compactMap { entry(pid: $0) }
    }

    /// The processes descending from `roots` now (children, their children, …), roots excluded.
    public static func descendants(of roots: Set<Int32>) -> [ProcessEntry] {
        let children = Dictionary(grouping: all(), by: \.ppid)
        var found: [ProcessEntry] = []
        var frontier = Array(roots)
        var seen = roots
        while let parent = frontier.popLast() {
            for child in children[parent] ?? [] where seen.insert(child.pid).inserted {
                found.append(child)
                frontier.append(child.pid)
            }
        }
        return found
    }
}

/// A TCP socket in the LISTEN state.
public struct ListeningSocket: Sendable, Equatable {
    public let inode: UInt64
    public let port: UInt16
    /// The SYNs and handshakes it dropped since it was opened (its `sk_drops`: a full accept or SYN
    /// queue), wrapping at 2³²; nil where the kernel was not asked (the /proc fallback).
    public let drops: UInt32?
}

extension ProcessTable {
    /// The processes holding a TCP socket that listens on `port` (IPv4 or IPv6), found through
    /// `listeningSockets()` (the socket's inode) and /proc/PID/fd (who holds it).
    public static func listening(onPort port: UInt16) -> [ProcessEntry] {
        let inodes = Set(listeningSockets().filter { $0.port == port }.map(\.inode))
        guard !inodes.isEmpty else { return [] }
        return all().filter { process in socketInodes(of: process.pid).contains(where: inodes.contains) }
    }

    /// The listening sockets the given processes hold, with the pid holding each.
    public static func listeners(of pids: Set<Int32>) -> [(pid: Int32, socket: ListeningSocket)] {
        let byInode = Dictionary(listeningSockets().map { ($0.inode, $0) }, uniquingKeysWith: { first, _ in first })
        return pids.sorted().flatMap { pid in socketInodes(of: pid).compactMap { byInode[$0].map { (pid, $0) } } }
    }

    /// The inodes of the sockets a process holds, from its /proc/PID/fd links ("socket:[INODE]").
    static func socketInodes(of pid: Int32) -> [UInt64] {
        let fdDirectory = "/proc/\(pid)/fd"
        return ((try? FileManager.default.contentsOfDirectory(atPath: fdDirectory)) ?? []).compactMap { fd in
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(fd)"),
                  link.hasPrefix("socket:[") else { return nil }
            return UInt64(link.dropFirst(8).dropLast())
        }
    }

    /// Every listening TCP socket (IPv4 and IPv6): from sock_diag (CProcess/listening.c says why),
    /// or from /proc/net/tcp{,6} where netlink is refused (a sandbox).
    public static func listeningSockets() -> [ListeningSocket] {
        var capacity = 256
        while true {
            var sockets = [ab_listening_socket](repeating: ab_listening_socket(), count: capacity)
            let found = ab_listening_sockets(&sockets, capacity)
            if found < 0 { return listeningSocketsFromProc() }
            if found <= capacity {
                return sockets.prefix(found).map {
                    ListeningSocket(inode: $0.inode, port: $0.port, drops: $0.has_drops != 0 ? $0.drops : nil)
                }
            }
            capacity = found + 64
        }
    }

    /// /proc/net/tcp has no drop counts: `drops` is nil.
    static func listeningSocketsFromProc() -> [ListeningSocket] {
        var sockets: [ListeningSocket] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = read(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[3] == "0A" /* LISTEN */, let colon = fields[1].lastIndex(of: ":"),
                      let port = UInt16(fields[1][fields[1].index(after: colon)...], radix: 16),
                      let inode = UInt64(fields[9]) else { continue }
                sockets.append(ListeningSocket(inode: inode, port: port, drops: nil))
            }
        }
        return sockets
    }

    /// Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
    /// hybrid system), from /proc/self/mounts.
    public static var cgroup2Mount: String? {
        let mounts = (read("/proc/self/mounts")) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 2, fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }

    /// The processes in a cgroup v2 and its descendants. `path` is a directory, or a path relative
    /// to the cgroup v2 mount. Nil when there is no such cgroup.
    public static func inCgroup(_ path: String) -> [ProcessEntry]? {
        var isDirectory: ObjCBool = false
        var root = path
        if !(path.hasPrefix("/") && FileManager.default.fileExists(atPath: path + "/cgroup.procs")) {
            guard let mount = cgroup2Mount else { return nil }
            root = mount + "/" + path.drop { $0 == "/" }
        }
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        var pids: [Int32] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        var files = ["cgroup.procs"]
        while let item = enumerator?.nextObject() as? String {
            if item.hasSuffix("/cgroup.procs") { files.append(item) }
        }
        for file in files {
            let text = (read(root + "/" + file)) ?? ""
            pids += text.split(separator: "\n").compactMap { Int32($0) }
        }
        return pids.compactMap { entry(pid: $0) }
    }
}
