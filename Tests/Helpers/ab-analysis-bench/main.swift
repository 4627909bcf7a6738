// How long the suite's analysis takes over a large recording: generates one deterministically
// (SplitMix64), runs on it what `SuiteRunner.analyse` runs (pause detection, root causes and
// per-window correlations, GC impact, leak verdicts, the significance of every delta), times each
// phase on CLOCK_MONOTONIC, and checks that the answers are the ones planted in the data.
//
//   ab-analysis-bench [--events N] [--seed S] [--answers FILE]
//
// N defaults to 10 000 000 (bench/analysis-speed.sh). --answers writes everything the analysis
// found as JSON, so that a change made for speed can be diffed against the answers before it.
//
// The recording: two architectures whose 30 s rounds alternate, 20 in all: a monolith (1 process)
// and its microservices (gateway, users, orders, training, ws), 16 threads each. About 90% of the
// events are off-CPU intervals (idle epoll_wait, contended futex, preempted with run-queue time,
// fsync), the rest RSS points (a GC sawtooth in every process, a slow leak in users). monolith and
// orders have a collector thread that stops the world 15 times a round: every worker parks in
// futex at its next safepoint and all are released together. Each round has a load of 100 ms
// windows (P99, log2 histogram) and 3000 slow requests, 30% of them held up by a pause.
//
// Exit codes (ArchbenchExitCode): 0 analysed in time and every check passed; 1 the analysis took
// longer than 10 s or a check failed (the answers were wrong, so the time measured nothing);
// 2 usage; 3 the --answers file could not be written.
import Analysis
import ArchbenchCore
import Foundation
import Recording

let budgetSeconds = 10.0
let roundNs: UInt64 = 30_000_000_000
let roundGapNs: UInt64 = 500_000_000
let rounds = 20
let threadsPerProcess = 16
let pausesPerRound = 15
let slowRequestsPerRound = 3000
let windowNs: UInt64 = 100_000_000
let origin: UInt64 = 5_000_000_000_000
let ms: Double = 1_000_000

enum Syscall {
    static let fsync: Int32 = 74
    static let futex: Int32 = 202
    static let clockNanosleep: Int32 = 230
    static let epollWait: Int32 = 232
}

struct Service {
    let pid: Int32
    let label: String
    /// Its RSS floor, bytes.
    let floorBytes: Double
    /// It collects with a stop-the-world pause (its last thread is the collector).
    var collects = false
    /// Its floor grows by this many bytes a second.
    var leakBytesPerS = 0.0
}

struct Architecture {
    let name: String
    let services: [Service]
}

let architectures = [
    Architecture(name: "monolithic", services: [Service(pid: 2001, label: "monolith", floorBytes: 420e6, collects: true)]),
    Architecture(name: "microservices", services: [
        Service(pid: 3001, label: "gateway", floorBytes: 90e6),
        Service(pid: 3002, label: "users", floorBytes: 110e6, leakBytesPerS: 32 * 1024),
        Service(pid: 3003, label: "orders", floorBytes: 160e6, collects: true),
        Service(pid: 3004, label: "training", floorBytes: 130e6),
        Service(pid: 3005, label: "ws", floorBytes: 70e6),
    ]),
]
let labels = Dictionary(uniqueKeysWithValues: architectures.flatMap(\.services).map { ($0.pid, $0.label) })

// MARK: - Command line

func usage(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ab-analysis-bench: \(message)\nusage: ab-analysis-bench [--events N] [--seed S] [--answers FILE]\n".utf8))
    exit(ArchbenchExitCode.usage.rawValue)
}

var events = 10_000_000
var seed: UInt64 = 1
var answersPath: String?
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { usage("\(flag) needs a value") }
    switch flag {
    case "--events":
        guard let n = Int(value.replacingOccurrences(of: "_", with: "")), n >= 100_000 else {
            usage("--events must be an integer of at least 100000, not \(value)")
        }
        events = n
    case "--seed":
        guard let s = UInt64(value) else { usage("--seed must be an unsigned integer, not \(value)") }
        seed = s
    case "--answers":
        answersPath = value
    default:
        usage("unknown option \(flag)")
    }
}

