/// What the probes recorded over one run, converted from the kernel's structs and nothing more:
/// per process and thread, the off-CPU intervals and the runtimes' own GC pauses one by one. Every
/// timestamp is CLOCK_MONOTONIC ns. Interpreting it (pauses, causes, leaks) is the analysis's job.
public struct ProbeRecording: Codable, Sendable {
    public var clock = "CLOCK_MONOTONIC"
    public var startNs: UInt64
    public var endNs: UInt64
    /// Why the run ended: duration, signal, command_exited or targets_exited.
    public var endReason: String
    public var processes: [ProcessRecord]
    /// The spawned command, when there was one.
    public var command: CommandOutcome?
    /// Events the kernel side dropped, by family and reason; empty when none were.
    public var lostEvents: [String: UInt64]
    /// Every off-CPU interval of at least `minOffcpuIntervalNs` of a target thread.
    public var offcpuIntervals: [OffCPUInterval]
    public var minOffcpuIntervalNs: UInt64
    /// Collections the runtimes reported themselves (USDT GC probes), one by one.
    public var runtimePauses: [RuntimePause]
    /// The processes whose runtime GC probes were attached: their runtime reports every collection.
    public var runtimeProbedPids: [Int32]
    /// USDT probes of runtimes found in the targets (attached, or why not).
    public var runtimeProbes: [String]
    /// The probe families loaded (bpf/NAME.bpf.c). Without "syscalls" (opt-in) the processes'
    /// syscall counts and latencies are empty because they were not traced.
    public var families: [String]

    public init(startNs: UInt64, endNs: UInt64, endReason: String, processes: [ProcessRecord],
                command: CommandOutcome?, lostEvents: [String: UInt64], offcpuIntervals: [OffCPUInterval],
                minOffcpuIntervalNs: UInt64, runtimePauses: [RuntimePause], runtimeProbedPids: [Int32],
                runtimeProbes: [String], families: [String]) {
        self.startNs = startNs
        self.endNs = endNs
        self.endReason = endReason
        self.processes = processes
        self.command = command
        self.lostEvents = lostEvents
        self.offcpuIntervals = offcpuIntervals
        self.minOffcpuIntervalNs = minOffcpuIntervalNs
        self.runtimePauses = runtimePauses
        self.runtimeProbedPids = runtimeProbedPids
        self.runtimeProbes = runtimeProbes
        self.families = families
    }

}

/// What a probe run's documents share: its span on CLOCK_MONOTONIC and the families loaded.
public protocol ProbeSpan {
    var startNs: UInt64 { get }
    var endNs: UInt64 { get }
    var families: [String] { get }
}

extension ProbeSpan {
    /// Without the syscalls family (opt-in) the processes' syscall counts are empty because they
    /// were not traced, not because there were none.
    public var syscallsTraced: Bool { families.contains("syscalls") }

    public var durationSeconds: Double { Double(endNs &- startNs) / 1e9 }
}

extension ProbeRecording: ProbeSpan {}

/// One collection a runtime reported through its GC probes (HotSpot's gc__begin/gc__end).
public struct RuntimePause: Codable, Sendable, Equatable {
    public var pid: Int32
    /// The thread that reported it (the collector).
    public var tid: Int32
    public var startNs: UInt64
    public var endNs: UInt64

    public init(pid: Int32, tid: Int32, startNs: UInt64, endNs: UInt64) {
        self.pid = pid
        self.tid = tid
        self.startNs = startNs
        self.endNs = max(startNs, endNs)
    }
}

/// Summary of one syscall's latency histogram, in ns.
public struct LatencyStats: Codable, Sendable, Equatable {
    public var count: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    /// Exact: the kernel keeps the sum.
    public var mean: UInt64
    public var max: UInt64

    public init(count: UInt64, p50: UInt64, p90: UInt64, p99: UInt64, mean: UInt64, max: UInt64) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.mean = mean
        self.max = max
    }
}

public struct ProcessRecord: Codable, Sendable {
    public var pid: Int32
    public var ppid: Int32
    public var comm: String
    /// The label given to it or to the target it descends from (e.g. "monolith", "orders").
    public var label: String?
    public var startNs: UInt64
    public var exitNs: UInt64?
    /// The process's exit as wait(2) decoded it; nil while it still ran at the end.
    public var exit: ExitStatus?
    public var syscalls: [String: UInt64]
    public var syscallTotal: UInt64
    /// Entry-to-exit latency by syscall (calls that had entered before the probes attached, or never
    /// return, are not timed).
    public var syscallLatencyNs: [String: LatencyStats]
    /// Sums over the process's threads: on CPU, off CPU, and the runnable part of off CPU.
    public var oncpuNs: UInt64
    public var offcpuNs: UInt64
    public var runqNs: UInt64
    /// Part of offcpu_ns: switched in, but the task clock did not advance (hypervisor steal).
    public var stolenNs: UInt64
    public var threads: [ThreadRecord]
    public var pageFaults: UInt64
    /// Nil when the process's RSS never changed while probed.
    public var rssBytes: RSSSummary?
    /// [CLOCK_MONOTONIC ns, bytes], one point per change of max(64 KiB, RSS/128).
    public var rssTimeline: [[UInt64]]
    /// Nil when none of its sockets had trouble.
    public var tcp: TCPTrouble?
    /// Each TCP event counted in `tcp`, in time order: [CLOCK_MONOTONIC ns, `TCPEventKind` raw
    /// value]; nil when there was none.
    public var tcpEvents: [[UInt64]]? = nil
    /// Its syscalls that took 1 ms or more from entry to exit, by start time: [CLOCK_MONOTONIC ns
    /// of the entry, duration ns, syscall number]; nil unless syscalls were traced (`--syscalls`)
    /// and one was that slow.
    public var slowSyscalls: [[UInt64]]? = nil
    /// Outstanding native allocations by stack; nil unless asked for (`--alloc`).
    public var allocations: AllocationRecord? = nil

