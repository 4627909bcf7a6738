/// Windows of a recording: what happened between two snapshots of one probe session (the suite takes
/// one before and one after each benchmark round), and several windows taken together.
extension ProbeRecording {
    /// What was recorded after `earlier`, a snapshot of the same session: counters are the
    /// difference of the two totals; events (off-CPU intervals, runtime pauses, RSS points) are those
    /// that end inside the window; a process's RSS summary is over the window's RSS points (or its
    /// last known size when it did not change). Syscall latency summaries and allocations stay the
    /// session's totals: percentiles do not subtract.
    public func since(_ earlier: ProbeRecording) -> ProbeRecording {
        let from = earlier.endNs
        let before = Dictionary(earlier.processes.map { ($0.pid, $0) }, uniquingKeysWith: { _, last in last })
        let processes = self.processes.compactMap { process -> ProcessRecord? in
            if let exit = process.exitNs, exit <= from { return nil }
            let old = before[process.pid].flatMap { $0.startNs == process.startNs ? $0 : nil }
            return process.since(old, from: from)
        }
        var window = self
        window.startNs = from
        window.endReason = endReason
        window.processes = processes
        window.command = nil
        window.lostEvents = lostEvents.merging(earlier.lostEvents) { now, then in now &- min(now, then) }
            .filter { $0.value > 0 }
        window.offcpuIntervals = offcpuIntervals.filter { $0.endNs > from }
        window.runtimePauses = runtimePauses.filter { $0.endNs > from }
        return window
    }

    /// Several windows of one session (e.g. a benchmark's rounds) as one: counters summed, events
    /// and RSS points together, each process's RSS summary over all of them. Nil for no windows.
    public static func merging(_ windows: [ProbeRecording]) -> ProbeRecording? {
        guard var merged = windows.first else { return nil }
        for window in windows.dropFirst() {
            merged.startNs = min(merged.startNs, window.startNs)
            merged.endNs = max(merged.endNs, window.endNs)
            merged.endReason = window.endReason
            merged.lostEvents.merge(window.lostEvents) { $0 &+ $1 }
            merged.offcpuIntervals += window.offcpuIntervals
            merged.runtimePauses += window.runtimePauses
            var index = Dictionary(merged.processes.enumerated().map { ($1.pid, $0) }, uniquingKeysWith: { first, _ in first })
            for process in window.processes {
                if let at = index[process.pid] {
                    merged.processes[at].add(process)
                } else {
                    index[process.pid] = merged.processes.count
                    merged.processes.append(process)
                }
            }
        }
        return merged
    }
}

