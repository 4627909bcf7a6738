import Foundation
import TestSupport
import XCTest

/// Each fault flag does what it says, measured from outside the server.
final class FaultTests: XCTestCase {
    // MARK: --leak-bytes-per-request

    /// Sends `count` requests and returns how much the RSS of `pid` grew.
    private func rssGrowth(of pid: Int32, requests count: Int, _ client: HTTPTestClient, path: String) throws -> Int {
        for _ in 0..<200 { _ = try client.get(path) }  // warm up: buffers, arenas, caches
        let before = try XCTUnwrap(residentBytes(pid))
        for _ in 0..<count { XCTAssertEqual(try client.get(path).status, 200) }
        let after = try XCTUnwrap(residentBytes(pid))
        return after - before
    }

    func testLeakGrowsTheMonolithsRSSByTheSetBytesPerRequest() throws {
        let leak = 65_536, count = 2_000
        let server = try ServerUnderTest(["monolith", "--port", "0", "--leak-bytes-per-request", "\(leak)"])
        defer { server.stop() }
        let growth = try rssGrowth(of: server.pid, requests: count, server.client(), path: "/api/users/1")
        let perRequest = Double(growth) / Double(count)
        print("measured: monolith RSS grew \(growth) bytes over \(count) requests = \(Int(perRequest)) bytes/request (set \(leak))")
        XCTAssertEqual(perRequest, Double(leak), accuracy: 0.2 * Double(leak), "RSS grew \(growth) bytes")
    }

