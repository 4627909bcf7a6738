import Analysis
import Foundation
import Probes
import TestSupport
import XCTest

/// HotSpot's own GC probes (USDT hotspot:gc__begin/gc__end) found in a JVM under the probes, its
/// pauses reported as confirmed, and checked against the JVM's own safepoint log.
final class RuntimeProbeTests: XCTestCase {
    static let churn = """
        public class Churn {
            public static void main(String[] args) {
                long until = System.nanoTime() + Long.parseLong(args[0]) * 1_000_000L;
                java.util.ArrayList<byte[]> keep = new java.util.ArrayList<>();
                while (System.nanoTime() < until) {
                    keep.add(new byte[64 * 1024]);
                    if (keep.size() > 200) keep.clear();
                }
            }
        }
        """

    /// A JVM's safepoints as its own log (-Xlog:safepoint with the timenanos decorator, which is
    /// CLOCK_MONOTONIC on Linux) reports them: the op's name and its at-safepoint window.
    struct Safepoint {
        let operation: String
        let startNs: UInt64
        let endNs: UInt64
    }

    /// Parses lines like `[9734583289397ns] Safepoint "GenCollectForAllocation", Time since last: …,
    /// At safepoint: 7473713 ns, Total: 7512735 ns`; the decoration is the moment the line was logged,
    /// the end of the safepoint.
    static func safepoints(inLog text: String) -> [Safepoint] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]"),
                  let end = UInt64(line[line.index(after: line.startIndex)..<close].dropLast(2)),
                  let name = line.split(separator: "\"").dropFirst().first,
                  let at = line.range(of: "At safepoint: "),
                  let duration = UInt64(line[at.upperBound...].prefix(while: \.isNumber)) else { return nil }
            return Safepoint(operation: String(name), startNs: end - duration, endNs: end)
        }
    }

    /// Runs Churn under the probes with the JVM logging its safepoints; returns the report and the log.
    func probeChurn(_ collector: String, in directory: URL) throws -> (ProbeReport, [Safepoint]) {
        let log = directory.appending(path: "gc-\(collector).log").path
        let report = ProbeAnalysis.report(of: try ProbeRecorder.record(ProbeRequest(command: [
            try Self.jdkTool("java"), "-Xmx64m", "-XX:+Use\(collector)", "-Xlog:safepoint:file=\(log):timenanos",
            "-cp", directory.path, "Churn", "2000",
        ])) { _ in })
        XCTAssertEqual(report.command?.exit?.code, 0)
        return (report, Self.safepoints(inLog: try String(contentsOfFile: log, encoding: .utf8)))
    }

    /// A JDK's `name` (java, javac): on PATH, else in a JDK under /usr/lib/jvm; a skip naming where
    /// it was looked for otherwise.
    static func jdkTool(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let jvms = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/jvm")) ?? []).sorted().map { "/usr/lib/jvm/\($0)/bin" }
        for directory in path + jvms + ["/usr/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw XCTSkip("no JDK: \(name) is neither on PATH nor under /usr/lib/jvm/*/bin")
    }

    func compiledChurn() throws -> URL {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let javac = try Self.jdkTool("javac")
        let directory = try temporaryDirectory("ab-jvm")
        try Self.churn.write(to: directory.appending(path: "Churn.java"), atomically: true, encoding: .utf8)
        let compiled = try runToCompletion(javac, ["-d", directory.path, directory.appending(path: "Churn.java").path])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        return directory
    }

    /// The truth is the JVM's own log. HotSpot fires gc__begin/gc__end inside the safepoint of each
    /// collection VM operation; one operation can collect twice (a young collection that fails over
    /// to a full one: two spans in one safepoint, two "Pause" lines in -Xlog:gc, so safepoints are
    /// the unit to compare). The log line is written after the safepoint ends, late by however long
    /// the VM thread waited for a CPU, so its window is only placed by its end: each confirmed pause
    /// belongs to the first safepoint that ended after it, and must have begun after the one before.
    /// Then: every collection safepoint after the probes attached holds at least one pause, no other
    /// safepoint holds one, and the at-safepoint time agrees with the pauses' summed duration
    /// (the test prints the median excess; docs/accuracy.md has what was measured).
    func testHotSpotGCPausesAgreeWithTheJVMsSafepointLog() throws {
        let directory = try compiledChurn()
        defer { try? FileManager.default.removeItem(at: directory) }
        for collector in ["SerialGC", "G1GC"] {
            let (report, safepoints) = try probeChurn(collector, in: directory)
            XCTAssertEqual(report.runtimeProbes.count, 1, "\(report.runtimeProbes)")
            XCTAssertTrue(report.runtimeProbes.first?.contains("hotspot:gc__begin/gc__end") ?? false, "\(report.runtimeProbes)")
            let confirmed = report.pauses.filter { $0.kind == .confirmed }.sorted { $0.startNs < $1.startNs }
            XCTAssertTrue(confirmed.allSatisfy { $0.pid == report.command?.pid }, "\(collector): pauses of another process")
            XCTAssertEqual(report.pauses.filter { $0.pid == report.command?.pid && $0.kind != .confirmed }.count, 0,
                           "\(collector): with its GC probes attached, the JVM's pauses are the runtime's own")
            let first = try XCTUnwrap(confirmed.first, "\(collector): no confirmed pause; \(report.runtimeProbes)")
            var held: [Int: [DetectedPause]] = [:]
            for pause in confirmed {
                guard let index = safepoints.firstIndex(where: { $0.endNs >= pause.endNs }) else {
                    XCTFail("\(collector): pause at \(pause.startNs) ended after the last safepoint the JVM logged")
                    continue
                }
                if index > 0 {
                    XCTAssertGreaterThanOrEqual(pause.startNs, safepoints[index - 1].endNs,
                                                "\(collector): pause at \(pause.startNs) spans two safepoints")
                }
                held[index, default: []].append(pause)
            }
            let collections = safepoints.indices.filter { index in
                let operation = safepoints[index].operation
                return (operation.contains("Collect") || operation.hasPrefix("G1")) && safepoints[index].endNs > first.startNs
            }
            XCTAssertEqual(Set(held.keys), Set(collections),
                           "\(collector): safepoints holding pauses differ from the collection safepoints after attach")
            let differences = held.map { index, pauses in
                Int64(safepoints[index].endNs - safepoints[index].startNs) - Int64(pauses.reduce(0) { $0 + $1.durationNs })
            }.sorted()
            let median = differences[differences.count / 2]
            XCTAssertGreaterThan(collections.count, 50, "\(collector): a 64 MiB heap churned for 2 s collects hundreds of times")
            XCTAssertLessThanOrEqual(abs(median), 100_000, "\(collector): median at-safepoint minus probe duration \(median) ns")
            let before = safepoints.filter { ($0.operation.contains("Collect") || $0.operation.hasPrefix("G1")) && $0.endNs <= first.startNs }
            print("\(collector): \(confirmed.count) confirmed pauses in \(held.count) safepoints,"
                + " \(collections.count) collection safepoints after attach (\(before.count) before),"
                + " median at-safepoint minus probe duration \(median) ns")
        }
    }
}
