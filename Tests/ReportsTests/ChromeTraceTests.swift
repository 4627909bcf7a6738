@testable import Analysis
import ArchbenchCore
import Foundation
import Recording
@testable import Reports
import XCTest

/// The Perfetto trace of a run, and the off-CPU spans the results file keeps for it.
final class ChromeTraceTests: XCTestCase {
    static let hostileName = "evil \"name\" </script>\nline2"
    static let hostilePath = "/api/\"x\"</script>\n?a=1"

    // A pause under a slow request, on a thread blocked in futex; times are deliberately not whole µs.
    static let spanStart: UInt64 = 1_000_000_123_456
    static let pauseStart: UInt64 = 1_000_000_200_001
    static let requestSent: UInt64 = 1_000_000_199_999
    static let rssAt: UInt64 = 1_000_000_000_500

    func report(pid: Int32, label: String, spans: [OffCPUInterval] = [], pauses: [DetectedPause] = []) -> ProbeReport {
        let process = ProcessRecord(
            pid: pid, ppid: 1, comm: "server", label: label, startNs: 1, syscalls: [:], syscallTotal: 0, syscallLatencyNs: [:],
            oncpuNs: 0, offcpuNs: 0, runqNs: 0, stolenNs: 0,
            threads: [ThreadRecord(tid: pid, oncpuNs: 0, offcpuNs: 0, runqNs: 0, stolenNs: 0, switches: 0),
                      ThreadRecord(tid: pid + 1, oncpuNs: 0, offcpuNs: 0, runqNs: 0, stolenNs: 0, switches: 0)],
            pageFaults: 0, rssTimeline: [[Self.rssAt, 123_456_789]], tcpEvents: [[1_000_000_300_000, 0]],
            slowSyscalls: [[1_000_000_100_000, 2_000_000, 0], [1_000_000_100_500, 3_000_000, 1]])
        return ProbeReport(clock: "CLOCK_MONOTONIC", startNs: 1, endNs: 2_000_000_000_000, endReason: "duration",
                           processes: [process], command: nil, lostEvents: [:], pauses: pauses, offcpuIntervals: spans.count,
                           offcpuSpans: spans, runtimeProbes: [], minOffcpuIntervalNs: 1_000_000, families: ["sched"])
    }

    func load(_ requests: [SlowRequest]) -> LoadResult {
        let latency = LatencySummary(p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1)
        return LoadResult(
            url: "http://127.0.0.1:1", threads: 1, connections: 2, mode: "closed", requests: 2, sent: 2, durationS: 1,
            requestsPerS: 2, latencyUs: latency, errors: ErrorCounts(), statusCounts: [:], achievedRate: 2, lateSends: 0,
            droppedSends: 0, bytesRead: 0, bytesWritten: 0, connects: 2, pingsAnswered: 0, serverCloses: 0,
            startNs: 1, endNs: 2,
            endpoints: [EndpointResult(method: "GET", path: Self.hostilePath, weight: 1, sent: 2, requests: 2, requestsPerS: 2,
                                       latencyUs: latency, errors: ErrorCounts(), statusCounts: [:])],
            windows: [], slowRequests: requests, slowRequestsDropped: 0, windowsDropped: 0, stoppedEarly: false)
    }

