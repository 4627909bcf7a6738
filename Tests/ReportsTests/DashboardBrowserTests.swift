import Foundation
import Recording
import TestSupport
@testable import Reports
import XCTest

/// A small results file built by hand: two architectures, two benchmarks (one a concurrency sweep),
/// windows, a pause and an RSS timeline; every name can be replaced by a hostile one.
enum ReportFixture {
    static func results(architectures: [String] = ["monolithic", "microservices"], benchmark: String = "api_response_times",
                        endpoint: String = "GET /api/users", label: String = "orders", comm: String = "archbench") throws -> SuiteResults {
        let benchmarks = [benchmark, "concurrent_handling"]
        let start: UInt64 = 1_000_000_000_000
        func process(_ pid: Int, growth: UInt64) -> [String: Any] {
            [
                "pid": pid, "ppid": 1, "comm": comm, "label": label, "start_ns": start, "syscalls": [String: Int](),
                "syscall_total": 0, "syscall_latency_ns": [String: Any](), "oncpu_ns": 2_000_000_000,
                "offcpu_ns": 5_000_000_000, "runq_ns": 300_000_000, "stolen_ns": 0, "threads": [Any](), "page_faults": 0,
                "rss_bytes": ["min": 30_000_000, "max": 30_000_000 + 40 * growth, "last": 30_000_000 + 40 * growth],
                "rss_timeline": (0..<40).map { [start + UInt64($0) * 250_000_000, 30_000_000 + UInt64($0) * growth] },
            ]
        }
        func report(_ pid: Int, growth: UInt64) -> [String: Any] {
            [
                "clock": "CLOCK_MONOTONIC", "start_ns": start, "end_ns": start + 10_000_000_000, "end_reason": "stopped",
                "processes": [process(pid, growth: growth)], "lost_events": [String: Int](),
                "pauses": [["pid": pid, "start_ns": start + 2_000_000_000, "duration_ns": 40_000_000, "kind": "stop_the_world",
                            "stopped_threads": [pid]]],
                "offcpu_intervals": 0, "offcpu_spans": [Any](), "offcpu_spans_dropped": 0, "runtime_probes": [String](), "min_offcpu_interval_ns": 0, "families": [String](),
            ]
        }
        func result(_ scale: Double, sweep: Bool) -> [String: Any] {
            var metadata: [String: Any] = ["endpoint.\(endpoint).p95_ms": 2.0 * scale]
            if sweep {
                for connections in [1, 2, 4, 8] {
                    metadata["step.\(connections).requests_per_s"] = Double(connections) * 1000 / scale
                    metadata["step.\(connections).p99_ms"] = Double(connections) * scale
                }
                metadata["knee_connections"] = 4
            }
            return ["throughput": 1000 / scale, "success_rate": 1.0, "metadata": metadata, "loads": [Any](),
                    "latency_stats": ["mean": scale, "p50": scale, "p95": 2 * scale, "p99": 3 * scale, "max": 9 * scale]]
        }
        func byArchitecture(_ make: (Int) -> Any) -> [String: Any] {
            Dictionary(uniqueKeysWithValues: architectures.enumerated().map { ($0.element, make($0.offset)) })
        }
        let histogram: [String: Any] = ["bits": 8, "sum_ns": 1000 * 2_000_000, "max_ns": 40_000_000,
                                        "buckets": [[1900, 900], [2300, 90], [2500, 10]]]
        let document: [String: Any] = [
            "tool": "archbench", "timestamp": "2026-01-01T00:00:00Z", "clock": "CLOCK_MONOTONIC", "workload": "default",
            "duration_s": 10, "architectures": architectures, "baseline": architectures[0], "candidate": architectures[1],
            "probes": "on", "notes": [String: String](),
            "results": byArchitecture { index in Dictionary(uniqueKeysWithValues: benchmarks.map { ($0, result(Double(index + 1), sweep: $0 == "concurrent_handling")) }) },
            "latency_histograms": byArchitecture { _ in [benchmark: histogram] },
            "rounds": [Any](),
            "kernel": byArchitecture { index in Dictionary(uniqueKeysWithValues: benchmarks.map { ($0, report(100 + index, growth: UInt64(index) * 200_000)) }) },
            "validation": [
                "checks": [["requirement": "latency_acceptability", "benchmark": benchmark, "metric": "latency_p95_ms",
                            "endpoint": endpoint, "threshold": "latency_p95_ms", "baseline": 2.0, "candidate": 4.0,
                            "change_pct": 100.0, "warning_pct": 10.0, "critical_pct": 25.0, "verdict": "critical",
                            "ci95_pct": [80.0, 120.0], "significance": "worse"]],
                "requirements": [Any](), "rating": "POOR", "rating_reason": "1 critical check", "quality_score": 0,
            ],
            "analysis": [
                "deltas": [Any](), "correlations": [String: Any](), "leaks": [String: Any](), "gc": [String: Any](), "notes": [String](),
                "root_causes": byArchitecture { index in
                    [benchmark: [["cause": "pause", "process": label, "pid": 100 + index, "share_of_slow_requests": 0.7,
                                  "median_overlap_ms": 30.0, "chance_share": 0.1, "p_value": 0.001, "slow_requests": 10]]]
                },
            ],
            "failures": [String](), "thresholds": [String: Any](), "exit_code": 1, "exit_reason": "a critical check",
            "recommendations": ["look at \(label)"], "execution_time_s": 12.0,
        ]
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var results = try decoder.decode(SuiteResults.self, from: try JSONSerialization.data(withJSONObject: document))
        for (index, architecture) in architectures.enumerated() {
            let windows = (0..<50).map { window in
                LoadWindow(startNs: start + UInt64(window) * 100_000_000, responses: UInt64(100 - index * 40 + window % 7),
                           errors: 0, p50Us: 900, p90Us: 1500, p99Us: Double(2000 + 500 * index + 37 * (window % 5)),
                           maxUs: 9000, log2Counts: [])
            }
            let load = LoadResult(
                url: "http://127.0.0.1/", threads: 1, connections: 4, mode: "closed", requests: 5000, sent: 5000, durationS: 5,
                requestsPerS: 1000, latencyUs: LatencySummary(p50: 900, p90: 1500, p99: 2000, p999: 4000, max: 9000, mean: 1000),
                errors: ErrorCounts(), statusCounts: [:], achievedRate: 1000, lateSends: 0, droppedSends: 0, bytesRead: 0,
                bytesWritten: 0, connects: 4, pingsAnswered: 0, serverCloses: 0, startNs: start, endNs: start + 5_000_000_000,
                endpoints: [], windows: windows, slowRequests: [], slowRequestsDropped: 0, windowsDropped: 0, stoppedEarly: false)
            let outcome = try XCTUnwrap(results.results[architecture]?[benchmark])
            var withLoad = outcome
            withLoad.loads = [load]
            results.rounds.append(BenchmarkRound(benchmark: benchmark, architecture: architecture, round: 1, startNs: start,
                                                 endNs: start + 5_000_000_000, result: withLoad, latencyHistogramLog2Us: []))
        }
        return results
    }

