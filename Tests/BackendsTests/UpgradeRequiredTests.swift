import Foundation
import TestSupport
import XCTest

/// The WebSocket paths asked for as plain HTTP: 426 Upgrade Required with `Upgrade: websocket`, on the
/// port that serves WebSocket in each architecture (the monolith's own; the microservices' ws service,
/// whose port is the gateway's `--ws-port`), and the endpoint still upgrades afterwards.
final class UpgradeRequiredTests: XCTestCase {
    func testAPlainGETOnAWebSocketPathIsAnswered426InBothArchitectures() throws {
        let monolith = try ServerUnderTest(["monolith", "--port", "0"])
        defer { monolith.stop() }
        let microservices = try ServerUnderTest(["microservices", "--port", "0", "--ws-port", "0"])
        defer { microservices.stop() }
        for (architecture, wsPort) in [("monolith", monolith.wsPort), ("microservices", microservices.wsPort)] {
            for path in ["/ws", "/ws/broadcast", "/ws?client=test"] {
                let client = HTTPTestClient(port: wsPort, timeout: 5)
                client.watchesServerClose = true
                let plain = try client.get(path)
                let what = "\(architecture) GET \(path): \(plain.status) \(plain.headers) \(plain.text)"
                XCTAssertEqual(plain.status, 426, what)
                XCTAssertEqual(plain.headers["upgrade"]?.lowercased(), "websocket", what)
                XCTAssertEqual(plain.headers["sec-websocket-version"], "13", what)
                let options = (plain.headers["connection"] ?? "").lowercased()
                XCTAssertTrue(options.contains("upgrade"), "Upgrade must be a connection option: \(what)")
                XCTAssertTrue(options.contains("close"), what)
                XCTAssertEqual(client.serverClosed, true, "the server should close the connection after a 426: \(what)")
                let message = plain.json?["error"] as? String ?? ""
                XCTAssertTrue(message.contains("WebSocket endpoint") && message.contains("Upgrade: websocket"), what)
            }

            // An upgrade the upgrader refuses (no key) lands on the same path: 426 too, saying why.
            let refused = try HTTPTestClient(port: wsPort, timeout: 5)
                .request("GET", "/ws", headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")])
            XCTAssertEqual(refused.status, 426, "\(architecture): \(refused.text)")
            XCTAssertEqual(refused.headers["upgrade"]?.lowercased(), "websocket", "\(architecture): \(refused.headers)")
            XCTAssertTrue(refused.text.contains("Sec-WebSocket-Key"), "\(architecture): \(refused.text)")

            // Another method on a WebSocket path is no upgrade candidate at all.
            let post = try HTTPTestClient(port: wsPort, timeout: 5).post("/ws", "{}")
            XCTAssertEqual(post.status, 405, "\(architecture) POST /ws: \(post.text)")

            // The 426 changed nothing for a real client: a new connection upgrades and echoes.
            let echo = HTTPTestClient(port: wsPort, timeout: 5)
            XCTAssertEqual(try echo.upgradeToWebSocket("/ws"), 101, architecture)
            try echo.sendText("after the 426")
            XCTAssertEqual(try echo.readFrame().payload, "after the 426", architecture)
            // And a path that is not a WebSocket endpoint is still a plain 404.
            XCTAssertEqual(try HTTPTestClient(port: wsPort, timeout: 5).get("/wss").status, 404, architecture)
        }
    }
}
