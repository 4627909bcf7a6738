import Foundation
import TestSupport
import XCTest

/// `archbench load` as a user meets it.
final class LoadCommandTests: XCTestCase {
    let archbench = BuiltProducts.archbench

    func testMalformedURLIsAUsageError() throws {
        for url in ["not a url", "https://127.0.0.1/", "http:///nohost"] {
            let result = try runToCompletion(archbench, ["load", url, "-d", "1"])
            XCTAssertEqual(result.status, 2, "\(url): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("malformed URL"), result.stderr)
        }
        let flags = try runToCompletion(archbench, ["load", "http://127.0.0.1:1/", "-t", "4", "-c", "2"])
        XCTAssertEqual(flags.status, 2)
        XCTAssertTrue(flags.stderr.contains("-c/--connections (2) must be at least -t/--threads (4)"), flags.stderr)
    }

    /// Every load flag that can be wrong is refused before anything is sent, naming the flag.
    func testEachBadFlagIsAUsageErrorNamingIt() throws {
        let cases: [([String], String)] = [
            (["--timeout", "0"], "--timeout must be a positive number of seconds"),
            (["--pipeline", "0"], "--pipeline must be between 1 and 1024"),
            (["--pipeline", "1025"], "--pipeline must be between 1 and 1024"),
            (["-H", "no colon"], #"-H/--header "no colon" is not "Name: value""#),
            (["--endpoint", "x"], #"bad --endpoint "x": expected WEIGHT METHOD PATH [BODY]"#),
            (["--endpoint", "1 GET"], #"bad --endpoint "1 GET": expected WEIGHT METHOD PATH [BODY]"#),
            (["--requests", "0"], "--requests must be positive"),
            (["--rate=-5"], "--rate must be a positive number"),
            (["--message-bytes", "0"], "--message-bytes must be between 1 and 16 MiB"),
            (["-X"], "Missing value for '-X <method>'"),
        ]
        for (arguments, message) in cases {
            let result = try runToCompletion(archbench, ["load", "http://127.0.0.1:9/", "-d", "1"] + arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    /// .invalid never resolves (RFC 6761): an environment error naming the host, before any load.
    func testAnUnresolvableHostIsAnEnvironmentErrorNamingIt() throws {
        let result = try runToCompletion(archbench, ["load", "http://archbench-test.invalid/", "-d", "1"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot resolve host archbench-test.invalid"), result.stderr)
    }

    /// Ctrl-C ends the load early and still prints what it measured, with the duration it ran.
    func testSIGINTEndsTheLoadAndStillReports() throws {
        let server = try TestServer()
        defer { _ = server.stop() }
        let load = try RunningProcess(archbench, ["load", server.url + "/", "-d", "30", "--json"])
        Thread.sleep(forTimeInterval: 1)
        kill(load.pid, SIGINT)
        let result = load.finish(timeout: 10)
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertGreaterThan(json["requests"] as? Int ?? 0, 0)
        XCTAssertLessThan(json["duration_s"] as? Double ?? 99, 10, "the load stopped at the signal, not at -d 30")
    }

    func testRefusedTargetIsAnEnvironmentErrorWithinFiveSeconds() throws {
        let server = try TestServer()
        let port = server.port
        _ = server.stop()
        let started = Date()
        let result = try runToCompletion(archbench, ["load", "http://127.0.0.1:\(port)/", "-d", "2"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot connect to 127.0.0.1:\(port): Connection refused"), result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testWrkStyleFlagsAndTheDesignJSON() throws {
        let server = try TestServer()
        let result = try runToCompletion(archbench, ["load", server.url + "/", "-t1", "-c2", "-d5s", "--requests", "300", "--json"])
        let counts = server.stop()
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for key in ["requests", "duration_s", "requests_per_s", "latency_us", "errors", "status_counts"] {
            XCTAssertNotNil(json[key], "missing \(key)")
        }
        XCTAssertTrue(json["target_rate"] is NSNull, "closed loop: target_rate is null, not missing")
        XCTAssertTrue(json["uncorrected_latency_us"] is NSNull)
        XCTAssertEqual(json["requests"] as? Int, 300)
        XCTAssertEqual(counts["requests"], 300)
        let latency = try XCTUnwrap(json["latency_us"] as? [String: Double])
        XCTAssertEqual(Set(latency.keys).isSuperset(of: ["p50", "p90", "p99", "p999", "max"]), true)
        let errors = try XCTUnwrap(json["errors"] as? [String: Int])
        XCTAssertEqual(Set(errors.keys), ["connect", "read", "write", "timeout", "status", "parse"])
        XCTAssertEqual(json["status_counts"] as? [String: Int], ["200": 300])
    }

    func testOpenLoopJSONCarriesBothLatencies() throws {
        let server = try TestServer()
        defer { _ = server.stop() }
        let result = try runToCompletion(archbench, ["load", server.url + "/", "-t", "1", "-c", "2", "-d", "1", "--rate", "500", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["target_rate"] as? Double, 500)
        XCTAssertNotNil(json["uncorrected_latency_us"] as? [String: Double])
        let sent = try XCTUnwrap(json["sent"] as? Int), dropped = try XCTUnwrap(json["dropped_sends"] as? Int)
        XCTAssertEqual(sent + dropped, 500, "one second of a 500/s schedule")
    }

    func testSummaryReadsLikeWrk() throws {
        let server = try TestServer()
        defer { _ = server.stop() }
        let result = try runToCompletion(archbench, ["load", server.url + "/chunked", "-t", "1", "-c", "1", "--requests", "10"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("10 completed (10 sent)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("status      200: 10"), result.stdout)
    }
}