// MARK: - The recording

/// One round as generated: the kernel's recording, the client's load, and the pauses planted.
struct GeneratedRound {
    let architecture: Int
    let startNs: UInt64
    let endNs: UInt64
    var recording: ProbeRecording
    var load: LoadResult
    var injected: [KnownPause]
}

struct Generator {
    var random: SplitMix64
    /// The mean on-CPU burst plus off-CPU wait of a worker, ns: sized so that the off-CPU intervals
    /// make about 90% of the events asked for.
    let cycleNs: Double

    init(seed: UInt64, events: Int) {
        random = SplitMix64(seed: seed)
        let threadSeconds = (0..<rounds).reduce(0.0) {
            $0 + Double(architectures[$1 % architectures.count].services.count * threadsPerProcess) * Double(roundNs) / 1e9
        }
        cycleNs = threadSeconds * 1e9 / (0.9 * Double(events))
    }

    mutating func uniform(_ low: Double, _ high: Double) -> Double { random.uniform(low, high) }
    mutating func chance(_ p: Double) -> Bool { random.unit() < p }

    /// `pausesPerRound` pauses of 3–25 ms, one in each equal slot of the round, clear of its edges.
    mutating func pauses(start: UInt64) -> [(start: UInt64, end: UInt64)] {
        let slot = Double(roundNs - 400_000_000) / Double(pausesPerRound)
        return (0..<pausesPerRound).map { k in
            let at = start + 200_000_000 + UInt64(Double(k) * slot + uniform(0.05, 0.9) * slot)
            return (at, at + UInt64(uniform(3, 25) * ms))
        }
    }

    /// A worker from `start` to `end`: bursts of work, then an idle wait (epoll_wait), a contended
    /// lock (futex), a preemption or an fsync; during a pause it parks in futex at its next
    /// safepoint (or as soon as it comes back from a wait) until the collector releases it.
    /// Returns its on-CPU time.
    mutating func worker(tid: Int32, pid: Int32, start: UInt64, end: UInt64, pauses: [(start: UInt64, end: UInt64)],
                         into intervals: inout [OffCPUInterval]) -> UInt64 {
        var t = start + UInt64(uniform(0, 2 * ms))
        var onCpu: UInt64 = 0
        var next = 0
        func off(_ from: UInt64, _ to: UInt64, _ syscall: Int32?, runq: UInt64 = 0, preempted: Bool = false) {
            intervals.append(OffCPUInterval(tid: tid, tgid: pid, startNs: from, endNs: to, runqNs: runq, syscall: syscall,
                                            preempted: preempted))
        }
        /// Parked from `at` until released at `release` (a little jitter), sometimes then waiting for a CPU.
        func park(_ at: UInt64, until release: UInt64) -> UInt64 {
            let wake = release + UInt64(uniform(0, 0.2 * ms))
            let runq = chance(0.5) ? UInt64(uniform(0, 1 * ms)) : 0
            off(at, wake + runq, Syscall.futex, runq: runq)
            return wake + runq
        }
        while t < end {
            while next < pauses.count, pauses[next].end <= t { next += 1 }
            let pause = next < pauses.count ? pauses[next] : nil
            if let pause, pause.start <= t {
                // Back from a wait during a pause: straight to the safepoint.
                onCpu += 5_000
                t = park(t + 5_000, until: pause.end)
                continue
            }
            let burst = UInt64(uniform(0.15, 0.55) * cycleNs)
            if let pause, pause.start < t + burst {
                var reached = pause.start + UInt64(uniform(0, 0.05 * ms))
                let length = Double(pause.end - pause.start)
                if chance(0.1), length >= 4 * ms {
                    // Preempted on its way to the safepoint.
                    let at = max(t, pause.start - UInt64(uniform(0, 0.3 * ms)))
                    let preemptedFor = UInt64(uniform(1 * ms, length / 2))
                    onCpu += at - t
                    off(at, at + preemptedFor, nil, runq: preemptedFor, preempted: true)
                    reached = at + preemptedFor + 10_000
                    onCpu += 10_000
                } else {
                    onCpu += reached - t
                }
                t = park(reached, until: pause.end)
                continue
            }
            t += burst
            onCpu += burst
            let length = UInt64(max(1.05 * ms, uniform(0.5, 1.5) * 0.65 * cycleNs))
            guard t + length <= end else { break }
            let tail = chance(0.3) ? UInt64(uniform(0, min(0.3 * ms, Double(length) / 2))) : 0
            switch random.unit() {
            case ..<0.55: off(t, t + length, Syscall.epollWait, runq: tail)
            case ..<0.70: off(t, t + length, Syscall.futex, runq: tail)
            case ..<0.90: off(t, t + length, nil, runq: length, preempted: true)
            default: off(t, t + length, Syscall.fsync, runq: tail)
            }
            t += length
        }
        return onCpu
    }

