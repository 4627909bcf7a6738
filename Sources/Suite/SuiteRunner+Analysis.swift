import Analysis
import Reports
import Recording

extension SuiteRunner {
    /// The `analysis` section: the significance of every delta the suite reports, the kernel-side
    /// causes of each benchmark's slow requests, memory growth and pause impact per process.
    func analyse(_ results: [String: [String: BenchmarkResult]], timelines: [String: [String: [RoundTimeline]]],
                 kernel: [String: [String: ProbeReport]], benchmarks: [String], rounds: [BenchmarkRound]) -> SuiteAnalysis {
        var analysis = SuiteAnalysis()
        let baseline = config.baseline.name, candidate = config.candidate.name
        let significance = Significance()
        for benchmark in benchmarks {
            guard let base = results[baseline]?[benchmark], let cand = results[candidate]?[benchmark],
                  let baseRounds = timelines[baseline]?[benchmark], let candRounds = timelines[candidate]?[benchmark]
            else { continue }
            func blocks(_ rounds: [RoundTimeline]) -> [[LoadBlock]] {
                rounds.map { round in Significance.blocks(round.loads, memory: round.recording.map { $0.residentBytes(at:) }) }
            }
            let (blocksA, blocksB) = (blocks(baseRounds), blocks(candRounds))
            func own(_ architecture: String) -> [BenchmarkResult] {
                rounds.filter { $0.benchmark == benchmark && $0.architecture == architecture }.compactMap(\.result)
            }
            let (roundsA, roundsB) = (own(baseline), own(candidate))
            let oneLoadEach = (roundsA + roundsB).allSatisfy { $0.loads.count == 1 }
            // Each metric's figure, of a combined result and of one round's.
            let figures: [(DeltaMetric, (BenchmarkResult) -> Double)] = [
                (.throughput, \.throughput), (.latencyP50, \.latencyStats.p50), (.latencyP95, \.latencyStats.p95),
                (.latencyP99, \.latencyStats.p99), (.successRate, \.successRate),
            ]
            for (metric, figure) in figures {
                if let delta = significance.delta(benchmark: benchmark, metric: metric, baseline: figure(base), candidate: figure(cand),
                                                  baselineRounds: blocksA, candidateRounds: blocksB,
                                                  baselineFigures: roundsA.map(figure), candidateFigures: roundsB.map(figure),
                                                  blocksMakeTheFigure: oneLoadEach) {
                    analysis.deltas.append(delta)
                }
            }
            // An endpoint's latency is in each round's metadata only: judged by the rounds' figures.
            let endpointsA = Self.endpointP95(roundsA), endpointsB = Self.endpointP95(roundsB)
            for endpoint in endpointsA.keys.sorted() {
                guard let figuresA = endpointsA[endpoint], let figuresB = endpointsB[endpoint],
                      let delta = significance.figuresDelta(benchmark: benchmark, metric: .latencyP95, endpoint: endpoint,
                                                            baseline: Self.mean(figuresA), candidate: Self.mean(figuresB),
                                                            baselineFigures: figuresA, candidateFigures: figuresB,
                                                            why: "an endpoint's latency is known per round only")
                else { continue }
                analysis.deltas.append(delta)
            }
            // Memory has no figure per round: its rounds are judged by their blocks.
            if case .number(let a)? = base.metadata["peak_rss_bytes"], case .number(let b)? = cand.metadata["peak_rss_bytes"],
               let delta = significance.delta(benchmark: benchmark, metric: .memory, baseline: a, candidate: b,
                                              baselineRounds: blocksA, candidateRounds: blocksB) {
                analysis.deltas.append(delta)
            }
        }
        let rootCause = RootCauseAnalysis()
        for (architecture, byBenchmark) in timelines {
            let labels = Self.labels(kernel[architecture] ?? [:])
            guard byBenchmark.values.contains(where: { $0.contains { $0.recording != nil } }) else {
                analysis.notes.append("\(architecture): no kernel recording, so no root causes, pauses or leaks")
                continue
            }
            for (benchmark, rounds) in byBenchmark {
                let found = rootCause.analyse(rounds, labels: labels)
                analysis.rootCauses[architecture, default: [:]][benchmark] = found.causes
                analysis.correlations[architecture, default: [:]][benchmark] = Array(found.correlations.prefix(10))
            }
            analysis.gc[architecture] = GCImpact.of(benchmarks.flatMap { byBenchmark[$0] ?? [] }, labels: labels)
            if let memory = kernel[architecture]?["memory_usage"] {
                analysis.leaks[architecture] = ProcessLeak.of(memory.processes, startNs: memory.startNs, endNs: memory.endNs,
                                                              labels: labels)
            }
        }
        return analysis
    }

    /// The console's account of the analysis: the deltas that are changes, the top cause of slow
    /// requests per architecture, suspected leaks.
    static func analysisLines(_ analysis: SuiteAnalysis, architectures: [String]) -> [String] {
        var lines: [String] = []
        let changes = analysis.deltas.filter { $0.verdict != .withinNoise }
        lines.append("  \(analysis.deltas.count) differences: \(changes.filter { $0.verdict == .better }.count) better, "
            + "\(changes.filter { $0.verdict == .worse }.count) worse, "
            + "\(analysis.deltas.count - changes.count) within noise (95% intervals)")
        for delta in changes {
            let metric = delta.metric + (delta.endpoint.map { " \($0)" } ?? "")
            lines.append(String(format: "    %@ %@ %+.1f%% [%+.1f%%, %+.1f%%]: %@", delta.benchmark, metric, delta.changePct,
                                delta.ci95Pct[0], delta.ci95Pct[1], delta.verdict.rawValue))
        }
        for architecture in architectures {
            if let top = analysis.topCause(of: architecture) {
                lines.append("  \(architecture): \(top.cause.sentence(benchmark: top.benchmark))")
            } else if analysis.rootCauses[architecture] != nil {
                lines.append("  \(architecture): no kernel-side cause found for the slow requests")
            }
            for leak in analysis.leaks[architecture] ?? [] where leak.leakSuspected {
                lines.append(String(format: "  %@: memory leak suspected in pid %d (%@): %+.0f bytes/s, 95%% CI [%.0f, %.0f]",
                                    architecture, leak.pid, leak.process, leak.growthBytesPerS, leak.ci95BytesPerS[0],
                                    leak.ci95BytesPerS[1]))
            }
        }
        return lines
    }

    /// Recommendations that cite the top kernel-side cause per architecture, and suspected leaks.
    static func recommendations(_ analysis: SuiteAnalysis, architectures: [String]) -> [String] {
        var lines: [String] = []
        for architecture in architectures {
            if let top = analysis.topCause(of: architecture) {
                lines.append("🔎 \(architecture): \(top.cause.sentence(benchmark: top.benchmark)): \(top.cause.advice)")
            }
            for leak in analysis.leaks[architecture] ?? [] where leak.leakSuspected {
                lines.append("💧 \(architecture): \(leak.process) (pid \(leak.pid)) grows \(Int(leak.growthBytesPerS.rounded())) bytes/s:"
                    + " hunt it with archbench leak-hunt --pid \(leak.pid) --alloc")
            }
        }
        return lines
    }

    /// pid → label (or command name) over an architecture's reports.
    static func labels(_ reports: [String: ProbeReport]) -> [Int32: String] {
        var labels: [Int32: String] = [:]
        for report in reports.values {
            for process in report.processes { labels[process.pid] = process.label ?? process.comm }
        }
        return labels
    }
}