    func sample() -> SuiteResults {
        let spans = [
            OffCPUInterval(tid: 101, tgid: 100, startNs: Self.spanStart, endNs: Self.spanStart + 40_000_000, runqNs: 1_500_000,
                           syscall: 202),
            OffCPUInterval(tid: 100, tgid: 100, startNs: Self.spanStart + 7, endNs: Self.spanStart + 2_000_007, syscall: nil,
                           preempted: true),
        ]
        let pause = DetectedPause(pid: 100, startNs: Self.pauseStart, durationNs: 40_000_000, stoppedThreads: [100, 101])
        let requests = [
            SlowRequest(intendedNs: Self.requestSent - 9_999, sentNs: Self.requestSent, endNs: Self.requestSent + 45_000_000,
                        connection: 3, endpoint: 0, status: 200),
            // Overlaps the first: it must go on another lane.
            SlowRequest(intendedNs: Self.requestSent + 1_000, sentNs: Self.requestSent + 1_000, endNs: Self.requestSent + 50_000_000,
                        connection: 4, endpoint: 0, status: 503),
        ]
        let result = BenchmarkResult(throughput: 1, latencyStats: BenchmarkLatency(mean: 1, p50: 1, p95: 1, p99: 1, max: 1),
                                     successRate: 1, metadata: [:], loads: [load(requests)])
        return SuiteResults(
            timestamp: "2026-11-30T10:00:00Z", workload: "default", durationS: 1, architectures: ["monolithic", "microservices"],
            baseline: "monolithic", candidate: "microservices", probes: "on", notes: [:], results: [:], latencyHistograms: [:],
            rounds: [BenchmarkRound(benchmark: "api_response_times", architecture: "microservices", round: 1,
                                    startNs: 1_000_000_000_000, endNs: 1_001_000_000_000, result: result, latencyHistogramLog2Us: []),
                     BenchmarkRound(benchmark: "api_response_times", architecture: "monolithic", round: 1,
                                    startNs: 1_001_000_000_000, endNs: 1_002_000_000_000, error: "it died", latencyHistogramLog2Us: [])],
            // The same pid under both architectures: their tracks must not merge.
            kernel: ["microservices": ["api_response_times": report(pid: 100, label: Self.hostileName, spans: spans, pauses: [pause])],
                     "monolithic": ["api_response_times": report(pid: 100, label: "monolith")]],
            validation: Validation.judge([]), analysis: SuiteAnalysis(), failures: [], thresholds: [:], exitCode: 0,
            exitReason: "passed", recommendations: [], executionTimeS: 1)
    }

    func events(_ results: SuiteResults) throws -> (document: [String: Any], events: [[String: Any]]) {
        let data = try ChromeTrace.json(results)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (document, try XCTUnwrap(document["traceEvents"] as? [[String: Any]]))
    }

    func number(_ event: [String: Any], _ key: String) -> Double? { (event[key] as? NSNumber)?.doubleValue }

    func testEveryEventIsWellFormedAndEveryTrackIsNamed() throws {
        let (document, events) = try events(sample())
        XCTAssertEqual(document["displayTimeUnit"] as? String, "ms")
        var processes: [Int: String] = [:]
        var threads: Set<[Int]> = []
        for event in events {
            XCTAssertNotNil(event["ph"] as? String, "\(event)")
            XCTAssertNotNil(number(event, "ts"), "\(event)")
            XCTAssertNotNil(event["pid"] as? Int, "\(event)")
            XCTAssertNotNil(event["tid"] as? Int, "\(event)")
            if event["ph"] as? String == "X" { XCTAssertGreaterThanOrEqual(try XCTUnwrap(number(event, "dur")), 0, "\(event)") }
            guard event["ph"] as? String == "M", let pid = event["pid"] as? Int, let tid = event["tid"] as? Int else { continue }
            let name = (event["args"] as? [String: Any])?["name"] as? String
            if event["name"] as? String == "process_name" { processes[pid] = name }
            if event["name"] as? String == "thread_name" { threads.insert([pid, tid]) }
        }
        let drawn = events.filter { $0["ph"] as? String != "M" }
        XCTAssertFalse(drawn.isEmpty)
        for event in drawn {
            let pid = try XCTUnwrap(event["pid"] as? Int), tid = try XCTUnwrap(event["tid"] as? Int)
            XCTAssertNotNil(processes[pid], "no process_name for \(event)")
            XCTAssertTrue(threads.contains([pid, tid]), "no thread_name for \(event)")
        }
        let names = Set(processes.values)
        XCTAssertTrue(names.contains("monolithic: monolith (pid 100)"), "\(names)")
        XCTAssertTrue(names.contains("microservices: \(Self.hostileName) (pid 100)"), "\(names)")
        XCTAssertTrue(names.contains("microservices: client slow requests"), "\(names)")
        XCTAssertTrue(names.contains("monolithic: benchmark rounds"), "\(names)")
        XCTAssertEqual(Set(processes.keys).count, processes.count)
        XCTAssertEqual(names.count, processes.count, "one track per architecture and process")
    }