    func testLeakTargetsOneServiceOfTheMicroservices() throws {
        let leak = 65_536, count = 2_000
        let server = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0",
                                          "--leak-bytes-per-request", "users:\(leak)"])
        defer { server.stop() }
        let users = try XCTUnwrap(server.servicePid("users"))
        let gatewayBefore = try XCTUnwrap(residentBytes(server.pid))
        let growth = try rssGrowth(of: users, requests: count, server.client(), path: "/api/users/1")
        print("measured: users service RSS grew \(growth / count) bytes/request (set \(leak))")
        XCTAssertEqual(Double(growth) / Double(count), Double(leak), accuracy: 0.2 * Double(leak),
                       "the users service's RSS grew \(growth) bytes")
        let gatewayGrowth = try XCTUnwrap(residentBytes(server.pid)) - gatewayBefore
        XCTAssertLessThan(gatewayGrowth, leak * count / 10, "the gateway is not the target; it grew \(gatewayGrowth) bytes")
    }

    // MARK: --pause-every-ms / --pause-ms

    /// Times sequential requests for `seconds`; returns the stalls (requests slower than `threshold`
    /// ms): when each ended and how long it took, in ms.
    private func stalls(_ client: HTTPTestClient, path: String, seconds: Double, threshold: Double = 30)
        throws -> [(end: Double, ms: Double)] {
        var found: [(end: Double, ms: Double)] = []
        let stop = now() + seconds
        while now() < stop {
            let start = now()
            XCTAssertEqual(try client.get(path).status, 200)
            let end = now()
            let ms = (end - start) * 1_000
            if ms > threshold {
                // Requests of one pause stall together; keep the longest, which arrived first.
                if let last = found.last, end - last.end < 0.1 {
                    found[found.count - 1] = (end, max(last.ms, ms))
                } else {
                    found.append((end, ms))
                }
            }
        }
        return found
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    func testPausesAppearAtTheSetIntervalAndLength() throws {
        let server = try ServerUnderTest(["monolith", "--port", "0", "--pause-every-ms", "200", "--pause-ms", "50"])
        defer { server.stop() }
        let client = server.client()
        _ = try client.get("/health")
        let seen = try stalls(client, path: "/health", seconds: 2.2)
        // 2.2 s at one pause per 0.2 s: 11 pauses, give or take one at each end.
        XCTAssertTrue((8...12).contains(seen.count), "stalls: \(seen.map { Int($0.ms) })")
        let lengths = seen.map(\.ms)
        XCTAssertEqual(median(lengths), 50, accuracy: 15, "stall lengths (ms): \(lengths.map { Int($0) })")
        let intervals = zip(seen.dropFirst(), seen).map { ($0.end - $1.end) * 1_000 }
        print("measured: \(seen.count) stalls in 2.2 s, median length \(Int(median(lengths))) ms, median interval \(Int(median(intervals))) ms (set 50 every 200)")
        XCTAssertEqual(median(intervals), 200, accuracy: 25, "intervals (ms): \(intervals.map { Int($0) })")
    }

    func testPauseTargetsOneServiceOfTheMicroservices() throws {
        let server = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0",
                                          "--pause-every-ms", "training:200", "--pause-ms", "50"])
        defer { server.stop() }
        let client = server.client()
        _ = try client.get("/api/users/1")
        // Paused, 1.2 s would show 6 stalls of 50 ms; allow a couple from a busy machine.
        let calm = try stalls(client, path: "/api/users/1", seconds: 1.2, threshold: 40)
        XCTAssertLessThanOrEqual(calm.count, 2, "users is not paused: \(calm.map { Int($0.ms) })")
        // /health of the training service itself, on its own port.
        let line = try XCTUnwrap(server.process.stderrSoFar.split(separator: "\n").first { $0.contains("training service listening") })
        let trainingPort = try XCTUnwrap(ServerUnderTest.number(in: String(line), after: "127.0.0.1:"))
        let training = HTTPTestClient(port: trainingPort)
        let seen = try stalls(training, path: "/health", seconds: 1.2)
        XCTAssertTrue((5...7).contains(seen.count), "training stalls: \(seen.map { Int($0.ms) })")
        XCTAssertEqual(median(seen.map(\.ms)), 50, accuracy: 15)
    }

    // MARK: --slow-ms / --slow-path

    private func medianLatency(_ client: HTTPTestClient, _ path: String, count: Int = 15) throws -> Double {
        var samples: [Double] = []
        for _ in 0..<count {
            let start = now()
            XCTAssertEqual(try client.get(path).status, 200)
            samples.append((now() - start) * 1_000)
        }
        return median(samples)
    }

    func testTheSlowPathIsSlowerByTheSetAmount() throws {
        for arguments in [["monolith", "--port", "0", "--slow-ms", "100", "--slow-path", "/api/items"],
                          ["microservices", "--port", "0", "--ws-port", "0", "--slow-ms", "users:100", "--slow-path", "/api/items"]] {
            let server = try ServerUnderTest(arguments)
            defer { server.stop() }
            let client = server.client()
            let fast = try medianLatency(client, "/api/users/1")
            let slow = try medianLatency(client, "/api/items?limit=3")
            let below = try medianLatency(client, "/api/items/3")
            print("measured: \(arguments[0]) slow path +\(Int(slow - fast)) ms, below it +\(Int(below - fast)) ms (set 100)")
            XCTAssertEqual(slow - fast, 100, accuracy: 20, "\(arguments[0]): fast \(fast) ms, slow \(slow) ms")
            XCTAssertEqual(below - fast, 100, accuracy: 20, "\(arguments[0]): a path below the slow path is slow too")
        }
    }

    // MARK: --error-rate

    /// Counts the 500s among `count` requests; checks each names the injected fault.
    private func failures(_ client: HTTPTestClient, _ path: String, count: Int, service: String?) throws -> Int {
        var failed = 0
        for _ in 0..<count {
            let response = try client.get(path)
            if response.status == 500 {
                failed += 1
                XCTAssertTrue(response.text.contains("injected fault (--error-rate"), response.text)
                XCTAssertEqual(response.json?["service"] as? String, service, response.text)
            } else {
                XCTAssertEqual(response.status, 200, response.text)
            }
        }
        return failed
    }

    /// Within 4 standard deviations of the binomial mean.
    private func assertRate(_ failed: Int, _ count: Int, _ p: Double, file: StaticString = #filePath, line: UInt = #line) {
        let mean = Double(count) * p
        let sigma = (Double(count) * p * (1 - p)).squareRoot()
        print("measured: \(failed) of \(count) requests failed, expected \(Int(mean)) ± \(Int(4 * sigma)) (4 sigma)")
        XCTAssertEqual(Double(failed), mean, accuracy: 4 * sigma, "\(failed) of \(count) failed", file: file, line: line)
    }

    func testTheErrorRateIsMetWithinStatisticalBounds() throws {
        let server = try ServerUnderTest(["monolith", "--port", "0", "--error-rate", "0.2"])
        defer { server.stop() }
        let client = server.client()
        assertRate(try failures(client, "/api/users/1", count: 2_000, service: nil), 2_000, 0.2)
        XCTAssertEqual(try failures(client, "/health", count: 200, service: nil), 0, "/health is exempt")
    }

    func testTheErrorRateTargetsOneServiceOfTheMicroservices() throws {
        let server = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0", "--error-rate", "users:0.2"])
        defer { server.stop() }
        let client = server.client()
        assertRate(try failures(client, "/api/items/1", count: 1_000, service: "users"), 1_000, 0.2)
        let trained = try client.post("/train", #"{"samples": 10, "features": 2, "epochs": 1}"#)
        XCTAssertEqual(trained.status, 200, "training is not the target")
    }
}