    static let sections = [RenderedSection(title: "Custom", header: ["name", "value"], rows: [["a", "1"]])]

    /// Writes both reports into `directory` and returns their paths.
    static func write(_ results: SuiteResults, sections: [RenderedSection] = sections, into directory: URL) throws -> [URL] {
        let dashboard = directory.appendingPathComponent("dashboard.html")
        let memory = directory.appendingPathComponent("memory_analysis.html")
        try Dashboard.html(results, sections: sections).write(to: dashboard, atomically: true, encoding: .utf8)
        try MemoryAnalysisReport.html(results).write(to: memory, atomically: true, encoding: .utf8)
        return [dashboard, memory]
    }

    /// Runs scripts/browser-check.py over `files`; skips when there is no browser to run.
    static func browserCheck(_ files: [URL]) throws -> (status: Int32, output: String) {
        let which = Process()
        which.executableURL = URL(fileURLWithPath: "/bin/sh")
        which.arguments = ["-c", "command -v chromium && command -v convert && command -v python3"]
        which.standardOutput = FileHandle.nullDevice
        try which.run()
        which.waitUntilExit()
        guard which.terminationStatus == 0 else {
            throw XCTSkip("chromium, ImageMagick's convert or python3 is not installed: the browser check cannot run")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/browser-check.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + files.map(\.path)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}

final class DashboardBrowserTests: XCTestCase {
    func testBothReportsOpenInABrowserWithoutErrorsOrRequestsAndDrawEveryChart() throws {
        let files = try ReportFixture.write(try ReportFixture.results(), into: try temporaryDirectory("ab-dashboard"))
        let dashboard = try String(contentsOf: files[0], encoding: .utf8)
        let memory = try String(contentsOf: files[1], encoding: .utf8)
        // The charts the fixture calls for: spectrum, throughput, P99 over time, CPU and RSS bars for
        // the first benchmark; the sweep (with its spectrum from the summary), pauses and bars for both.
        XCTAssertEqual(dashboard.components(separatedBy: "<canvas").count - 1, 11)
        XCTAssertEqual(memory.components(separatedBy: "<canvas").count - 1, 3)
        XCTAssertTrue(memory.contains("trend"), "the growing process has a fitted trend")
        let check = try ReportFixture.browserCheck(files)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertEqual(check.output.components(separatedBy: "ok ").count - 1, 2, check.output)
    }

    func testTheBrowserCheckFailsAPageThatThrowsOrFetches() throws {
        let directory = try temporaryDirectory("ab-dashboard")
        let page = directory.appendingPathComponent("broken.html")
        try "<html><body><img src=\"http://127.0.0.1:9/x.png\"><script>undefinedFunction()</script></body></html>"
            .write(to: page, atomically: true, encoding: .utf8)
        let check = try ReportFixture.browserCheck([page])
        XCTAssertNotEqual(check.status, 0)
        XCTAssertTrue(check.output.contains("broken.html: console:"), check.output)
        XCTAssertTrue(check.output.contains("network request: http://127.0.0.1:9/x.png"), check.output)
    }

    func testThePercentileSpectrumFollowsTheLoadGeneratorsBuckets() {
        // bits 8: index 300 → (128 + 300 % 128) << (300 / 128 − 1) = 172 << 1 = 344 … 345.
        let histogram = LatencyHistogramRecord(bits: 8, sumNs: 0, maxNs: 1_000_000, buckets: [[10, 50], [300, 50]])
        let spectrum = Dashboard.percentileSpectrum(histogram)
        XCTAssertEqual(spectrum.count, 21, "P0 to P99 (1/(1−p) up to 100 requests)")
        XCTAssertEqual(spectrum.first?.1, 10 / 1e6, "the lowest bucket's highest value, in ms")
        XCTAssertEqual(spectrum.last?.1, 345 / 1e6, "P99 in the bucket of index 300")
    }
}