    /// The collector: asleep between pauses, on CPU through each (sometimes preempted).
    mutating func collector(tid: Int32, pid: Int32, start: UInt64, end: UInt64, pauses: [(start: UInt64, end: UInt64)],
                            into intervals: inout [OffCPUInterval]) -> UInt64 {
        var asleepSince = start
        var onCpu: UInt64 = 0
        for pause in pauses {
            intervals.append(OffCPUInterval(tid: tid, tgid: pid, startNs: asleepSince, endNs: pause.start, syscall: Syscall.clockNanosleep))
            onCpu += pause.end - pause.start
            let length = Double(pause.end - pause.start)
            if chance(0.3), length >= 4 * ms {
                let at = pause.start + UInt64(uniform(0, length - 3 * ms))
                let preemptedFor = UInt64(uniform(1 * ms, max(1 * ms, Double(pause.end - at) / 2)))
                intervals.append(OffCPUInterval(tid: tid, tgid: pid, startNs: at, endNs: at + preemptedFor, runqNs: preemptedFor,
                                                syscall: nil, preempted: true))
                onCpu -= preemptedFor
            }
            asleepSince = pause.end + 10_000
        }
        intervals.append(OffCPUInterval(tid: tid, tgid: pid, startNs: asleepSince, endNs: end, syscall: Syscall.clockNanosleep))
        return onCpu
    }

    /// `service`'s RSS at `ns`: its floor (growing if it leaks), plus a GC sawtooth whose cycles
    /// last 2–4 s and rise by 25–45% of the floor, plus noise.
    mutating func rss(_ service: Service, at ns: UInt64) -> UInt64 {
        let seconds = Double(ns - origin) / 1e9
        let period = 2.0 + Double(service.pid % 7) * 0.3
        let cycle = (seconds / period).rounded(.down)
        var cycleRandom = SplitMix64(seed: UInt64(service.pid) &* 0x9E37_79B9 &+ UInt64(cycle))
        let amplitude = service.floorBytes * cycleRandom.uniform(0.25, 0.45)
        let trough = service.floorBytes * cycleRandom.uniform(-0.005, 0.005)
        let phase = seconds / period - cycle
        let bytes = service.floorBytes + service.leakBytesPerS * seconds + trough + amplitude * phase
            + service.floorBytes * uniform(-0.002, 0.002)
        return UInt64(bytes) / 4096 * 4096
    }

    /// Latency bucket probabilities ([2^i, 2^(i+1)) µs, 24 buckets) of a log-normal with median
    /// `medianUs` and σ 0.6: its P99 is 4 × the median.
    static func buckets(medianUs: Double) -> [Double] {
        func cdf(_ us: Double) -> Double { 0.5 * erfc(-(log(us) - log(medianUs)) / (0.6 * 2.0.squareRoot())) }
        return (0..<24).map { (i: Int) -> Double in
            let low = i == 0 ? 0 : cdf(exp2(Double(i)))
            return cdf(exp2(Double(i + 1))) - low
        }
    }

