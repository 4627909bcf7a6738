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
