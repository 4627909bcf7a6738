/// The truth a pause injector prints (Tests/Helpers/ab-pausehelper), one line each, CLOCK_MONOTONIC ns:
///
///     pid PID collector TID workers TID...
///     pause START END [CPU]
///     done pauses COUNT [skipped SKIPPED]
///
/// Parsed, it gives the threads to expect and the `KnownPause`s to score a detector against.
public struct PauseSchedule: Sendable, Equatable {
    public var pid: Int32
    public var collector: Int32
    public var workers: [Int32]
    /// In the order printed, each with `pid`.
    public var pauses: [KnownPause]
    /// Per pause, the collector's CPU time during it (the optional CPU field), nil where not given.
    public var collectorCpuNs: [UInt64?]
    /// The count of the `done` line, nil until the injector has exited.
    public var doneCount: Int?
    /// Pauses due but skipped because the collector was late past their start (`done` line), nil
    /// where not given.
    public var skipped: Int?

    public init(parsing text: String) throws {
        var threads: (pid: Int32, collector: Int32, workers: [Int32])?
        var pauses: [(start: UInt64, end: UInt64, cpu: UInt64?)] = []
        var done: (count: Int, skipped: Int?)?
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            switch words.first {
            case "pid":
                guard words.count >= 5, words[2] == "collector", words[4] == "workers",
                      let pid = Int32(words[1]), let collector = Int32(words[3]) else {
                    throw PauseScheduleError.badLine(String(line))
                }
                let workers = words.dropFirst(5).compactMap { Int32($0) }
                guard workers.count == words.count - 5 else { throw PauseScheduleError.badLine(String(line)) }
                threads = (pid, collector, workers)
            case "pause":
                guard words.count == 3 || words.count == 4, let start = UInt64(words[1]),
                      let end = UInt64(words[2]), end >= start else {
                    throw PauseScheduleError.badLine(String(line))
                }
                let cpu = words.count == 4 ? UInt64(words[3]) : nil
                guard words.count == 3 || cpu != nil else { throw PauseScheduleError.badLine(String(line)) }
                pauses.append((start, end, cpu))
            case "done":
                guard words.count == 3 || (words.count == 5 && words[3] == "skipped"), words[1] == "pauses",
                      let count = Int(words[2]) else {
                    throw PauseScheduleError.badLine(String(line))
                }
                let skipped = words.count == 5 ? Int(words[4]) : nil
                guard words.count == 3 || skipped != nil else { throw PauseScheduleError.badLine(String(line)) }
                done = (count, skipped)
            default:
                throw PauseScheduleError.badLine(String(line))
            }
        }
        guard let threads else { throw PauseScheduleError.noThreadLine }
        pid = threads.pid
        collector = threads.collector
        workers = threads.workers
        self.pauses = pauses.map { KnownPause(pid: threads.pid, startNs: $0.start, endNs: $0.end) }
        collectorCpuNs = pauses.map(\.cpu)
        doneCount = done?.count
        skipped = done?.skipped ?? nil
    }
}

public enum PauseScheduleError: Error, Equatable {
    case badLine(String)
    case noThreadLine
}
