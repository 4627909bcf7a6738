import Foundation

/// A process's memory map (/proc/PID/maps): which file, at which offset, backs each address.
public struct MemoryMap: Sendable, Equatable {
    public struct Region: Sendable, Equatable {
        public let start: UInt64
        public let end: UInt64
        /// Offset in the file of `start`.
        public let offset: UInt64
        public let inode: UInt64
        /// The file, or a pseudo-name ([heap], [stack], …), or empty for anonymous memory.
        public let path: String
    }

    /// Sorted by start address.
    public let regions: [Region]

    public init(regions: [Region]) {
        self.regions = regions.sorted { $0.start < $1.start }
    }

    /// Parses /proc/PID/maps: `start-end perms offset dev inode path`.
    public init(parsing text: String) {
        var regions: [Region] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                  let offset = UInt64(fields[2], radix: 16), let inode = UInt64(fields[4]) else { continue }
            let path = fields.count > 5 ? fields[5].trimmingCharacters(in: .whitespaces) : ""
            regions.append(Region(start: start, end: end, offset: offset, inode: inode, path: path))
        }
        self.init(regions: regions)
    }

    public func region(containing address: UInt64) -> Region? {
        var low = 0, high = regions.count
        while low < high {
            let middle = (low + high) / 2
            if regions[middle].start <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0, address < regions[low - 1].end else { return nil }
        return regions[low - 1]
    }
}

extension ProcessTable {
    /// The memory map of `pid` now; nil when the process is gone (or its map is unreadable).
    public static func memoryMap(pid: Int32) -> MemoryMap? {
        read("/proc/\(pid)/maps").map(MemoryMap.init(parsing:))
    }
}
