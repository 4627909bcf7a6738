#if canImport(Glibc)
import Glibc
#endif
import CLoadGen
import Foundation
import Load
import Recording
import XCTest

/// The WebSocket session (CSources/CLoadGen/ws_session.c) against what Tests/Helpers/ab-testserver
/// never sends: echoes in fragments, frames that arrive split across reads, closes from the server.
final class WebSocketSessionTests: XCTestCase {
    func config(_ server: AwkwardEchoServer, messages: UInt64, text: Bool = false) -> LoadConfig {
        var config = LoadConfig(target: LoadTarget(host: "127.0.0.1", port: server.port, path: "/ws", websocket: true))
        config.threads = 1
        config.connections = 1
        config.maxRequests = messages
        config.messageBytes = 100
        config.websocketText = text
        return config
    }

    func testFragmentedEchoesSplitAcrossReadsAreGathered() throws {
        for text in [false, true] {
            let server = try AwkwardEchoServer()
            defer { server.stop() }
            let result = try LoadGenerator.run(config(server, messages: 200, text: text))
            XCTAssertEqual(result.requests, 200, "text \(text)")
            XCTAssertEqual(result.errors, ErrorCounts(), "text \(text)")
            XCTAssertEqual(result.statusCounts, ["101": 1], "text \(text)")
            XCTAssertEqual(result.serverCloses, 0)
        }
    }

    func testAServerCloseIsAnsweredCountedAndReconnected() throws {
        // One connection, one message in flight: the server echoes 20, then closes instead of
        // echoing the 21st; the client reconnects and goes on. 50 messages: closes at the 21st and
        // the 42nd, each losing the one in flight.
        let server = try AwkwardEchoServer(closeAfter: 20)
        defer { server.stop() }
        let result = try LoadGenerator.run(config(server, messages: 50))
        XCTAssertEqual(result.sent, 50)
        XCTAssertEqual(result.requests, 48)
        XCTAssertEqual(result.serverCloses, 2)
        XCTAssertEqual(result.errors, ErrorCounts(read: 2), "the message in flight at each close")
        XCTAssertEqual(result.statusCounts, ["101": 3], "one upgrade per connection")
        XCTAssertEqual(result.connects, 3)
        XCTAssertEqual(server.closeReplies, 2, "every close was answered with one")
    }
}

/// A WebSocket echo server on 127.0.0.1 that answers awkwardly, one connection at a time: each echo
/// as two fragments, written in three pieces a moment apart (the first a lone byte of header), so the
/// client reads partial frames; with `closeAfter`, a close (status 1000) instead of every
/// (closeAfter + 1)th echo.
final class AwkwardEchoServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let closeAfter: Int
    private let lock = NSLock()
    private var replies = 0
    private let done = DispatchSemaphore(value: 0)

    var closeReplies: Int { lock.withLock { replies } }

    init(closeAfter: Int = 0) throws {
        self.closeAfter = closeAfter
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 16) == 0
                    && getsockname(listener, address, &length) == 0
            }
        }
        guard listener >= 0, bound else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 { break }
                var one: Int32 = 1
                // Each piece of a frame goes out at once, not held back for the previous one's ACK.
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                serve(fd)
                close(fd)
            }
            done.signal()
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        done.wait()
        close(listener)
    }

    private func serve(_ fd: Int32) {
        var buffer = [UInt8]()
        guard let request = readRequest(fd, &buffer), let key = Self.header("Sec-WebSocket-Key", in: request) else { return }
        var accept = [CChar](repeating: 0, count: Int(AB_WS_ACCEPT_BYTES))
        ab_ws_handshake__accept(key, &accept)
        let acceptValue = String(decoding: accept.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(acceptValue)\r\n\r\n"
        write(fd, Array(response.utf8))
        var messages = 0
        while let (opcode, payload) = readFrame(fd, &buffer) {
            switch opcode {
            case UInt8(AB_WS_TEXT.rawValue), UInt8(AB_WS_BINARY.rawValue):
                messages += 1
                if closeAfter > 0 && messages > closeAfter {
                    write(fd, [0x88, 0x02, 0x03, 0xE8])
                    if let (reply, _) = readFrame(fd, &buffer), reply == UInt8(AB_WS_CLOSE.rawValue) {
                        lock.withLock { replies += 1 }
                    }
                    return
                }
                echoInFragments(fd, opcode: opcode, payload)
            case UInt8(AB_WS_CLOSE.rawValue):
                return
            default:
                break
            }
        }
    }

    /// Two unmasked frames (first: not final, the message's opcode; second: a final continuation),
    /// written in three pieces so that the client's reads end mid-frame.
    private func echoInFragments(_ fd: Int32, opcode: UInt8, _ payload: [UInt8]) {
        let half = payload.count / 2
        precondition(payload.count < 126, "one-byte lengths only")
        var bytes: [UInt8] = [opcode, UInt8(half)]
        bytes += payload[..<half]
        bytes += [0x80, UInt8(payload.count - half)]
        bytes += payload[half...]
        for piece in [bytes[..<1], bytes[1..<(half + 3)], bytes[(half + 3)...]] {
            write(fd, Array(piece))
            usleep(300)
        }
    }

    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> String? {
        let end = Array("\r\n\r\n".utf8)
        while true {
            if let range = buffer.firstRange(of: end) {
                let request = String(decoding: buffer[..<range.upperBound], as: UTF8.self)
                buffer.removeSubrange(..<range.upperBound)
                return request
            }
            guard fill(fd, &buffer) else { return nil }
        }
    }

    /// The next client frame, unmasked; nil when the client has gone.
    private func readFrame(_ fd: Int32, _ buffer: inout [UInt8]) -> (UInt8, [UInt8])? {
        while true {
            var frame = ab_ws_frame()
            switch ab_ws_frame__parse(buffer, buffer.count, &frame) {
            case AB_WS_FRAME:
                let start = frame.header_length, end = start + Int(frame.payload_length)
                var payload = Array(buffer[start..<end])
                withUnsafeBytes(of: frame.mask) { mask in
                    ab_ws_frame__unmask(&payload, UInt64(payload.count), mask.bindMemory(to: UInt8.self).baseAddress)
                }
                buffer.removeSubrange(..<end)
                return (frame.opcode, payload)
            case AB_WS_NEED_MORE:
                guard fill(fd, &buffer) else { return nil }
            default:
                return nil
            }
        }
    }

    private func fill(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &chunk, chunk.count)
        guard n > 0 else { return false }
        buffer += chunk[..<n]
        return true
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            offset += n
        }
    }

    private static func header(_ name: String, in request: String) -> String? {
        for line in request.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
