import Foundation
import Load
import Recording
import TestSupport
import XCTest

/// The load generator against Tests/Helpers/ab-testserver, whose own counts are the reference.
final class LoadGeneratorTests: XCTestCase {
    var server: TestServer!

    override func setUpWithError() throws {
        server = try TestServer()
    }

    override func tearDown() {
        if server.process.process.isRunning { _ = server.stop() }
    }

    func config(_ path: String = "/", requests: UInt64? = nil, threads: Int = 2, connections: Int = 4,
                duration: Double = 10) throws -> LoadConfig {
        var config = LoadConfig(target: try LoadTarget.parse(server.url + path))
        config.threads = threads
        config.connections = connections
        config.duration = duration
        config.maxRequests = requests
        return config
    }

    func testExactRequestAndStatusCounts() throws {
        let result = try LoadGenerator.run(try config(requests: 5000))
        let counts = server.stop()
        XCTAssertEqual(result.requests, 5000)
        XCTAssertEqual(result.sent, 5000)
        XCTAssertEqual(result.statusCounts, ["200": 5000])
        XCTAssertEqual(result.errors, ErrorCounts())
        XCTAssertEqual(counts["requests"], 5000, "the server saw exactly what was sent")
        XCTAssertEqual(result.connects, 4)
        XCTAssertEqual(result.bytesRead, 5000 * 40, "each response is 40 bytes")
    }

    func testChunkedBodiesAreParsed() throws {
        let result = try LoadGenerator.run(try config("/chunked", requests: 1000))
        XCTAssertEqual(server.stop()["chunked"], 1000)
        XCTAssertEqual(result.statusCounts, ["200": 1000])
        XCTAssertEqual(result.errors.total, 0)
        XCTAssertEqual(result.connects, 4, "chunked responses keep the connection alive")
    }

    func testPipeliningKeepsSeveralRequestsInFlight() throws {
        var pipelined = try config(requests: 4000, threads: 1, connections: 2)
        pipelined.pipelineDepth = 16
        let result = try LoadGenerator.run(pipelined)
        XCTAssertEqual(server.stop()["requests"], 4000)
        XCTAssertEqual(result.requests, 4000)
        XCTAssertEqual(result.errors.total, 0)
    }

    func testConnectionChurnReconnectsEveryRequest() throws {
        var churn = try config(requests: 300, threads: 1, connections: 3)
        churn.closeEach = true
        let result = try LoadGenerator.run(churn)
        XCTAssertEqual(server.stop()["requests"], 300)
        XCTAssertEqual(result.requests, 300)
        XCTAssertEqual(result.errors.total, 0)
        XCTAssertGreaterThanOrEqual(result.connects, 300, "one connection per request")
    }

