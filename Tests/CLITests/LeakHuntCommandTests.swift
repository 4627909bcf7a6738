import Foundation
import TestSupport
import XCTest

/// `archbench leak-hunt` end to end, against the reference monolith with and without its leak.
final class LeakHuntCommandTests: XCTestCase {
    let archbench = BuiltProducts.archbench

    /// The monolith on a free port; its pid and port.
    func monolith(_ extra: [String] = []) throws -> (RunningProcess, Int) {
        let server = try RunningProcess(archbench, ["serve", "monolith", "--port", "0"] + extra)
        guard server.waitForStderr(containing: "monolith listening on", timeout: 60) else {
            kill(server.pid, SIGKILL)
            throw XCTSkip("the monolith did not start: \(server.stderrSoFar)")
        }
        let line = server.stderrSoFar.components(separatedBy: "\n").first { $0.contains("listening on 127.0.0.1:") } ?? ""
        let port = line.components(separatedBy: "listening on 127.0.0.1:").last.flatMap { Int($0.prefix { $0.isNumber }) }
        return (server, try XCTUnwrap(port, line))
    }

    func hunt(port: Int, seconds: Double, interruptAfter: Double? = nil) throws -> (ProcessResult, [String: Any]) {
        let run = try RunningProcess(archbench, ["leak-hunt", "--port", "\(port)", "--url", "http://127.0.0.1:\(port)/api/users/1",
                                                 "--rate", "200", "--duration", "\(seconds)", "--json"])
        if let interruptAfter {
            Thread.sleep(forTimeInterval: interruptAfter)
            kill(run.pid, SIGINT)
        }
        let result = run.finish(timeout: seconds + 30)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                 "exit \(result.status): \(result.stdout) \(result.stderr)")
        return (result, json)
    }

    /// 8 KiB per request at 200 requests/s is 1.6 MB/s: flagged, the slope within 25%, exit 1. The
    /// hunt is asked for a minute and stopped by SIGINT after 12 s: it keeps what it had.
    func testALeakingServerIsFlaggedWithItsRateAndCtrlCKeepsWhatWasRecorded() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let (server, port) = try monolith(["--leak-bytes-per-request", "8192"])
        defer { kill(server.pid, SIGTERM); _ = server.finish(timeout: 10) }
        let (result, json) = try hunt(port: port, seconds: 60, interruptAfter: 12)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(json["leak_suspected"] as? Bool, true)
        XCTAssertEqual(json["end_reason"] as? String, "signal", "\(json)")
        let processes = try XCTUnwrap(json["processes"] as? [[String: Any]])
        let process = try XCTUnwrap(processes.first { $0["pid"] as? Int == Int(server.pid) }, "\(processes)")
        XCTAssertEqual(process["leak_suspected"] as? Bool, true, "\(process)")
        let load = try XCTUnwrap(json["load"] as? [String: Any])
        let rate = try XCTUnwrap(load["requests_per_s"] as? Double)
        let expected = 8192 * rate
        let growth = try XCTUnwrap(process["growth_bytes_per_s"] as? Double)
        print("leak-hunt: \(growth) bytes/s measured, \(expected) set (8192 bytes × \(rate) requests/s)")
        XCTAssertEqual(growth, expected, accuracy: 0.25 * expected)
        let interval = try XCTUnwrap(process["ci95_bytes_per_s"] as? [Double])
        XCTAssertTrue(interval[0] > 0 && interval[0] <= growth && growth <= interval[1], "\(interval)")
        XCTAssertGreaterThanOrEqual(process["samples"] as? Int ?? 0, 8)
        XCTAssertTrue((process["method"] as? String ?? "").contains("theil-sen"), "\(process)")
        XCTAssertTrue(result.stderr.contains("driving 200 requests/s"), result.stderr)
    }

    func testTheSameServerWithoutTheLeakIsNotFlagged() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let (server, port) = try monolith()
        defer { kill(server.pid, SIGTERM); _ = server.finish(timeout: 10) }
        let (result, json) = try hunt(port: port, seconds: 12)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(json["leak_suspected"] as? Bool, false, "\(json)")
        XCTAssertEqual(json["end_reason"] as? String, "duration")
        let processes = try XCTUnwrap(json["processes"] as? [[String: Any]])
        XCTAssertTrue(processes.contains { $0["pid"] as? Int == Int(server.pid) }, "\(processes)")
        XCTAssertTrue(processes.allSatisfy { $0["leak_suspected"] as? Bool == false }, "\(processes)")
    }

    func testBadArgumentsExitTwoNamingTheProblem() throws {
        for (arguments, named) in [
            (["leak-hunt"], "--pid/--port/--cgroup"),
            (["leak-hunt", "--port", "80", "--url", "http://127.0.0.1:80/"], "--url and --rate"),
            (["leak-hunt", "--port", "80", "--url", "ftp://x", "--rate", "10"], "--url ftp://x"),
            (["leak-hunt", "--port", "80", "--duration", "0"], "--duration 0"),
            (["leak-hunt", "--port", "80", "--url", "http://127.0.0.1:80/", "--rate=-5"], "--rate -5"),
        ] {
            let result = try runToCompletion(archbench, arguments, timeout: 30)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(named), "\(arguments): \(result.stderr)")
        }
    }
}