    public init(pid: Int32, ppid: Int32, comm: String, label: String? = nil, startNs: UInt64, exitNs: UInt64? = nil,
                exit: ExitStatus? = nil, syscalls: [String: UInt64], syscallTotal: UInt64,
                syscallLatencyNs: [String: LatencyStats], oncpuNs: UInt64, offcpuNs: UInt64, runqNs: UInt64,
                stolenNs: UInt64, threads: [ThreadRecord], pageFaults: UInt64, rssBytes: RSSSummary? = nil,
                rssTimeline: [[UInt64]], tcp: TCPTrouble? = nil, tcpEvents: [[UInt64]]? = nil,
                slowSyscalls: [[UInt64]]? = nil, allocations: AllocationRecord? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.comm = comm
        self.label = label
        self.startNs = startNs
        self.exitNs = exitNs
        self.exit = exit
        self.syscalls = syscalls
        self.syscallTotal = syscallTotal
        self.syscallLatencyNs = syscallLatencyNs
        self.oncpuNs = oncpuNs
        self.offcpuNs = offcpuNs
        self.runqNs = runqNs
        self.stolenNs = stolenNs
        self.threads = threads
        self.pageFaults = pageFaults
        self.rssBytes = rssBytes
        self.rssTimeline = rssTimeline
        self.tcp = tcp
        self.tcpEvents = tcpEvents.flatMap { $0.isEmpty ? nil : $0 }
        self.slowSyscalls = slowSyscalls.flatMap { $0.isEmpty ? nil : $0 }
        self.allocations = allocations
    }
}

/// What a TCP event was (bpf/tcp.h's `enum ab_tcp_kind`).
public enum TCPEventKind: UInt64, Sendable, CaseIterable {
    case retransmit = 0
    case resetSent = 1
    case resetReceived = 2
    case listenOverflow = 3
    case drop = 4
}

public struct TCPTrouble: Codable, Sendable, Equatable {
    public var retransmits: UInt64
    public var resetsSent: UInt64
    public var resetsReceived: UInt64
    public var listenOverflows: UInt64
    public var drops: UInt64

    public init(retransmits: UInt64, resetsSent: UInt64, resetsReceived: UInt64, listenOverflows: UInt64, drops: UInt64) {
        self.retransmits = retransmits
        self.resetsSent = resetsSent
        self.resetsReceived = resetsReceived
        self.listenOverflows = listenOverflows
        self.drops = drops
    }
}

public struct ThreadRecord: Codable, Sendable {
    public var tid: Int32
    public var oncpuNs: UInt64
    public var offcpuNs: UInt64
    public var runqNs: UInt64
    public var stolenNs: UInt64
    public var switches: UInt32

    public init(tid: Int32, oncpuNs: UInt64, offcpuNs: UInt64, runqNs: UInt64, stolenNs: UInt64, switches: UInt32) {
        self.tid = tid
        self.oncpuNs = oncpuNs
        self.offcpuNs = offcpuNs
        self.runqNs = runqNs
        self.stolenNs = stolenNs
        self.switches = switches
    }
}

public struct RSSSummary: Codable, Sendable, Equatable {
    public var min: UInt64
    public var max: UInt64
    public var last: UInt64

    public init(min: UInt64, max: UInt64, last: UInt64) {
        self.min = min
        self.max = max
        self.last = last
    }
}

public struct CommandOutcome: Codable, Sendable {
    public var argv: [String]
    public var pid: Int32
    /// Nil when the command was still running at the end and had to be stopped.
    public var exit: ExitStatus?
    /// True when archbench stopped the command (at the end of --duration, or on a signal).
    public var stoppedByArchbench: Bool

    public init(argv: [String], pid: Int32, exit: ExitStatus? = nil, stoppedByArchbench: Bool) {
        self.argv = argv
        self.pid = pid
        self.exit = exit
        self.stoppedByArchbench = stoppedByArchbench
    }
}

/// A decoded wait(2) status.
public struct ExitStatus: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The exit code, when the process exited normally.
    public var code: Int32?
    /// The signal that killed it, otherwise.
    public var signal: Int32?

    public init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            code = (status >> 8) & 0xff
        } else {
            signal = status & 0x7f
        }
    }

    public var description: String {
        if let code { return "exited with status \(code)" }
        return "killed by signal \(signal ?? 0)"
    }
}
