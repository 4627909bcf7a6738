#if canImport(Glibc)
import Glibc
#endif
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
    /// The entry for `pid`, or nil when no such process exists.
    public static func entry(pid: Int32) -> ProcessEntry? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
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
