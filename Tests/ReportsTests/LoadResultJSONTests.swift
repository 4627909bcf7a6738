import Foundation
import Recording
import Reports
import XCTest

/// The `load --json` document: the contract's keys, and slow requests cut to a limit that says so.
final class LoadResultJSONTests: XCTestCase {
    func result(slow latenciesMs: [UInt64]) -> LoadResult {
        let latency = LatencySummary(p50: 1, p90: 2, p99: 3, p999: 4, max: 5, mean: 1.5)
        let slow = latenciesMs.enumerated().map { index, ms in
            SlowRequest(intendedNs: 1_000, sentNs: 1_000, endNs: 1_000 + ms * 1_000_000, connection: UInt32(index),
                        endpoint: 0, status: 200)
        }
        return LoadResult(
            url: "http://127.0.0.1:1/", threads: 1, connections: 1, mode: "http closed loop", requests: 10, sent: 10,
            durationS: 1, requestsPerS: 10, latencyUs: latency, errors: ErrorCounts(), statusCounts: ["200": 10],
            achievedRate: 10, lateSends: 0, droppedSends: 0, bytesRead: 0, bytesWritten: 0, connects: 1,
            pingsAnswered: 0, serverCloses: 0, startNs: 0, endNs: 1_000_000_000, endpoints: [], windows: [],
            slowRequests: slow, slowRequestsDropped: 0, windowsDropped: 0, stoppedEarly: false)
    }

    func object(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func testTheContractsKeysWithNullsWhereThereIsNoRate() throws {
        let json = try object(try result(slow: []).json())
        for key in ["requests", "duration_s", "requests_per_s", "latency_us", "errors", "status_counts"] {
            XCTAssertNotNil(json[key], key)
        }
        XCTAssertTrue(json["target_rate"] is NSNull)
        XCTAssertTrue(json["uncorrected_latency_us"] is NSNull)
        XCTAssertNil(json["slow_requests_total"], "nothing was left out")
    }

    func testSlowRequestsBeyondTheLimitKeepTheSlowestAndSayHowManyThereWere() throws {
        let json = try object(try result(slow: [5, 50, 20, 1]).json(slowRequestLimit: 2))
        XCTAssertEqual(json["slow_requests_total"] as? Int, 4)
        let kept = try XCTUnwrap(json["slow_requests"] as? [[String: Any]])
        XCTAssertEqual(kept.compactMap { $0["connection"] as? Int }, [1, 2], "the two slowest, slowest first")
        let all = try object(try result(slow: [5, 50]).json(slowRequestLimit: 2))
        XCTAssertNil(all["slow_requests_total"])
        XCTAssertEqual((all["slow_requests"] as? [[String: Any]])?.count, 2)
    }
}
