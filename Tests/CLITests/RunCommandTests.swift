import Foundation
import Suite
import TestSupport
import XCTest

/// `archbench run` end to end, on the embedded default and on configs that must fail cleanly.
final class RunCommandTests: XCTestCase {
    let archbench = BuiltProducts.archbench
    let benchmarks = ["training_throughput", "websocket_latency", "api_response_times", "memory_usage", "concurrent_handling"]

    func testTheEmbeddedDefaultRunsEveryBenchmarkOnBothArchitecturesProbedAndLeavesNothingBehind() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let directory = try temporaryDirectory("ab-run")
        let before = referenceServers()
        let linksBefore = try archbenchLinksInKernel()
        let result = try runToCompletion(archbench, ["run", "--duration", "1", "--results-dir", directory.path], timeout: 300)
        XCTAssertTrue([0, 1].contains(result.status), "exit \(result.status): \(result.stderr)")
        XCTAssertTrue(result.stdout.contains("🎯 BENCHMARK EXECUTION SUMMARY"), result.stdout)
        XCTAssertTrue(result.stdout.contains("✅ VALIDATION RESULTS:"), result.stdout)

        let names = files(in: directory)
        let resultsName = try XCTUnwrap(names.first { $0.hasPrefix("comprehensive_results_") && $0.hasSuffix(".json") }, "\(names)")
        XCTAssertTrue(names.contains { $0.hasPrefix("execution_summary_") && $0.hasSuffix(".json") }, "\(names)")
        for (prefix, suffix) in [("validation_report_", ".txt"), ("regression_report_", ".txt"), ("junit_", ".xml"), ("ci_summary_", ".md"),
                                 ("dashboard_", ".html"), ("latency_heatmap_", ".png"), ("memory_analysis_", ".html"), ("trace_", ".json")] {
            XCTAssertTrue(names.contains { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }, "no \(prefix)*\(suffix): \(names)")
        }
        XCTAssertTrue(names.contains("history.sqlite"), "\(names)")
        // The reports again from the results file alone: the same text, every file again.
        let again = directory.appending(path: "again")
        let report = try runToCompletion(archbench, ["report", directory.appending(path: resultsName).path, "--results-dir", again.path])
        XCTAssertEqual(report.status, 0, report.stderr)
        let validationName = try XCTUnwrap(names.first { $0.hasPrefix("validation_report_") })
        XCTAssertEqual(try String(contentsOf: again.appending(path: validationName), encoding: .utf8),
                       try String(contentsOf: directory.appending(path: validationName), encoding: .utf8))
        XCTAssertEqual(Set(files(in: again)), Set(names.filter { !$0.hasPrefix("comprehensive_results_") && !$0.hasPrefix("targets_")
            && $0 != "history.sqlite" && $0 != "again" }))
        XCTAssertTrue(result.stdout.contains("this run is #1"), result.stdout)
        XCTAssertFalse(names.contains { $0.hasSuffix(".tmp") }, "no temporary file left: \(names)")
        let data = try Data(contentsOf: directory.appending(path: resultsName))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(json["architectures"] as? [String], ["monolithic", "microservices"])
        let results = try XCTUnwrap(json["results"] as? [String: [String: [String: Any]]])
        let kernel = try XCTUnwrap(json["kernel"] as? [String: [String: [String: Any]]])
        for architecture in ["monolithic", "microservices"] {
            for benchmark in benchmarks {
                let result = try XCTUnwrap(results[architecture]?[benchmark], "\(architecture) \(benchmark)")
                XCTAssertGreaterThan(result["throughput"] as? Double ?? 0, 0, "\(architecture) \(benchmark)")
                XCTAssertNotNil(result["latency_stats"] as? [String: Any])
                XCTAssertNotNil(result["success_rate"] as? Double)
                XCTAssertNotNil(result["metadata"] as? [String: Any])
                let processes = try XCTUnwrap(kernel[architecture]?[benchmark]?["processes"] as? [[String: Any]])
                XCTAssertGreaterThanOrEqual(processes.count, architecture == "microservices" ? 5 : 1, "\(architecture) \(benchmark)")
                XCTAssertTrue(processes.allSatisfy { ($0["oncpu_ns"] as? Int ?? 0) > 0 || ($0["offcpu_ns"] as? Int ?? 0) > 0 })
            }
        }
        let labels = Set((kernel["microservices"]?["api_response_times"]?["processes"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String })
        XCTAssertTrue(labels.isSuperset(of: ["gateway", "users", "orders"]), "\(labels)")
        let rounds = try XCTUnwrap(json["rounds"] as? [[String: Any]])
        XCTAssertEqual(rounds.count, benchmarks.count * 6, "A B B A A B for each benchmark")
        XCTAssertEqual(rounds.prefix(6).compactMap { $0["architecture"] as? String },
                       ["monolithic", "microservices", "microservices", "monolithic", "monolithic", "microservices"])

        // The analysis: a delta with its interval for every benchmark's figures, root causes and
        // pauses per architecture, a leak verdict for every process of memory_usage.
        let analysis = try XCTUnwrap(json["analysis"] as? [String: Any])
        let deltas = try XCTUnwrap(analysis["deltas"] as? [[String: Any]])
        XCTAssertEqual(Set(deltas.compactMap { $0["benchmark"] as? String }), Set(benchmarks))
        for delta in deltas {
            let interval = try XCTUnwrap(delta["ci95_pct"] as? [Double], "\(delta)")
            let change = try XCTUnwrap(delta["change_pct"] as? Double)
            XCTAssertTrue(interval[0] <= change && change <= interval[1], "\(delta)")
            XCTAssertTrue(["better", "worse", "within_noise"].contains(delta["verdict"] as? String), "\(delta)")
            XCTAssertEqual(delta["verdict"] as? String == "within_noise", interval[0] <= 0 && interval[1] >= 0, "\(delta)")
        }
        let causes = try XCTUnwrap(analysis["root_causes"] as? [String: [String: Any]])
        XCTAssertEqual(Set(causes.keys), ["monolithic", "microservices"])
        XCTAssertEqual(Set(causes["microservices"]?.keys ?? [:].keys), Set(benchmarks))
        XCTAssertNotNil(analysis["gc"] as? [String: Any])
        let leaks = try XCTUnwrap(analysis["leaks"] as? [String: [[String: Any]]])
        XCTAssertGreaterThanOrEqual(leaks["microservices"]?.count ?? 0, 5)
        XCTAssertTrue(leaks.values.joined().allSatisfy { $0["leak_suspected"] as? Bool == false }, "\(leaks)")

        XCTAssertEqual(referenceServers().subtracting(before).sorted(), [], "the spawned backends are stopped")
        if let linksBefore { XCTAssertEqual(try archbenchLinksInKernel(), linksBefore, "no BPF link left behind") }
    }