    func testKnownSpansPauseCounterAndRequestAreAtTheirExactMicroseconds() throws {
        let (_, events) = try events(sample())
        func only(_ name: String, _ phase: String = "X") throws -> [String: Any] {
            let found = events.filter { $0["name"] as? String == name && $0["ph"] as? String == phase }
            XCTAssertEqual(found.count, 1, "\(name): \(found)")
            return try XCTUnwrap(found.first)
        }
        let blocked = try only("off-CPU: futex")
        XCTAssertEqual(number(blocked, "ts"), 1_000_000_123.456)
        XCTAssertEqual(number(blocked, "dur"), 40_000)
        XCTAssertEqual((blocked["args"] as? [String: Any]).flatMap { ($0["runq_ms"] as? NSNumber)?.doubleValue }, 1.5)
        XCTAssertEqual(number(try only("preempted"), "ts"), 1_000_000_123.463)

        let pause = try only("stop-the-world")
        XCTAssertEqual(number(pause, "ts"), 1_000_000_200.001)
        XCTAssertEqual(number(pause, "dur"), 40_000)
        let pauseArgs = try XCTUnwrap(pause["args"] as? [String: Any])
        XCTAssertEqual(pauseArgs["kind"] as? String, "stop_the_world")
        XCTAssertEqual(pauseArgs["stopped_threads"] as? [Int], [100, 101])
        // The pause is its process's, on a thread of its own, not the blocked thread's.
        XCTAssertEqual(pause["pid"] as? Int, blocked["pid"] as? Int)
        XCTAssertNotEqual(pause["tid"] as? Int, blocked["tid"] as? Int)

        let rss = events.filter { $0["name"] as? String == "RSS" && $0["ph"] as? String == "C" }
        let rssForPid = Dictionary(grouping: rss, by: { $0["pid"] as? Int ?? -1 })
        XCTAssertEqual(rssForPid.count, 2, "one counter per architecture's process")
        XCTAssertEqual(rss.map { number($0, "ts") }, [1_000_000_000.5, 1_000_000_000.5])
        XCTAssertEqual(rss.map { (($0["args"] as? [String: Any])?["bytes"] as? NSNumber)?.int64Value }, [123_456_789, 123_456_789])

        let requests = events.filter { $0["cat"] as? String == "request" }
        XCTAssertEqual(requests.count, 2)
        let first = try XCTUnwrap(requests.first { (($0["args"] as? [String: Any])?["status"] as? Int) == 200 })
        XCTAssertEqual(first["name"] as? String, "GET \(Self.hostilePath)")
        XCTAssertEqual(number(first, "ts"), 1_000_000_199.999)
        XCTAssertEqual(number(first, "dur"), 45_000)
        XCTAssertEqual(((first["args"] as? [String: Any])?["intended_ts_us"] as? NSNumber)?.doubleValue, 1_000_000_190)
        XCTAssertNotEqual(requests[0]["tid"] as? Int, requests[1]["tid"] as? Int, "overlapping requests share a lane")
        // Not rebased: the request starts before the pause under it, on the same clock.
        XCTAssertLessThan(try XCTUnwrap(number(first, "ts")), try XCTUnwrap(number(pause, "ts")))

        XCTAssertEqual(events.filter { $0["ph"] as? String == "i" }.map { $0["name"] as? String }, ["tcp: retransmit", "tcp: retransmit"])
        let syscalls = events.filter { $0["cat"] as? String == "syscall" && $0["pid"] as? Int == blocked["pid"] as? Int }
        XCTAssertEqual(Set(syscalls.map { $0["name"] as? String }), ["syscall: read", "syscall: write"])
        XCTAssertNotEqual(syscalls[0]["tid"] as? Int, syscalls[1]["tid"] as? Int, "overlapping syscalls share a lane")

        let rounds = events.filter { $0["cat"] as? String == "round" }
        XCTAssertEqual(rounds.compactMap { $0["name"] as? String }.sorted(), ["api_response_times #1", "api_response_times #1"])
        XCTAssertEqual(Set(rounds.compactMap { $0["pid"] as? Int }).count, 2, "a rounds track per architecture")
    }

    func testHostileStringsStayData() throws {
        let data = try ChromeTrace.json(sample())
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertFalse(text.contains("</script>"), "a trace pasted into HTML must not close its script")
        XCTAssertFalse(text.contains("\n"))
        let (_, events) = try events(sample())
        let strings = events.flatMap { event in
            [event["name"] as? String, (event["args"] as? [String: Any])?["name"] as? String].compactMap { $0 }
        }
        XCTAssertTrue(strings.contains("microservices: \(Self.hostileName) (pid 100)"))
        XCTAssertTrue(strings.contains("GET \(Self.hostilePath)"))
    }