    func testWeightedMixIsReportedPerEndpoint() throws {
        var mix = try config(requests: 8000)
        mix.endpoints = [LoadEndpoint(path: "/a", weight: 3), LoadEndpoint(path: "/status/404", weight: 1),
                         LoadEndpoint(method: "POST", path: "/orders", headers: ["Content-Type: application/json"],
                                      body: #"{"item":1}"#, weight: 1)]
        let result = try LoadGenerator.run(mix)
        let counts = server.stop()
        XCTAssertEqual(result.endpoints.map(\.requests).reduce(0, +), 8000)
        let (a, missing, post) = (result.endpoints[0], result.endpoints[1], result.endpoints[2])
        // Binomial shares 3/5, 1/5, 1/5 of 8000: within 5 standard deviations.
        XCTAssertEqual(Double(a.requests), 4800, accuracy: 5 * (8000 * 0.6 * 0.4).squareRoot())
        XCTAssertEqual(Double(missing.requests), 1600, accuracy: 5 * (8000 * 0.2 * 0.8).squareRoot())
        XCTAssertEqual(missing.statusCounts, ["404": missing.requests])
        XCTAssertEqual(missing.errors.status, missing.requests)
        XCTAssertEqual(a.errors.total, 0)
        XCTAssertEqual(post.statusCounts, ["200": post.requests])
        XCTAssertEqual(result.errors.status, missing.requests)
        XCTAssertEqual(counts["status"], Int(missing.requests))
        XCTAssertEqual(counts["ok"], Int(a.requests + post.requests), "the POST bodies were read as bodies")
    }

    func testHeadResponsesHaveNoBody() throws {
        var head = try config(requests: 500)
        head.endpoints = [LoadEndpoint(method: "HEAD", path: "/")]
        let result = try LoadGenerator.run(head)
        XCTAssertEqual(result.statusCounts, ["200": 500])
        XCTAssertEqual(result.errors.total, 0, "Content-Length: 2 on a HEAD answer announces no body")
        XCTAssertEqual(server.stop()["requests"], 500)
    }

    func testWebSocketEchoTimesEveryMessage() throws {
        for text in [false, true] {
            server = try TestServer()
            var ws = try config("/ws", requests: 2000)
            ws.target.websocket = true
            ws.websocket = true
            ws.websocketText = text
            ws.messageBytes = 100
            let result = try LoadGenerator.run(ws)
            let counts = server.stop()
            XCTAssertEqual(result.requests, 2000, "text \(text)")
            XCTAssertEqual(counts["ws_messages"], 2000)
            XCTAssertEqual(result.errors.total, 0)
            XCTAssertEqual(result.statusCounts, ["101": 4], "one upgrade per connection")
            XCTAssertGreaterThan(result.latencyUs.p50, 0)
            XCTAssertLessThan(result.latencyUs.p50, 50_000)
        }
    }

    /// An upgrade still unanswered when the load ends is waited for like a request in flight, and is
    /// a timeout when its time runs out: a server that never upgrades shows as errors, not as a
    /// load that did nothing.
    func testAnUpgradeUnansweredAtTheEndIsATimeout() throws {
        server = try TestServer(["--every", "silent"])
        var ws = try config("/ws", threads: 1, connections: 3, duration: 0.5)
        ws.websocket = true
        ws.timeout = 1
        let started = Date()
        let result = try LoadGenerator.run(ws)
        let seconds = Date().timeIntervalSince(started)
        _ = server.stop()
        XCTAssertEqual(result.requests, 0)
        XCTAssertEqual(result.errors, ErrorCounts(timeout: 3), "one per connection's upgrade")
        XCTAssertGreaterThanOrEqual(seconds, 1, "the upgrades were waited for, up to their timeout, past the 0.5 s")
    }

    func testWebSocketPingsAreAnswered() throws {
        server = try TestServer(["--ping-every", "10"])
        var ws = try config("/ws", requests: 1000, threads: 1, connections: 1)
        ws.websocket = true
        let result = try LoadGenerator.run(ws)
        // Give the last pongs time to arrive before the server counts them.
        usleep(200_000)
        let counts = server.stop()
        XCTAssertEqual(result.requests, 1000)
        XCTAssertEqual(result.pingsAnswered, 100, "1000 messages, a ping before every 10th echo")
        XCTAssertEqual(counts["pongs"], 100)
        XCTAssertEqual(result.errors.total, 0)
    }

    func testOpenLoopKeepsTheScheduleAndCorrectsForCoordinatedOmission() throws {
        var open = try config(duration: 2)
        open.rate = 2000
        let result = try LoadGenerator.run(open)
        // Every intended start before the end is sent, or (on a machine too busy to free a
        // connection in time) reported as dropped: the two always account for the schedule.
        XCTAssertEqual(result.sent + result.droppedSends, 4000)
        XCTAssertLessThanOrEqual(result.droppedSends, 40, "a late wake-up at the end drops a few, never 1%")
        XCTAssertEqual(result.achievedRate, 2000, accuracy: 20)
        XCTAssertEqual(result.targetRate, 2000)
        XCTAssertNotNil(result.uncorrectedLatencyUs)

        // A server slower than the schedule: one connection, 40 ms per request, asked for 50/s.
        var slow = try config("/slow/40", threads: 1, connections: 1, duration: 2)
        slow.rate = 50
        let lagging = try LoadGenerator.run(slow)
        let corrected = lagging.latencyUs, uncorrected = try XCTUnwrap(lagging.uncorrectedLatencyUs)
        XCTAssertEqual(uncorrected.p50, 40_000, accuracy: 10_000, "service time as sent")
        XCTAssertGreaterThan(corrected.p99, uncorrected.p99 + 200_000, "the queue behind the server counts")
        XCTAssertGreaterThan(lagging.lateSends, 0)
        XCTAssertGreaterThan(lagging.droppedSends, 0, "intended starts never reached before the end")
    }

    func testEachErrorKindIsCounted() throws {
        let cut = try LoadGenerator.run(try config("/cut", requests: 50, threads: 1, connections: 1))
        XCTAssertEqual(cut.errors.read, 50, "a response cut off by a close")
        XCTAssertEqual(cut.requests, 0)

        let garbage = try LoadGenerator.run(try config("/garbage", requests: 50, threads: 1, connections: 1))
        XCTAssertEqual(garbage.errors.parse, 50)

        let failing = try LoadGenerator.run(try config("/status/503", requests: 50, threads: 1, connections: 1))
        XCTAssertEqual(failing.errors.status, 50)
        XCTAssertEqual(failing.statusCounts, ["503": 50])

        var reset = try config("/reset", requests: 3, threads: 1, connections: 1)
        reset.endpoints = [LoadEndpoint(method: "POST", path: "/reset", body: String(repeating: "x", count: 64 << 20))]
        let resets = try LoadGenerator.run(reset)
        XCTAssertEqual(resets.errors.write, 3, "a body the server never reads, then a reset")

        var silent = try config("/silent", threads: 1, connections: 2, duration: 1)
        silent.timeout = 0.3
        let started = Date()
        let timeouts = try LoadGenerator.run(silent)
        XCTAssertGreaterThanOrEqual(timeouts.errors.timeout, 4, "2 connections time out every 0.3 s")
        XCTAssertEqual(timeouts.requests, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1 + 0.3 + 1, "no hang past duration + timeout")
    }

    func testConnectErrorsWhenTheServerGoesAway() throws {
        var config = try config(threads: 1, connections: 2, duration: 1.5)
        config.timeout = 0.5
        let run = try LoadRun(config)
        usleep(300_000)
        kill(server.process.pid, SIGKILL)
        while !run.isFinished { usleep(50_000); _ = run.poll() }
        let result = run.result()
        XCTAssertGreaterThan(result.requests, 0)
        XCTAssertGreaterThan(result.errors.connect, 0, "reconnects are refused once the server is gone")
    }

    func testUnreachableTargetFailsFastWithTheErrno() throws {
        let port = server.port
        _ = server.stop()
        let started = Date()
        XCTAssertThrowsError(try LoadRun(try LoadConfig(target: LoadTarget.parse("http://127.0.0.1:\(port)/")))) { error in
            XCTAssertEqual("\(error)", "cannot connect to 127.0.0.1:\(port): Connection refused")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testWindowsAndSlowRequestsCoverTheRun() throws {
        var mix = try config(threads: 2, connections: 4, duration: 1.5)
        mix.endpoints = [LoadEndpoint(path: "/", weight: 200), LoadEndpoint(path: "/slow/20", weight: 1)]
        let result = try LoadGenerator.run(mix)
        XCTAssertEqual(result.windows.count, 15, accuracy: 1)
        XCTAssertEqual(result.windows.map(\.responses).reduce(0, +), result.requests)
        XCTAssertEqual(result.windows.map { $0.log2Counts.map(UInt64.init).reduce(0, +) }.reduce(0, +), result.requests)
        let slowEndpoint = result.endpoints[1].requests
        XCTAssertGreaterThan(slowEndpoint, 0)
        let slowOnes = result.slowRequests.filter { $0.endpoint == 1 }
        // Every /slow/20 request after the first window is above the running p99.
        XCTAssertGreaterThanOrEqual(Double(slowOnes.count), Double(slowEndpoint) * 0.8)
        for slow in result.slowRequests {
            XCTAssertLessThanOrEqual(slow.intendedNs, slow.sentNs)
            XCTAssertLessThan(slow.sentNs, slow.endNs)
            XCTAssertGreaterThanOrEqual(slow.intendedNs, result.startNs)
        }
    }

    func testURLParsing() throws {
        XCTAssertEqual(try LoadTarget.parse("http://localhost:8080/api?limit=5"),
                       LoadTarget(host: "localhost", port: 8080, path: "/api?limit=5"))
        XCTAssertEqual(try LoadTarget.parse("ws://127.0.0.1/ws"), LoadTarget(host: "127.0.0.1", port: 80, path: "/ws", websocket: true))
        XCTAssertEqual(try LoadTarget.parse("http://[::1]:81").path, "/")
        for bad in ["localhost:8080", "https://x/", "http:///path", "http://x:70000/", "ftp://x/"] {
            XCTAssertThrowsError(try LoadTarget.parse(bad), bad)
        }
    }
}
