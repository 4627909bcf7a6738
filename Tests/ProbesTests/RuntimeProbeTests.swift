import Analysis
import Foundation
import Probes
import TestSupport
import XCTest

/// HotSpot's own GC probes (USDT hotspot:gc__begin/gc__end) found in a JVM under the probes and its
/// pauses reported as confirmed.
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

    func testHotSpotGCPausesAreConfirmed() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let tools = ["/usr/bin/java", "/usr/bin/javac"]
        guard tools.allSatisfy({ FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no JDK (java and javac) on this machine")
        }
        let directory = FileManager.default.temporaryDirectory.appending(path: "ab-jvm-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.churn.write(to: directory.appending(path: "Churn.java"), atomically: true, encoding: .utf8)
        let compiled = try runToCompletion("/usr/bin/javac", ["-d", directory.path, directory.appending(path: "Churn.java").path])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        let report = try ProbeRunner.run(ProbeRequest(command: [
            "/usr/bin/java", "-Xmx64m", "-XX:+UseSerialGC", "-cp", directory.path, "Churn", "2000",
        ])) { _ in }
        XCTAssertEqual(report.command?.exit?.code, 0)
        XCTAssertEqual(report.runtimeProbes.count, 1, "\(report.runtimeProbes)")
        XCTAssertTrue(report.runtimeProbes.first?.contains("hotspot:gc__begin/gc__end") ?? false, "\(report.runtimeProbes)")
        let confirmed = report.pauses.filter { $0.kind == .confirmed }
        XCTAssertGreaterThan(confirmed.count, 50, "a 64 MiB heap churned for 2 s collects hundreds of times")
        for pause in confirmed {
            XCTAssertEqual(pause.pid, report.command?.pid)
            XCTAssertGreaterThan(pause.durationNs, 0)
            XCTAssertLessThan(pause.durationNs, 1_000_000_000)
        }
    }
}