    func testTheTraceIsTheSameForTheSameResults() throws {
        XCTAssertEqual(try ChromeTrace.json(sample()), try ChromeTrace.json(sample()))
    }

    func testAThreadsSpansBeyondTheCapKeepTheLongest() throws {
        var results = sample()
        let many = (0..<(ChromeTrace.eventsPerTrack + 3)).map { index in
            OffCPUInterval(tid: 101, tgid: 100, startNs: 2_000_000_000_000 + UInt64(index) * 10_000_000,
                           endNs: 2_000_000_000_000 + UInt64(index) * 10_000_000 + 1_000_000 + UInt64(index), syscall: 0)
        }
        results.kernel["microservices"]?["api_response_times"]?.offcpuSpans = many
        let (document, events) = try events(results)
        let drawn = events.filter { $0["name"] as? String == "off-CPU: read" }
        XCTAssertEqual(drawn.count, ChromeTrace.eventsPerTrack)
        // The three shortest are the first three.
        XCTAssertEqual(drawn.compactMap { number($0, "ts") }.min(), ChromeTrace.us(many[3].startNs))
        XCTAssertEqual((document["otherData"] as? [String: String])?["offcpu_spans_not_drawn"], "3")
    }

    // MARK: the spans in the results file

    func recording(_ intervals: [OffCPUInterval]) -> ProbeRecording {
        ProbeRecording(startNs: 0, endNs: 10_000_000_000, endReason: "duration", processes: [], command: nil, lostEvents: [:],
                       offcpuIntervals: intervals, minOffcpuIntervalNs: 1_000_000, runtimePauses: [], runtimeProbedPids: [],
                       runtimeProbes: [], families: ["sched"])
    }

    func testTheReportKeepsEverySpanByStart() {
        let intervals = [OffCPUInterval(tid: 2, tgid: 1, startNs: 500, endNs: 2_000_500, syscall: 7),
                         OffCPUInterval(tid: 1, tgid: 1, startNs: 100, endNs: 1_000_100, syscall: nil, preempted: true)]
        let report = ProbeAnalysis.report(of: recording(intervals))
        XCTAssertEqual(report.offcpuSpans, [intervals[1], intervals[0]])
        XCTAssertEqual(report.offcpuIntervals, 2)
        XCTAssertEqual(report.offcpuSpansDropped, 0)
    }

    func testBeyondTheCapTheLongestSpansAreKeptByStart() {
        let intervals = [10, 40, 20, 30].enumerated().map { index, ms in
            OffCPUInterval(tid: 1, tgid: 1, startNs: UInt64(index) * 100_000_000, endNs: UInt64(index) * 100_000_000 + UInt64(ms) * 1_000_000,
                           syscall: 0)
        }
        XCTAssertEqual(ProbeAnalysis.longestSpans(intervals, keeping: 2).map { $0.durationNs / 1_000_000 }, [40, 30])
        XCTAssertEqual(ProbeAnalysis.longestSpans(intervals, keeping: 3).map { $0.durationNs / 1_000_000 }, [40, 20, 30])
        let many = (0..<(ProbeAnalysis.offcpuSpansKept + 5)).map {
            OffCPUInterval(tid: 1, tgid: 1, startNs: UInt64($0) * 10_000_000, endNs: UInt64($0) * 10_000_000 + 1_000_000, syscall: 0)
        }
        let report = ProbeAnalysis.report(of: recording(many))
        XCTAssertEqual(report.offcpuSpans.count, ProbeAnalysis.offcpuSpansKept)
        XCTAssertEqual(report.offcpuSpansDropped, 5)
        XCTAssertEqual(report.offcpuIntervals, many.count)
    }

    func testTheSpansSurviveTheResultsFile() throws {
        let report = report(pid: 100, label: "x", spans: [OffCPUInterval(tid: 101, tgid: 100, startNs: 5, endNs: 9, runqNs: 2, syscall: 202)])
        let data = try JSONCoding.encoder().encode(report)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual((object["offcpu_spans"] as? [[String: Any]])?.first?["start_ns"] as? Int, 5)
        XCTAssertEqual(object["offcpu_spans_dropped"] as? Int, 0)
        XCTAssertEqual(try JSONCoding.decoder().decode(ProbeReport.self, from: data).offcpuSpans, report.offcpuSpans)
    }
}