    /// A stop-the-world pause injected into one microservice (40 ms every 250 ms in orders) is the
    /// top cause of the candidate's slow requests, and every pause cause names orders; the clean
    /// monolith gets no pause cause. Which benchmarks' slow requests it tops depends on the machine:
    /// with a CPU taken by another process, queueing for it can outweigh the pause in one of them.
    func testAnInjectedPauseIsTheTopCauseOfTheCandidatesSlowRequests() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let directory = try temporaryDirectory("ab-run")
        let ports = try freeLoopbackPorts(3)
        let config = directory.appending(path: "pause.json")
        let document: [String: Any] = [
            "monolithic": ["base_url": "http://127.0.0.1:\(ports[0])", "websocket_url": "ws://127.0.0.1:\(ports[0])/ws",
                           "connection_pool_size": 20, "command": [archbench, "serve", "monolith", "--port", "\(ports[0])"]],
            "microservices": ["base_url": "http://127.0.0.1:\(ports[1])", "websocket_url": "ws://127.0.0.1:\(ports[2])/ws",
                              "connection_pool_size": 10,
                              "command": [archbench, "serve", "microservices", "--port", "\(ports[1])", "--ws-port", "\(ports[2])",
                                          "--pause-every-ms", "orders:250", "--pause-ms", "40"]],
        ]
        try JSONSerialization.data(withJSONObject: document).write(to: config)
        let result = try runToCompletion(archbench, ["run", "--config", config.path, "--duration", "1", "--no-memory",
                                                     "--results-dir", directory.path], timeout: 300)
        XCTAssertTrue([0, 1].contains(result.status), "exit \(result.status): \(result.stderr)")
        let name = try XCTUnwrap(files(in: directory).first { $0.hasPrefix("comprehensive_results_") })
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: directory.appending(path: name))) as? [String: Any])
        let causes = try XCTUnwrap((json["analysis"] as? [String: Any])?["root_causes"] as? [String: [String: [[String: Any]]]])
        let candidate = causes["microservices"] ?? [:]
        XCTAssertTrue(candidate.values.compactMap(\.first).contains {
            $0["cause"] as? String == "pause" && $0["process"] as? String == "orders" && ($0["median_overlap_ms"] as? Double ?? 0) > 10
        }, "\(causes)")
        let pauseCauses = candidate.values.joined().filter { $0["cause"] as? String == "pause" }
        XCTAssertTrue(pauseCauses.allSatisfy { $0["process"] as? String == "orders" }, "\(causes)")
        let monolithPauses = (causes["monolithic"] ?? [:]).values.joined().filter { $0["cause"] as? String == "pause" }
        XCTAssertEqual(monolithPauses.count, 0, "\(causes)")
        XCTAssertTrue(result.stdout.contains("stop-the-world pause in pid"), result.stdout)
    }

    func testSIGINTMidRunWritesWhatRanStopsTheTargetsAndExits130() throws {
        let directory = try temporaryDirectory("ab-run")
        let before = referenceServers()
        let run = try RunningProcess(archbench, ["run", "--no-probes", "--duration", "3", "--results-dir", directory.path])
        XCTAssertTrue(run.waitForStdout(containing: "Running websocket_latency", timeout: 60), run.stdoutSoFar)
        kill(run.pid, SIGINT)
        let signalled = Date()
        let result = run.finish(timeout: 30)
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5, "the load stops at once, the targets within their grace")
        XCTAssertTrue(result.stdout.contains("SIGINT: stopping"), result.stdout)
        let names = files(in: directory)
        let resultsName = try XCTUnwrap(names.first { $0.hasPrefix("comprehensive_results_") }, "\(names)")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: directory.appending(path: resultsName)))
            as? [String: Any])
        let results = try XCTUnwrap(json["results"] as? [String: [String: Any]])
        XCTAssertNotNil(results["monolithic"]?["training_throughput"], "what ran before the signal is kept")
        XCTAssertNil(results["monolithic"]?["memory_usage"], "nothing after it ran")
        XCTAssertEqual(referenceServers().subtracting(before).sorted(), [], "the spawned backends are stopped")
    }

    func testABadConfigIsAUsageErrorNamingTheJSONPathAndWritesNothing() throws {
        let directory = try temporaryDirectory("ab-run")
        let config = directory.appending(path: "bad.json")
        try #"{"monolithic": {"base_url": 42, "websocket_url": "ws://127.0.0.1:1/ws", "connection_pool_size": 1, "processes": {"port": [1]}}, "microservices": {"base_url": "http://127.0.0.1:2/", "websocket_url": "ws://127.0.0.1:2/ws", "connection_pool_size": 1, "processes": {"port": [2]}}}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let results = directory.appending(path: "results")
        let result = try runToCompletion(archbench, ["run", "--config", config.path, "--results-dir", results.path])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("monolithic.base_url: expected a string, got 42"), result.stderr)
        XCTAssertEqual(files(in: results), [], "nothing written")
    }

    func testAnUnreachableArchitectureIsAnEnvironmentErrorNamingItWithinItsDeadline() throws {
        let directory = try temporaryDirectory("ab-run")
        let config = directory.appending(path: "unreachable.json")
        try #"""
            {"monolithic": {"base_url": "http://127.0.0.1:9/", "websocket_url": "ws://127.0.0.1:9/ws",
                            "connection_pool_size": 1, "ready_timeout_s": 1},
             "microservices": {"base_url": "http://127.0.0.1:9/", "websocket_url": "ws://127.0.0.1:9/ws",
                               "connection_pool_size": 1, "ready_timeout_s": 1}}
            """#.write(to: config, atomically: true, encoding: .utf8)
        let started = Date()
        let result = try runToCompletion(archbench, ["run", "--config", config.path, "--no-probes",
                                                     "--results-dir", directory.appending(path: "results").path])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 6, "within 5 s of the 1 s readiness deadline")
        XCTAssertTrue(result.stderr.contains("monolithic"), result.stderr)
        XCTAssertTrue(result.stderr.contains("http://127.0.0.1:9/"), result.stderr)
    }

    func testAResultsDirectoryThatCannotBeWrittenIsAnEnvironmentErrorBeforeAnythingRuns() throws {
        let directory = try temporaryDirectory("ab-run")
        let blocker = directory.appending(path: "file")
        try "x".write(to: blocker, atomically: true, encoding: .utf8)
        let result = try runToCompletion(archbench, ["run", "--no-probes", "--results-dir", blocker.appending(path: "results").path])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("results directory"), result.stderr)
        XCTAssertFalse(result.stdout.contains("Running"), result.stdout)
    }
}
