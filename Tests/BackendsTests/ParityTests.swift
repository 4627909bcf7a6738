import Foundation
import TestSupport
import XCTest

/// The monolith and the microservices split answer every endpoint the same.
final class ParityTests: XCTestCase {
    /// Requests in order, from a fresh server: order ids and model ids depend on the order.
    static let script: [(method: String, path: String, body: String?)] = [
        ("GET", "/health", nil),
        ("GET", "/api/users", nil),
        ("GET", "/api/users/7", nil),
        ("GET", "/api/users/0", nil),
        ("GET", "/api/users/abc", nil),
        ("GET", "/api/items", nil),
        ("GET", "/api/items?limit=5", nil),
        ("GET", "/api/items?limit=0", nil),
        ("GET", "/api/items?limit=abc", nil),
        ("GET", "/api/items?limit=501", nil),
        ("GET", "/api/items/3", nil),
        ("GET", "/api/items/9999", nil),
        ("POST", "/api/orders", #"{"user_id": 3, "item_id": 4, "quantity": 2}"#),
        ("POST", "/api/orders", #"{"user_id": 5, "item_id": 500, "quantity": 100}"#),
        ("POST", "/api/orders", #"{"user_id": true, "item_id": 4, "quantity": 2}"#),
        ("POST", "/api/orders", #"{"user_id": 3, "item_id": 4.5, "quantity": 2}"#),
        ("POST", "/api/orders", #"{"user_id": 3, "item_id": 4}"#),
        ("POST", "/api/orders", #"{"user_id": 3, "item_id": 4, "quantity": 0}"#),
        ("POST", "/api/orders", #"{"user_id": 3, "item_id": 4, "quantity": 101}"#),
        ("POST", "/api/orders", #"{"user_id": 999, "item_id": 4, "quantity": 1}"#),
        ("POST", "/api/orders", #"{"user_id": 3, "item_id": 9999, "quantity": 1}"#),
        ("POST", "/api/orders", "not json"),
        ("POST", "/api/orders", "[1, 2]"),
        ("POST", "/api/orders", nil),
        ("GET", "/api/orders/1", nil),
        ("GET", "/api/orders/2", nil),
        ("GET", "/api/orders/3", nil),
        ("DELETE", "/api/orders/1", nil),
        ("POST", "/train", #"{"samples": 500, "features": 8, "epochs": 5, "learning_rate": 0.5, "seed": 7}"#),
        ("POST", "/train", #"{"samples": 500, "features": 8, "epochs": 5, "learning_rate": 0.5, "seed": 7}"#),
        ("POST", "/train", #"{"samples": 0}"#),
        ("POST", "/train", #"{"learning_rate": "fast"}"#),
        ("POST", "/train", #"{"samples": 100000, "features": 41}"#),
        ("GET", "/train", nil),
        ("DELETE", "/api/users", nil),
        ("GET", "/no/such/path", nil),
    ]

    /// What is compared: status, and the body with the training time (which no two runs share) removed.
    static func comparable(_ response: HTTPTestResponse) -> String {
        guard var json = response.json else { return "\(response.status) \(response.text)" }
        json.removeValue(forKey: "train_ms")
        let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        return "\(response.status) \(String(decoding: data ?? Data(), as: UTF8.self))"
    }

    func testEveryEndpointAnswersTheSameOnBothArchitectures() throws {
        let monolith = try ServerUnderTest(["monolith", "--port", "0"])
        defer { monolith.stop() }
        let microservices = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0"])
        defer { microservices.stop() }
        let a = monolith.client()
        let b = microservices.client()
        var answers: [String] = []
        for step in Self.script {
            let expected = try a.request(step.method, step.path, body: step.body)
            let actual = try b.request(step.method, step.path, body: step.body)
            XCTAssertEqual(Self.comparable(actual), Self.comparable(expected), "\(step.method) \(step.path) \(step.body ?? "")")
            answers.append(Self.comparable(expected))
        }
        // And the answers are the right ones, not merely the same.
        let statuses = answers.map { Int($0.prefix(3)) ?? 0 }
        XCTAssertEqual(statuses, [200, 200, 200, 404, 404, 200, 200, 400, 400, 400, 200, 404,
                                  201, 201, 422, 422, 422, 422, 422, 422, 422, 400, 400, 400,
                                  200, 200, 404, 405, 200, 200, 422, 422, 422, 405, 405, 404])
        XCTAssertTrue(answers[12].contains(#""total_cents":496"#), answers[12])
        XCTAssertTrue(answers[14].contains(#""field":"user_id""#), answers[14])
        XCTAssertTrue(answers[15].contains(#""field":"item_id""#), answers[15])
        XCTAssertTrue(answers[16].contains(#""field":"quantity""#), answers[16])
        XCTAssertTrue(answers[19].contains("user_id 999 does not exist"), answers[19])
        XCTAssertTrue(answers[20].contains("item_id 9999 does not exist"), answers[20])
        XCTAssertTrue(answers[28].contains(#""model_id":"model-1""#), answers[28])
        XCTAssertTrue(answers[29].contains(#""model_id":"model-2""#), answers[29])
        XCTAssertTrue(answers[32].contains("samples × features must be at most"), answers[32])
        let model = try XCTUnwrap(try a.post("/train", #"{"samples": 2000, "features": 8, "epochs": 20}"#).json)
        let loss = try XCTUnwrap(model["final_loss"] as? Double)
        XCTAssertLessThan(loss, 0.6, "training should fit better than chance (log 2 = 0.693)")
        XCTAssertGreaterThan(try XCTUnwrap(model["accuracy"] as? Double), 0.7)
        let items = try XCTUnwrap(try b.get("/api/items?limit=5").json?["items"] as? [Any])
        XCTAssertEqual(items.count, 5)
    }

    func testWebSocketEchoAndBroadcastOnBothArchitectures() throws {
        let monolith = try ServerUnderTest(["monolith", "--port", "0"])
        defer { monolith.stop() }
        let microservices = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0"])
        defer { microservices.stop() }
        XCTAssertEqual(monolith.wsPort, monolith.port, "the monolith serves WebSocket on its own port")
        XCTAssertNotEqual(microservices.wsPort, microservices.port, "the WebSocket service has its own port")
        for wsPort in [monolith.wsPort, microservices.wsPort] {
            let echo = HTTPTestClient(port: wsPort, timeout: 5)
            XCTAssertEqual(try echo.upgradeToWebSocket("/ws"), 101)
            for message in ["hello", "second message", "{\"seq\": 3}"] {
                try echo.sendText(message)
                let frame = try echo.readFrame()
                XCTAssertEqual(frame.opcode, 1)
                XCTAssertEqual(frame.payload, message)
            }

            let first = HTTPTestClient(port: wsPort, timeout: 5)
            let second = HTTPTestClient(port: wsPort, timeout: 5)
            XCTAssertEqual(try first.upgradeToWebSocket("/ws/broadcast"), 101)
            XCTAssertEqual(try second.upgradeToWebSocket("/ws/broadcast"), 101)
            // The second joined after the first; a message from it proves both are members.
            XCTAssertTrue(eventually(timeout: 5) {
                (try? second.sendText("ping")) != nil && (try? second.readFrame().payload) == "ping"
            })
            _ = try first.readFrame()  // the first's copy of "ping"
            try first.sendText("to everyone")
            XCTAssertEqual(try first.readFrame().payload, "to everyone")
            XCTAssertEqual(try second.readFrame().payload, "to everyone")

            let refused = HTTPTestClient(port: wsPort, timeout: 5)
            XCTAssertEqual(try refused.upgradeToWebSocket("/not-ws"), 404, "an unknown path is no WebSocket")
        }
    }

    func testMicroservicesAreSeveralProcessesAndTheMonolithOne() throws {
        let monolith = try ServerUnderTest(["monolith", "--port", "0"])
        defer { monolith.stop() }
        XCTAssertEqual(monolith.liveDescendants().count, 0, "the monolith is one process")
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(monolith.pid)/task").count
        let cores = ProcessInfo.processInfo.activeProcessorCount
        XCTAssertGreaterThanOrEqual(threads, cores + 1, "one event loop thread per core, plus the main thread")

        let microservices = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0"])
        defer { microservices.stop() }
        let children = microservices.liveDescendants()
        XCTAssertEqual(Set(children.map(\.entry.comm)), ["ab-users", "ab-orders", "ab-training", "ab-ws"])
        for child in children {
            XCTAssertEqual(child.entry.ppid, microservices.pid, "\(child.entry.comm) is the gateway's child")
            XCTAssertTrue(child.cmdline.hasPrefix("archbench serve service "), child.cmdline)
        }
        // Each answers from its own process: kill none, but check the services' own ports answer.
        for line in microservices.process.stderrSoFar.split(separator: "\n") where line.contains(" service listening on ") {
            let port = try XCTUnwrap(ServerUnderTest.number(in: String(line), after: "listening on 127.0.0.1:"))
            let pid = try XCTUnwrap(ServerUnderTest.number(in: String(line), after: "pid "))
            XCTAssertTrue(children.contains { $0.entry.pid == Int32(pid) }, String(line))
            XCTAssertEqual(try HTTPTestClient(port: port).get("/health").status, 200, String(line))
        }
    }
}