    /// The client's load of one round: 100 ms windows at about 20 000 responses a second, each
    /// window that meets a pause slower by it, and the requests above P99, 30% of them held up by a
    /// pause (sent before or during it, answered after it).
    mutating func load(start: UInt64, end: UInt64, medianUs: Double, pauses: [(start: UInt64, end: UInt64)]) -> LoadResult {
        let shape = Self.buckets(medianUs: medianUs)
        var windows: [LoadWindow] = []
        var total = [UInt64](repeating: 0, count: shape.count)
        var responses: UInt64 = 0, errors: UInt64 = 0
        var windowStart = start
        while windowStart + windowNs <= end {
            let count = 2000 * uniform(0.95, 1.05)
            var counts = shape.map { UInt32(max(0, (count * $0 * (1 + 0.05 * random.gaussian())).rounded())) }
            for pause in pauses where pause.start < windowStart + windowNs && pause.end > windowStart {
                // The requests that arrived during the pause waited for its end.
                let pauseUs = Double(pause.end - pause.start) / 1000
                let held = Int(pauseUs / 1000 * 20)
                for _ in 0..<held {
                    let latency = medianUs + uniform(0, pauseUs)
                    counts[min(counts.count - 1, Int(log2(latency)))] += 1
                }
            }
            let windowErrors: UInt64 = chance(0.02) ? 1 : 0
            let log2 = counts.map(UInt64.init)
            let windowResponses = log2.reduce(0, +)
            for (i, c) in log2.enumerated() { total[i] += c }
            responses += windowResponses
            errors += windowErrors
            windows.append(LoadWindow(
                startNs: windowStart, responses: windowResponses, errors: windowErrors,
                p50Us: Significance.log2Percentile(log2, 0.5) ?? 0, p90Us: Significance.log2Percentile(log2, 0.9) ?? 0,
                p99Us: Significance.log2Percentile(log2, 0.99) ?? 0, maxUs: Significance.log2Percentile(log2, 1) ?? 0,
                log2Counts: counts))
            windowStart += windowNs
        }
        let p99Us = Significance.log2Percentile(total, 0.99) ?? 0
        let latency = LatencySummary(
            p50: Significance.log2Percentile(total, 0.5) ?? 0, p90: Significance.log2Percentile(total, 0.9) ?? 0,
            p95: Significance.log2Percentile(total, 0.95) ?? 0, p99: p99Us,
            p999: Significance.log2Percentile(total, 0.999) ?? 0, max: Significance.log2Percentile(total, 1) ?? 0,
            mean: medianUs * exp(0.18))
        let p99Ns = p99Us * 1000
        var slow: [SlowRequest] = []
        func request(sent: UInt64, end: UInt64) {
            slow.append(SlowRequest(intendedNs: sent - UInt64(uniform(0, 0.2 * ms)), sentNs: sent, endNs: end,
                                    connection: UInt32(random.next() % 50), endpoint: Int(random.next() % 4), status: 200))
        }
        let heldUp = slowRequestsPerRound * 3 / 10
        for k in 0..<heldUp {
            let pause = pauses[k % pauses.count]
            let sent = pause.start - UInt64(12 * ms) + UInt64(uniform(0, Double(pause.end - pause.start) + 11 * ms))
            let answered = max(pause.end + UInt64(uniform(0.2, 4) * ms), sent + UInt64(p99Ns * uniform(1.02, 1.5)))
            request(sent: sent, end: answered)
        }
        for _ in heldUp..<slowRequestsPerRound {
            // Slower than the running P99 when answered; about 5% of them under the round's final P99.
            let length = p99Ns * (chance(0.05) ? uniform(0.8, 0.99) : 1.01 - 0.5 * log(max(random.unit(), 1e-12)))
            let sent = start + UInt64(uniform(0, Double(end - start) - length))
            request(sent: sent, end: sent + UInt64(length))
        }
        slow.sort { $0.endNs < $1.endNs }
        let seconds = Double(end - start) / 1e9
        return LoadResult(
            url: "http://127.0.0.1:8080/api/orders", threads: 2, connections: 50, mode: "open", requests: responses,
            sent: responses + errors, durationS: seconds, requestsPerS: Double(responses) / seconds, latencyUs: latency,
            errors: ErrorCounts(timeout: errors), statusCounts: ["200": responses], targetRate: 20_000,
            achievedRate: Double(responses + errors) / seconds, lateSends: 0, droppedSends: 0, bytesRead: responses * 180,
            bytesWritten: responses * 120, connects: 50, pingsAnswered: 0, serverCloses: 0, startNs: start, endNs: end,
            endpoints: [], windows: windows, slowRequests: slow, slowRequestsDropped: 0, windowsDropped: 0, stoppedEarly: false)
    }

