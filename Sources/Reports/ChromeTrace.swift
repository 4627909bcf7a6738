import Analysis
import Foundation
import Recording

/// `trace_*.json`: the run as Chrome trace events, for Perfetto's UI (ui.perfetto.dev) or
/// chrome://tracing. Per architecture: a process track per probed process (its threads' off-CPU
/// spans, its pauses, slow syscalls, TCP events and an RSS counter), the client's slow requests, and
/// the benchmark rounds. Timestamps are the recorded CLOCK_MONOTONIC in µs, not rebased, so a slow
/// request lines up with the pause under it.
public enum ChromeTrace {
    /// Events drawn per track (a thread, a process's counter, an architecture's slow requests): a
    /// viewer stays responsive, and the longest spans, the ones a trace is opened for, are kept.
    public static let eventsPerTrack = 50_000

    public static func json(_ results: SuiteResults) throws -> Data {
        var builder = Builder()
        let listed = results.architectures
        let others = Set(results.kernel.keys).union(results.rounds.map(\.architecture)).subtracting(listed).sorted()
        for (index, architecture) in (listed + others).enumerated() {
            builder.addArchitecture(architecture, index: index, results: results)
        }
        var other = ["tool": results.tool, "timestamp": results.timestamp, "clock": results.clock,
                     "workload": results.workload]
        for (key, count) in builder.dropped where count > 0 { other[key] = String(count) }
        // Spans the results file itself left out (it keeps the longest per architecture and benchmark).
        let unrecorded = results.kernel.values.flatMap(\.values).reduce(0) { $0 + $1.offcpuSpansDropped }
        if unrecorded > 0 { other["offcpu_spans_not_recorded"] = String(unrecorded) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(Document(traceEvents: builder.events, displayTimeUnit: "ms", otherData: other))
    }

    /// CLOCK_MONOTONIC ns as the trace's µs, keeping the ns.
    static func us(_ ns: UInt64) -> Double { Double(ns) / 1000 }

    struct Document: Encodable {
        var traceEvents: [Event]
        var displayTimeUnit: String
        var otherData: [String: String]
    }

    struct Event: Encodable {
        var name: String
        var cat: String?
        var ph: String
        var ts: Double
        var dur: Double?
        var pid: Int
        var tid: Int
        /// An instant event's scope.
        var s: String?
        var args: [String: Arg]?
    }

    enum Arg: Encodable {
        case string(String)
        case int(Int64)
        case double(Double)
        case ints([Int64])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .int(let value): try container.encode(value)
            case .double(let value): try container.encode(value)
            case .ints(let value): try container.encode(value)
            }
        }
    }

    /// One process of one architecture, gathered over the benchmarks' reports (each covers only its
    /// own rounds).
    struct ProcessView {
        var pid: Int32
        var comm: String
        var label: String?
        var tids: Set<Int32> = []
        var spans: [OffCPUInterval] = []
        var pauses: [DetectedPause] = []
        var rss: [[UInt64]] = []
        var tcp: [[UInt64]] = []
        var slowSyscalls: [[UInt64]] = []
    }

    struct Builder {
        var events: [Event] = []
        var dropped: [String: Int] = [:]
        /// Trace ids for tracks that are no thread of the target (pauses, the client, the rounds),
        /// above any architecture's range of real pids and tids.
        var nextSynthetic = 1_000_000_000
        var processOrder = 0

        /// Real pids and tids are offset per architecture: Perfetto keys threads by tid across the
        /// whole trace, and two architectures may reuse a pid. 10^7 is above Linux's largest pid_max.
        static func base(_ index: Int) -> Int { (index + 1) * 10_000_000 }

        mutating func synthetic() -> Int {
            defer { nextSynthetic += 1 }
            return nextSynthetic
        }

        mutating func metadata(_ name: String, pid: Int, tid: Int, _ args: [String: Arg]) {
            events.append(Event(name: name, ph: "M", ts: 0, pid: pid, tid: tid, args: args))
        }

        mutating func process(_ name: String, pid: Int, tid: Int) {
            metadata("process_name", pid: pid, tid: tid, ["name": .string(name)])
            metadata("process_sort_index", pid: pid, tid: tid, ["sort_index": .int(Int64(processOrder))])
            processOrder += 1
        }

        mutating func thread(_ name: String, pid: Int, tid: Int, order: Int) {
            metadata("thread_name", pid: pid, tid: tid, ["name": .string(name)])
            metadata("thread_sort_index", pid: pid, tid: tid, ["sort_index": .int(Int64(order))])
        }

        mutating func addArchitecture(_ architecture: String, index: Int, results: SuiteResults) {
            let base = Self.base(index)
            let views = Self.processes(results.kernel[architecture] ?? [:])
            for view in views {
                addProcess(view, architecture: architecture, base: base)
            }
            addRounds(results.rounds.filter { $0.architecture == architecture }, architecture: architecture)
        }

        /// The processes of an architecture's reports, by label then pid.
        static func processes(_ reports: [String: ProbeReport]) -> [ProcessView] {
            var views: [Int32: ProcessView] = [:]
            for benchmark in reports.keys.sorted() {
                guard let report = reports[benchmark] else { continue }
                for process in report.processes {
                    var view = views[process.pid] ?? ProcessView(pid: process.pid, comm: process.comm, label: process.label)
                    view.tids.formUnion(process.threads.map(\.tid))
                    view.rss += process.rssTimeline.filter { $0.count == 2 }
                    view.tcp += (process.tcpEvents ?? []).filter { $0.count == 2 }
                    view.slowSyscalls += (process.slowSyscalls ?? []).filter { $0.count == 3 }
                    views[process.pid] = view
                }
                for span in report.offcpuSpans {
                    views[span.tgid, default: ProcessView(pid: span.tgid, comm: "pid \(span.tgid)")].spans.append(span)
                }
                for pause in report.pauses {
                    views[pause.pid, default: ProcessView(pid: pause.pid, comm: "pid \(pause.pid)")].pauses.append(pause)
                }
            }
            return views.values.sorted { ($0.label ?? $0.comm, $0.pid) < ($1.label ?? $1.comm, $1.pid) }
        }

        mutating func addProcess(_ view: ProcessView, architecture: String, base: Int) {
            // The main thread's id is the process's, as in the kernel.
            let pid = base + Int(view.pid), main = pid
            process("\(architecture): \(view.label ?? view.comm) (pid \(view.pid))", pid: pid, tid: main)
            // Sorted before anything is picked, so that ties fall the same way on every run.
            let spans = Set(view.spans).sorted {
                ($0.tid, $0.startNs, $0.endNs, $0.runqNs, $0.syscall ?? -1) < ($1.tid, $1.startNs, $1.endNs, $1.runqNs, $1.syscall ?? -1)
            }
            let spansByThread = Dictionary(grouping: spans, by: \.tid)
            let tids = view.tids.union(spansByThread.keys).union([view.pid]).sorted()
            for (order, tid) in tids.enumerated() {
                thread(tid == view.pid ? view.comm : "tid \(tid)", pid: pid, tid: base + Int(tid), order: order)
                let spans = capped(spansByThread[tid] ?? [], key: "offcpu_spans_not_drawn") { $0.durationNs }
                for span in spans {
                    events.append(Event(name: Self.name(of: span), cat: "offcpu", ph: "X", ts: us(span.startNs),
                                        dur: us(span.durationNs), pid: pid, tid: base + Int(tid),
                                        args: Self.args(of: span)))
                }
            }
            var order = tids.count
            let pauses = capped(Set(view.pauses).sorted { a, b in
                (a.startNs, a.durationNs, a.kind.rawValue) != (b.startNs, b.durationNs, b.kind.rawValue)
                    ? (a.startNs, a.durationNs, a.kind.rawValue) < (b.startNs, b.durationNs, b.kind.rawValue)
                    : a.stoppedThreads.lexicographicallyPrecedes(b.stoppedThreads)
            }, key: "pauses_not_drawn") { $0.durationNs }
            addLanes(pauses, named: "pauses", pid: pid, order: &order,
                     start: \.startNs, end: \.endNs) { pause in
                var args: [String: Arg] = ["kind": .string(pause.kind.rawValue),
                                           "duration_ms": .double(Double(pause.durationNs) / 1e6),
                                           "stopped_threads": .ints(pause.stoppedThreads.map(Int64.init))]
                if let running = pause.runningThread { args["running_thread"] = .int(Int64(running)) }
                return ("stop-the-world", "pause", args)
            }
            let calls = capped(Set(view.slowSyscalls).sorted { $0.lexicographicallyPrecedes($1) },
                               key: "slow_syscalls_not_drawn") { $0[1] }
            addLanes(calls, named: "slow syscalls", pid: pid, order: &order,
                     start: { $0[0] }, end: { $0[0] &+ $0[1] }) { call in
                let name = Int32(exactly: call[2]).map { SyscallTable.name(of: $0) } ?? "syscall_\(call[2])"
                return ("syscall: \(name)", "syscall", ["duration_ms": .double(Double(call[1]) / 1e6)])
            }
            addTCP(view.tcp, pid: pid, order: &order)
            addRSS(view.rss, pid: pid, tid: main)
        }

        static func name(of span: OffCPUInterval) -> String {
            if span.preempted { return "preempted" }
            guard let number = span.syscall else { return "off-CPU" }
            return "off-CPU: \(SyscallTable.name(of: number))"
        }

        static func args(of span: OffCPUInterval) -> [String: Arg] {
            var args: [String: Arg] = ["runq_ms": .double(Double(min(span.runqNs, span.durationNs)) / 1e6)]
            if let number = span.syscall { args["syscall"] = .int(Int64(number)) }
            return args
        }

        /// Spans that may overlap (several threads' syscalls, concurrent requests) on as few
        /// threads as keep each one's spans disjoint: a viewer nests overlapping spans of one
        /// thread, or drops them.
        mutating func addLanes<T>(_ items: [T], named name: String, pid: Int, order: inout Int,
                                  start: (T) -> UInt64, end: (T) -> UInt64,
                                  describe: (T) -> (name: String, cat: String, args: [String: Arg])) {
            let sorted = items.sorted { (start($0), end($0)) < (start($1), end($1)) }
            var laneEnds: [UInt64] = []
            var lanes: [[T]] = []
            for item in sorted {
                if let lane = laneEnds.firstIndex(where: { $0 <= start(item) }) {
                    laneEnds[lane] = max(start(item), end(item))
                    lanes[lane].append(item)
                } else {
                    laneEnds.append(max(start(item), end(item)))
                    lanes.append([item])
                }
            }
            for (number, lane) in lanes.enumerated() {
                let tid = synthetic()
                thread(number == 0 ? name : "\(name) (\(number + 1))", pid: pid, tid: tid, order: order)
                order += 1
                for item in lane {
                    let (label, cat, args) = describe(item)
                    let from = start(item)
                    events.append(Event(name: label, cat: cat, ph: "X", ts: us(from), dur: us(max(end(item), from) - from),
                                        pid: pid, tid: tid, args: args))
                }
            }
        }

        mutating func addTCP(_ points: [[UInt64]], pid: Int, order: inout Int) {
            let sorted = Set(points).sorted { $0.lexicographicallyPrecedes($1) }
            guard !sorted.isEmpty else { return }
            if sorted.count > eventsPerTrack { dropped["tcp_events_not_drawn", default: 0] += sorted.count - eventsPerTrack }
            let tid = synthetic()
            thread("tcp", pid: pid, tid: tid, order: order)
            order += 1
            for point in sorted.prefix(eventsPerTrack) {
                events.append(Event(name: "tcp: \(Self.tcpName(point[1]))", cat: "tcp", ph: "i", ts: us(point[0]),
                                    pid: pid, tid: tid, s: "t"))
            }
        }

        static func tcpName(_ raw: UInt64) -> String {
            switch TCPEventKind(rawValue: raw) {
            case .retransmit: return "retransmit"
            case .resetSent: return "reset sent"
            case .resetReceived: return "reset received"
            case .listenOverflow: return "listen overflow"
            case .drop: return "drop"
            case nil: return "event \(raw)"
            }
        }

        /// The RSS counter; beyond the cap, evenly thinned (the last point kept) rather than cut off,
        /// so the whole run keeps its shape.
        mutating func addRSS(_ points: [[UInt64]], pid: Int, tid: Int) {
            let sorted = Set(points).sorted { $0.lexicographicallyPrecedes($1) }
            var kept = sorted
            if sorted.count > eventsPerTrack {
                let step = Double(sorted.count - 1) / Double(eventsPerTrack - 1)
                kept = (0..<eventsPerTrack).map { sorted[Int((Double($0) * step).rounded())] }
                dropped["rss_points_not_drawn", default: 0] += sorted.count - eventsPerTrack
            }
            for point in kept {
                events.append(Event(name: "RSS", cat: "memory", ph: "C", ts: us(point[0]), pid: pid, tid: tid,
                                    args: ["bytes": .int(Int64(clamping: point[1]))]))
            }
        }

        mutating func addRounds(_ rounds: [BenchmarkRound], architecture: String) {
            guard !rounds.isEmpty else { return }
            var requests: [(SlowRequest, name: String, round: BenchmarkRound)] = []
            for round in rounds {
                for load in round.result?.loads ?? [] {
                    dropped["slow_requests_not_recorded", default: 0] += Int(clamping: load.slowRequestsDropped)
                    for request in load.slowRequests {
                        let endpoint = load.endpoints.indices.contains(request.endpoint)
                            ? "\(load.endpoints[request.endpoint].method) \(load.endpoints[request.endpoint].path)"
                            : "endpoint \(request.endpoint)"
                        requests.append((request, endpoint, round))
                    }
                }
            }
            if !requests.isEmpty {
                let pid = synthetic()
                var order = 0
                let kept = capped(requests, key: "slow_requests_not_drawn") { $0.0.endNs &- min($0.0.endNs, $0.0.sentNs) }
                // Named through the tid its first lane is about to get: metadata needs a thread.
                process("\(architecture): client slow requests", pid: pid, tid: nextSynthetic)
                addLanes(kept, named: "requests", pid: pid, order: &order,
                         start: { $0.0.sentNs }, end: { $0.0.endNs }) { item in
                    let (request, name, round) = item
                    return (name, "request", [
                        "status": .int(Int64(request.status)),
                        "intended_ts_us": .double(us(request.intendedNs)),
                        "send_delay_ms": .double(Double(request.sentNs &- min(request.sentNs, request.intendedNs)) / 1e6),
                        "connection": .int(Int64(request.connection)),
                        "benchmark": .string(round.benchmark),
                        "round": .int(Int64(round.round)),
                    ])
                }
            }
            let pid = synthetic()
            var order = 0
            process("\(architecture): benchmark rounds", pid: pid, tid: nextSynthetic)
            addLanes(rounds, named: "rounds", pid: pid, order: &order, start: \.startNs, end: \.endNs) { round in
                var args: [String: Arg] = ["benchmark": .string(round.benchmark), "round": .int(Int64(round.round))]
                if let error = round.error { args["error"] = .string(error) }
                return ("\(round.benchmark) #\(round.round)", "round", args)
            }
        }

        /// At most `eventsPerTrack` of `items`, the longest, counting the rest under `key`.
        mutating func capped<T>(_ items: [T], key: String, length: (T) -> UInt64) -> [T] {
            guard items.count > eventsPerTrack else { return items }
            dropped[key, default: 0] += items.count - eventsPerTrack
            return items.longest(eventsPerTrack, by: length)
        }
    }
}
