import Analysis
import Reports

extension SuiteRunner {
    /// The figures the validation holds to the thresholds (docs/validation.md): per benchmark its
    /// throughput and success rate (no regression; concurrent_handling's throughput is the
    /// scalability check), P95 and P99 latency and each REST endpoint's P95 (latency acceptability),
    /// peak RSS where measured (memory efficiency); each with the analysis's delta for it.
    func validationFigures(_ results: [String: [String: BenchmarkResult]], rounds: [BenchmarkRound], benchmarks: [String],
                           deltas: [Delta]) -> [ValidationFigure] {
        let baseline = config.baseline.name, candidate = config.candidate.name
        var figures: [ValidationFigure] = []
        for name in benchmarks {
            guard let base = results[baseline]?[name], let cand = results[candidate]?[name] else { continue }
            func delta(_ metric: DeltaMetric, endpoint: String? = nil) -> Delta? {
                deltas.first { $0.benchmark == name && $0.metric == metric.rawValue && $0.endpoint == endpoint }
            }
            func figure(_ requirement: Requirement, _ metric: DeltaMetric, threshold: String, _ value: (BenchmarkResult) -> Double) {
                figures.append(ValidationFigure(requirement: requirement, benchmark: name, metric: metric.rawValue, threshold: threshold,
                                                baseline: value(base), candidate: value(cand), delta: delta(metric)))
            }
            figure(name == "concurrent_handling" ? .scalabilityImprovement : .noRegression, .throughput, threshold: "throughput",
                   \.throughput)
            figure(.noRegression, .successRate, threshold: "success_rate", \.successRate)
            figure(.latencyAcceptability, .latencyP95, threshold: "latency", \.latencyStats.p95)
            figure(.latencyAcceptability, .latencyP99, threshold: "latency", \.latencyStats.p99)
            func own(_ architecture: String) -> [BenchmarkResult] {
                rounds.filter { $0.benchmark == name && $0.architecture == architecture }.compactMap(\.result)
            }
            let endpointsA = Self.endpointP95(own(baseline)), endpointsB = Self.endpointP95(own(candidate))
            for endpoint in endpointsA.keys.sorted() {
                guard let a = endpointsA[endpoint], let b = endpointsB[endpoint] else { continue }
                figures.append(ValidationFigure(requirement: .latencyAcceptability, benchmark: name, metric: DeltaMetric.latencyP95.rawValue,
                                                endpoint: endpoint, threshold: "latency", baseline: Self.mean(a), candidate: Self.mean(b),
                                                delta: delta(.latencyP95, endpoint: endpoint)))
            }
            if case .number(let a)? = base.metadata["peak_rss_bytes"], case .number(let b)? = cand.metadata["peak_rss_bytes"] {
                figures.append(ValidationFigure(requirement: .memoryEfficiency, benchmark: name, metric: DeltaMetric.memory.rawValue,
                                                threshold: "memory", baseline: a, candidate: b, delta: delta(.memory)))
            }
        }
        return figures
    }

    func validate(_ results: [String: [String: BenchmarkResult]], rounds: [BenchmarkRound], benchmarks: [String],
                  deltas: [Delta], failedRounds: Int) -> ValidationOutcome {
        Validation.judge(validationFigures(results, rounds: rounds, benchmarks: benchmarks, deltas: deltas),
                         thresholds: config.thresholds, failedRounds: failedRounds)
    }

    /// Each endpoint's P95 (ms) in each of `rounds` that measured it (`endpoint.<METHOD PATH>.p95_ms`).
    static func endpointP95(_ rounds: [BenchmarkResult]) -> [String: [Double]] {
        var figures: [String: [Double]] = [:]
        for round in rounds {
            for (key, value) in round.metadata where key.hasPrefix("endpoint.") && key.hasSuffix(".p95_ms") {
                guard case .number(let ms) = value else { continue }
                figures[String(key.dropFirst("endpoint.".count).dropLast(".p95_ms".count)), default: []].append(ms)
            }
        }
        return figures
    }

    static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
}