    /// Every round; `rssPoints` RSS points shared out over the rounds' processes.
    mutating func generate(events: Int) -> [GeneratedRound] {
        var generated: [GeneratedRound] = []
        for r in 0..<rounds {
            let a = r % architectures.count
            let start = origin + UInt64(r) * (roundNs + roundGapNs), end = start + roundNs
            let pauses = self.pauses(start: start)
            var intervals: [OffCPUInterval] = []
            var processes: [ProcessRecord] = []
            var injected: [KnownPause] = []
            for service in architectures[a].services {
                var threads: [ThreadRecord] = []
                for k in 0..<threadsPerProcess {
                    let tid = service.pid * 100 + Int32(k)
                    let before = intervals.count
                    let onCpu = service.collects && k == threadsPerProcess - 1
                        ? collector(tid: tid, pid: service.pid, start: start, end: end, pauses: pauses, into: &intervals)
                        : worker(tid: tid, pid: service.pid, start: start, end: end, pauses: service.collects ? pauses : [],
                                 into: &intervals)
                    let mine = intervals[before...]
                    threads.append(ThreadRecord(tid: tid, oncpuNs: onCpu, offcpuNs: mine.reduce(0) { $0 + $1.durationNs },
                                                runqNs: mine.reduce(0) { $0 + $1.runqNs }, stolenNs: 0,
                                                switches: UInt32(mine.count)))
                }
                if service.collects { injected += pauses.map { KnownPause(pid: service.pid, startNs: $0.start, endNs: $0.end) } }
                processes.append(ProcessRecord(
                    pid: service.pid, ppid: 1, comm: "archbench", label: service.label, startNs: origin - 1_000_000_000,
                    syscalls: [:], syscallTotal: 0, syscallLatencyNs: [:], oncpuNs: threads.reduce(0) { $0 + $1.oncpuNs },
                    offcpuNs: threads.reduce(0) { $0 + $1.offcpuNs }, runqNs: threads.reduce(0) { $0 + $1.runqNs }, stolenNs: 0,
                    threads: threads, pageFaults: 0, rssTimeline: []))
            }
            // The kernel delivers intervals as they end.
            intervals.sort { ($0.endNs, $0.tid) < ($1.endNs, $1.tid) }
            let medianUs = a == 0 ? 5000.0 : 5750.0
            let gcPauses = architectures[a].services.contains(where: \.collects) ? pauses : []
            let recording = ProbeRecording(
                startNs: start, endNs: end, endReason: "duration", processes: processes, command: nil, lostEvents: [:],
                offcpuIntervals: intervals, minOffcpuIntervalNs: 1_000_000, runtimePauses: [], runtimeProbedPids: [],
                runtimeProbes: [], families: ["targets", "sched", "memory", "tcp", "gc"])
            generated.append(GeneratedRound(architecture: a, startNs: start, endNs: end, recording: recording,
                                            load: load(start: start, end: end, medianUs: medianUs, pauses: gcPauses),
                                            injected: injected))
        }
        // The rest of the events are RSS points, spread evenly over every process of every round.
        let offcpu = generated.reduce(0) { $0 + $1.recording.offcpuIntervals.count }
        let slots = generated.reduce(0) { $0 + $1.recording.processes.count }
        let rssPoints = max(events - offcpu, slots * 100)
        var slot = 0
        for r in generated.indices {
            let services = architectures[generated[r].architecture].services
            for p in generated[r].recording.processes.indices {
                let count = rssPoints / slots + (slot < rssPoints % slots ? 1 : 0)
                slot += 1
                let step = Double(roundNs) / Double(count)
                let timeline = (0..<count).map { i -> [UInt64] in
                    let ns = generated[r].startNs + UInt64((Double(i) + uniform(0.1, 0.9)) * step)
                    return [ns, rss(services[p], at: ns)]
                }
                let sizes = timeline.map { $0[1] }
                generated[r].recording.processes[p].rssTimeline = timeline
                generated[r].recording.processes[p].rssBytes = RSSSummary(min: sizes.min() ?? 0, max: sizes.max() ?? 0,
                                                                          last: sizes.last ?? 0)
            }
        }
        return generated
    }
}