extension ProcessRecord {
    /// This process's window after `earlier` (its record in the earlier snapshot; nil when it was
    /// born since), starting at `from`.
    func since(_ earlier: ProcessRecord?, from: UInt64) -> ProcessRecord {
        var window = self
        let oldThreads = Dictionary((earlier?.threads ?? []).map { ($0.tid, $0) }, uniquingKeysWith: { _, last in last })
        window.threads = threads.map { thread in
            guard let old = oldThreads[thread.tid] else { return thread }
            return ThreadRecord(tid: thread.tid, oncpuNs: thread.oncpuNs &- min(thread.oncpuNs, old.oncpuNs),
                                offcpuNs: thread.offcpuNs &- min(thread.offcpuNs, old.offcpuNs),
                                runqNs: thread.runqNs &- min(thread.runqNs, old.runqNs),
                                stolenNs: thread.stolenNs &- min(thread.stolenNs, old.stolenNs),
                                switches: thread.switches &- min(thread.switches, old.switches))
        }
        window.oncpuNs = window.threads.reduce(0) { $0 + $1.oncpuNs }
        window.offcpuNs = window.threads.reduce(0) { $0 + $1.offcpuNs }
        window.runqNs = window.threads.reduce(0) { $0 + $1.runqNs }
        window.stolenNs = window.threads.reduce(0) { $0 + $1.stolenNs }
        if let earlier {
            window.syscalls = syscalls.merging(earlier.syscalls) { now, then in now &- min(now, then) }.filter { $0.value > 0 }
            window.syscallTotal = syscallTotal &- min(syscallTotal, earlier.syscallTotal)
            window.pageFaults = pageFaults &- min(pageFaults, earlier.pageFaults)
            window.tcp = tcp.map { $0.since(earlier.tcp) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        window.rssTimeline = rssTimeline.filter { $0.first.map { $0 > from } ?? false }
        window.tcpEvents = tcpEvents?.filter { $0.first.map { $0 > from } ?? false }
        if window.tcpEvents?.isEmpty == true { window.tcpEvents = nil }
        window.slowSyscalls = slowSyscalls?.filter { ($0.first ?? 0) + ($0.count > 1 ? $0[1] : 0) > from }
        if window.slowSyscalls?.isEmpty == true { window.slowSyscalls = nil }
        let lastKnown = rssTimeline.last { ($0.first ?? 0) <= from }?.last ?? earlier?.rssBytes?.last
        let sizes = window.rssTimeline.compactMap(\.last) + (lastKnown.map { [$0] } ?? [])
        window.rssBytes = sizes.isEmpty ? rssBytes
            : RSSSummary(min: sizes.min() ?? 0, max: sizes.max() ?? 0, last: window.rssTimeline.last?.last ?? lastKnown ?? 0)
        return window
    }

    /// Adds a later window of the same process.
    mutating func add(_ later: ProcessRecord) {
        var threadIndex = Dictionary(threads.enumerated().map { ($1.tid, $0) }, uniquingKeysWith: { first, _ in first })
        for thread in later.threads {
            if let at = threadIndex[thread.tid] {
                threads[at].oncpuNs += thread.oncpuNs
                threads[at].offcpuNs += thread.offcpuNs
                threads[at].runqNs += thread.runqNs
                threads[at].stolenNs += thread.stolenNs
                threads[at].switches &+= thread.switches
            } else {
                threadIndex[thread.tid] = threads.count
                threads.append(thread)
            }
        }
        oncpuNs += later.oncpuNs
        offcpuNs += later.offcpuNs
        runqNs += later.runqNs
        stolenNs += later.stolenNs
        syscalls.merge(later.syscalls) { $0 &+ $1 }
        syscallTotal &+= later.syscallTotal
        syscallLatencyNs = later.syscallLatencyNs
        pageFaults &+= later.pageFaults
        rssTimeline += later.rssTimeline
        if let events = later.tcpEvents { tcpEvents = (tcpEvents ?? []) + events }
        if let calls = later.slowSyscalls { slowSyscalls = (slowSyscalls ?? []) + calls }
        if let next = later.rssBytes {
            rssBytes = rssBytes.map { RSSSummary(min: Swift.min($0.min, next.min), max: Swift.max($0.max, next.max), last: next.last) } ?? next
        }
        if let next = later.tcp {
            tcp = tcp.map { $0.adding(next) } ?? next
        }
        exitNs = later.exitNs ?? exitNs
        exit = later.exit ?? exit
        allocations = later.allocations ?? allocations
    }
}

extension TCPTrouble {
    var isEmpty: Bool { retransmits == 0 && resetsSent == 0 && resetsReceived == 0 && listenOverflows == 0 && drops == 0 }

    func since(_ earlier: TCPTrouble?) -> TCPTrouble {
        guard let earlier else { return self }
        return TCPTrouble(retransmits: retransmits &- min(retransmits, earlier.retransmits),
                          resetsSent: resetsSent &- min(resetsSent, earlier.resetsSent),
                          resetsReceived: resetsReceived &- min(resetsReceived, earlier.resetsReceived),
                          listenOverflows: listenOverflows &- min(listenOverflows, earlier.listenOverflows),
                          drops: drops &- min(drops, earlier.drops))
    }

    func adding(_ other: TCPTrouble) -> TCPTrouble {
        TCPTrouble(retransmits: retransmits + other.retransmits, resetsSent: resetsSent + other.resetsSent,
                   resetsReceived: resetsReceived + other.resetsReceived,
                   listenOverflows: listenOverflows + other.listenOverflows, drops: drops + other.drops)
    }
}