// MARK: - Timing

/// Runs `work` once and records its wall time (CLOCK_MONOTONIC).
func timed<T>(_ name: String, _ work: () -> T) -> T {
    let started = MonotonicClock.nowNs
    let result = work()
    let seconds = Double(MonotonicClock.nowNs - started) / 1e9
    print("  " + name.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: " %7.3f s", seconds))
    return result
}

// MARK: - Generate

let generatedAt = MonotonicClock.nowNs
var generator = Generator(seed: seed, events: events)
var generated = generator.generate(events: events)
let offcpuCount = generated.reduce(0) { $0 + $1.recording.offcpuIntervals.count }
let rssCount = generated.reduce(0) { total, round in total + round.recording.processes.reduce(0) { $0 + $1.rssTimeline.count } }
let totalEvents = offcpuCount + rssCount
print(String(format: "generated %d events (%d off-CPU intervals, %d RSS points), %d rounds of %.0f s, %d injected pauses, seed %llu, in %.1f s",
             totalEvents, offcpuCount, rssCount, rounds, Double(roundNs) / 1e9, generated.reduce(0) { $0 + $1.injected.count },
             seed, Double(MonotonicClock.nowNs - generatedAt) / 1e9))

// MARK: - Analyse, as SuiteRunner.analyse does

/// Each architecture's processes over all its rounds, as the suite's merged report has them (the
/// suite merges before it analyses, so this is not timed).
let runs: [(processes: [ProcessRecord], startNs: UInt64, endNs: UInt64)] = architectures.indices.map { a in
    let own = generated.filter { $0.architecture == a }
    var merged: [Int32: ProcessRecord] = [:]
    for round in own {
        for process in round.recording.processes {
            if var known = merged[process.pid] {
                known.rssTimeline += process.rssTimeline
                merged[process.pid] = known
            } else {
                merged[process.pid] = process
            }
        }
    }
    return (merged.values.sorted { $0.pid < $1.pid }, own.first?.startNs ?? 0, own.last?.endNs ?? 0)
}

print("analysis phases (wall clock):")
let analysisStarted = MonotonicClock.nowNs

let reports = timed("pause detection (ProbeAnalysis)") { generated.map { ProbeAnalysis.report(of: $0.recording) } }
let timelines: [[RoundTimeline]] = architectures.indices.map { a in
    generated.indices.filter { generated[$0].architecture == a }.map { r in
        RoundTimeline(startNs: generated[r].startNs, endNs: generated[r].endNs, loads: [generated[r].load],
                      recording: generated[r].recording, pauses: reports[r].pauses)
    }
}

let rootCauses = timed("root causes + correlations") {
    timelines.map { RootCauseAnalysis().analyse($0, labels: labels) }
}

let gc = timed("GC impact") { timelines.map { GCImpact.of($0, labels: labels) } }

let leaks = timed("leak verdicts (ProcessLeak)") {
    runs.map { ProcessLeak.of($0.processes, startNs: $0.startNs, endNs: $0.endNs, labels: labels) }
}

/// What the suite's figures would be: from the blocks pooled.
func figure(_ metric: DeltaMetric, _ rounds: [[LoadBlock]]) -> Double {
    let blocks = rounds.flatMap { $0 }
    switch metric {
    case .throughput: return Double(blocks.reduce(0) { $0 + $1.responses }) / blocks.reduce(0) { $0 + $1.seconds }
    case .successRate:
        let ok = blocks.reduce(UInt64(0)) { $0 + $1.responses }, failed = blocks.reduce(UInt64(0)) { $0 + $1.errors }
        return Double(ok) / Double(ok + failed)
    case .latencyP50, .latencyP95, .latencyP99:
        var counts = [UInt64](repeating: 0, count: 24)
        for block in blocks { for (i, c) in block.log2Counts.enumerated() { counts[i] += c } }
        let q = metric == .latencyP50 ? 0.5 : metric == .latencyP95 ? 0.95 : 0.99
        return (Significance.log2Percentile(counts, q) ?? 0) / 1000
    case .memory: return blocks.compactMap(\.memoryBytes).max() ?? 0
    }
}
let deltas = timed("significance (blocks + 6 deltas)") { () -> [Delta] in
    let blocks = timelines.map { rounds in
        rounds.map { round in Significance.blocks(round.loads, memory: round.recording.map { $0.residentBytes(at:) }) }
    }
    return DeltaMetric.allCases.compactMap { metric in
        Significance().delta(benchmark: "api_response_times", metric: metric, baseline: figure(metric, blocks[0]),
                             candidate: figure(metric, blocks[1]), baselineRounds: blocks[0], candidateRounds: blocks[1])
    }
}

let totalSeconds = Double(MonotonicClock.nowNs - analysisStarted) / 1e9

if let answersPath {
    struct Answers: Encodable {
        let pauses: [[DetectedPause]]
        let causes: [[RootCause]]
        let correlations: [[WindowCorrelation]]
        let gc: [[GCImpact]]
        let leaks: [[ProcessLeak]]
        let deltas: [Delta]
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    do {
        try encoder.encode(Answers(pauses: reports.map(\.pauses), causes: rootCauses.map(\.causes),
                                   correlations: rootCauses.map(\.correlations), gc: gc, leaks: leaks, deltas: deltas))
            .write(to: URL(fileURLWithPath: answersPath))
    } catch {
        FileHandle.standardError.write(Data("ab-analysis-bench: cannot write \(answersPath): \(error)\n".utf8))
        exit(ArchbenchExitCode.environment.rawValue)
    }
}

// MARK: - Sanity: the answers planted in the data

print("checks:")
var failures: [String] = []
@MainActor func check(_ ok: Bool, _ line: String) {
    print("  \(ok ? "ok  " : "FAIL") \(line)")
    if !ok { failures.append(line) }
}

let detected = reports.flatMap(\.pauses), injected = generated.flatMap(\.injected)
let score = PauseScore(detected: detected, known: injected)
check(score.recall >= 0.9 && score.precision >= 0.9 && (score.medianDurationErrorNs ?? .max) <= 1_000_000,
      String(format: "pauses: %d injected, %d detected, recall %.3f, precision %.3f, median duration error %.0f µs",
             score.knownCount, score.detectedCount, score.recall, score.precision,
             Double(score.medianDurationErrorNs ?? 0) / 1000))

for (a, architecture) in architectures.enumerated() {
    let collector = architecture.services.first(where: \.collects)!
    let causes = rootCauses[a].causes
    // 30% of the slow requests were planted around the collector's pauses, which cover about 1% of
    // the time; the other causes are whatever the random waits give.
    let pauseCause = causes.first { $0.cause == .pause && $0.pid == collector.pid }
    check(pauseCause.map { $0.shareOfSlowRequests >= 0.25 && $0.shareOfSlowRequests >= 5 * $0.chanceShare } ?? false,
          String(format: "%@: cause pause in %@: %.1f%% of %d slow requests (chance %.1f%%, p %.1e); rank %d of %d causes",
                 architecture.name, collector.label, (pauseCause?.shareOfSlowRequests ?? 0) * 100, pauseCause?.slowRequests ?? 0,
                 (pauseCause?.chanceShare ?? 0) * 100, pauseCause?.pValue ?? 1,
                 (causes.firstIndex { $0.cause == .pause && $0.pid == collector.pid } ?? -1) + 1, causes.count))
    if let top = causes.first, top.cause != .pause || top.pid != collector.pid {
        print(String(format: "       (top cause: %@ in %@, %.2f%% of slow requests against %.2f%% by chance, p %.1e)", top.cause.rawValue,
                     top.process, top.shareOfSlowRequests * 100, top.chanceShare * 100, top.pValue))
    }
    let pauseCorrelation = rootCauses[a].correlations.first { $0.cause == .pause && $0.pid == collector.pid }
    check(pauseCorrelation.map { $0.rho > 0 && $0.pValue < 1e-6 } ?? false,
          String(format: "%@: window P99 against pause time in %@: rho %.3f (p %.1e) over %d windows; %d correlations",
                 architecture.name, collector.label, pauseCorrelation?.rho ?? .nan, pauseCorrelation?.pValue ?? 1,
                 pauseCorrelation?.windows ?? 0, rootCauses[a].correlations.count))
    let impact = gc[a].first { $0.pid == collector.pid }
    let planted = injected.filter { $0.pid == collector.pid }.count
    check(impact.map { abs($0.pauses - planted) <= planted / 10 && $0.slowRequestsOverlapping * 4 >= $0.slowRequests } ?? false,
          String(format: "%@: GC impact of %@: %d pauses (%d planted), %.2f%% of the time, p99 %.1f ms, %d of %d slow requests overlap one",
                 architecture.name, collector.label, impact?.pauses ?? 0, planted, (impact?.pauseShare ?? 0) * 100,
                 impact?.p99Ms ?? 0, impact?.slowRequestsOverlapping ?? 0, impact?.slowRequests ?? 0))
    for leak in leaks[a] {
        let leaking = architecture.services.first { $0.pid == leak.pid }.map { $0.leakBytesPerS > 0 } ?? false
        check(leak.leakSuspected == leaking,
              String(format: "%@: %@ %@ (%+.0f B/s, 95%% CI [%.0f, %.0f], %d floor points, %d RSS points)", architecture.name,
                     leak.process, leak.leakSuspected ? "leak suspected" : "no leak", leak.growthBytesPerS, leak.ci95BytesPerS[0],
                     leak.ci95BytesPerS[1], leak.samples, leak.rssPoints))
    }
}
// The microservices' latency is 15% higher by construction; their throughput the same.
for delta in deltas {
    let expected: [DeltaVerdict] = switch delta.metric {
    case DeltaMetric.latencyP50.rawValue, DeltaMetric.latencyP95.rawValue, DeltaMetric.latencyP99.rawValue: [.worse]
    case DeltaMetric.throughput.rawValue, DeltaMetric.successRate.rawValue: [.withinNoise]
    default: [.better, .worse, .withinNoise]
    }
    check(expected.contains(delta.verdict),
          String(format: "delta %@: %+.1f%% [%+.1f%%, %+.1f%%], %@", delta.metric, delta.changePct, delta.ci95Pct[0],
                 delta.ci95Pct[1], delta.verdict.rawValue))
}
check(deltas.count == DeltaMetric.allCases.count, "\(deltas.count) of \(DeltaMetric.allCases.count) deltas computed")

// MARK: - Result

print(String(format: "analysed %d events in %.2f s (%.2f M events/s)", totalEvents, totalSeconds,
             Double(totalEvents) / totalSeconds / 1e6))
if !failures.isEmpty {
    print("FAILED: \(failures.count) checks: the time above measured wrong answers")
    exit(ArchbenchExitCode.validationFailed.rawValue)
}
if totalSeconds > budgetSeconds {
    print(String(format: "FAILED: over the %.0f s budget", budgetSeconds))
    exit(ArchbenchExitCode.validationFailed.rawValue)
}
exit(ArchbenchExitCode.success.rawValue)
