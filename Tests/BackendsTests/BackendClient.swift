import ArchbenchCore
import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 response as the tests see it.
struct HTTPTestResponse {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
}

enum TestClientError: Error, CustomStringConvertible {
    case system(String)
    case closed
    case malformed(String)

    var description: String {
        switch self {
        case .system(let what): what
        case .closed: "connection closed"
        case .malformed(let what): "malformed response: \(what)"
        }
    }
}

/// A tiny blocking keep-alive HTTP/1.1 client for 127.0.0.1, every read and write bounded by a timeout.
final class HTTPTestClient {
    let port: Int
    let timeout: Double
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Double = 10) {
        self.port = port
        self.timeout = timeout
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        buffer = []
    }

    /// Sends one request. A request on a reused connection that the server had closed is retried
    /// once on a new connection.
    func request(_ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = [])
        throws -> HTTPTestResponse {
        let reused = fd >= 0
        do {
            return try exchange(method, path, body: body, headers: headers)
        } catch TestClientError.closed where reused {
            close()
            return try exchange(method, path, body: body, headers: headers)
        }
    }

    func get(_ path: String) throws -> HTTPTestResponse { try request("GET", path) }
    func post(_ path: String, _ body: String) throws -> HTTPTestResponse { try request("POST", path, body: body) }

    private func exchange(_ method: String, _ path: String, body: String?, headers extra: [(String, String)])
        throws -> HTTPTestResponse {
        if fd < 0 { fd = try connectSocket(port: port, timeout: timeout) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if !extra.contains(where: { $0.0.lowercased() == "connection" }) { request += "Connection: keep-alive\r\n" }
        for (name, value) in extra { request += "\(name): \(value)\r\n" }
        let bodyBytes = Array((body ?? "").utf8)
        if body != nil { request += "Content-Type: application/json\r\n" }
        request += "Content-Length: \(bodyBytes.count)\r\n\r\n"
        try sendAll(Array(request.utf8) + bodyBytes)
        let head = try readUntil(Array("\r\n\r\n".utf8))
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestClientError.malformed(lines[0]) }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let responseBody = try readExactly(length)
        // The header is a list of options ("upgrade, close").
        let options = (headers["connection"] ?? "").lowercased().split(separator: ",")
        if options.contains(where: { $0.trimmingCharacters(in: .whitespaces) == "close" }) {
            if watchesServerClose { serverClosed = closedByPeer() }
            close()
        }
        return HTTPTestResponse(status: status, headers: headers, body: Data(responseBody))
    }

    /// When set, a response that says `Connection: close` is followed by a wait for the server to
    /// close its end (within the timeout); `serverClosed` tells whether it did.
    var watchesServerClose = false
    private(set) var serverClosed: Bool?

    private func closedByPeer() -> Bool {
        guard buffer.isEmpty else { return false }
        do {
            try fill()
            return false
        } catch TestClientError.closed {
            return true
        } catch {
            return false
        }
    }

    private func sendAll(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                close()
                throw TestClientError.closed
            }
            sent += n
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 {
            close()
            throw TestClientError.closed
        }
        if n < 0 {
            let error = errno
            close()
            if error == ECONNRESET { throw TestClientError.closed }
            throw TestClientError.system("recv: \(String(cString: strerror(error)))")
        }
        buffer += chunk[..<n]
    }

    private func readUntil(_ marker: [UInt8]) throws -> [UInt8] {
        while true {
            if let range = buffer.firstRange(of: marker) {
                let head = Array(buffer[..<range.lowerBound])
                buffer.removeSubrange(..<range.upperBound)
                return head
            }
            try fill()
        }
    }

    func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let bytes = Array(buffer[..<count])
        buffer.removeSubrange(..<count)
        return bytes
    }

    // MARK: WebSocket (RFC 6455), for the echo and broadcast tests.

    /// Upgrades this connection to a WebSocket on `path`.
    func upgradeToWebSocket(_ path: String) throws -> Int {
        if fd < 0 { fd = try connectSocket(port: port, timeout: timeout) }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try sendAll(Array(request.utf8))
        let head = String(decoding: try readUntil(Array("\r\n\r\n".utf8)), as: UTF8.self)
        guard let status = Int(head.split(separator: " ").dropFirst().first ?? "") else {
            throw TestClientError.malformed(head)
        }
        return status
    }

    /// Sends one masked text frame.
    func sendText(_ text: String) throws {
        let payload = Array(text.utf8)
        precondition(payload.count < 126, "short messages only")
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        let masked = payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try sendAll([0x81, 0x80 | UInt8(payload.count)] + mask + masked)
    }

    /// Reads one frame: its opcode and payload.
    func readFrame() throws -> (opcode: UInt8, payload: String) {
        let header = try readExactly(2)
        var length = Int(header[1] & 0x7f)
        if length == 126 {
            let ext = try readExactly(2)
            length = Int(ext[0]) << 8 | Int(ext[1])
        } else if length == 127 {
            length = try readExactly(8).reduce(0) { $0 << 8 | Int($1) }
        }
        return (header[0] & 0x0f, String(decoding: try readExactly(length), as: UTF8.self))
    }
}

private func connectSocket(port: Int, timeout: Double) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestClientError.system("socket: \(String(cString: strerror(errno)))") }
    var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let error = errno
        close(fd)
        throw TestClientError.system("connect 127.0.0.1:\(port): \(String(cString: strerror(error)))")
    }
    return fd
}

/// A port nothing listens on now, and a socket that holds another one.
func listeningSocket() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestClientError.system("bind: \(String(cString: strerror(errno)))") }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// `archbench serve …` started for a test, on free ports, with the ports and pids it announced.
final class ServerUnderTest {
    let process: RunningProcess
    let port: Int
    let wsPort: Int

    /// Starts `archbench serve ARGS` and waits for its "listening on" line.
    init(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        process = try RunningProcess(BuiltProducts.archbench, ["serve"] + arguments)
        let architecture = arguments[0]
        guard process.waitForStderr(containing: "\(architecture) listening on", timeout: 60) else {
            let result = process.finish(timeout: 5)
            throw TestClientError.system("archbench serve \(arguments.joined(separator: " ")) did not start: \(result.stderr)")
        }
        let announcement = process.stderrSoFar.components(separatedBy: "\n")
            .first { $0.contains("\(architecture) listening on") } ?? ""
        port = Self.number(in: announcement, after: "listening on 127.0.0.1:") ?? 0
        wsPort = Self.number(in: announcement, after: "ws://127.0.0.1:") ?? 0
    }

    static func number(in text: String, after marker: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    var pid: Int32 { process.pid }

    func client(timeout: Double = 10) -> HTTPTestClient { HTTPTestClient(port: port, timeout: timeout) }

    /// The live (not zombie) descendants of the server process, with their command lines.
    func liveDescendants() -> [(entry: ProcessEntry, cmdline: String)] {
        ProcessTable.descendants(of: [pid]).filter { $0.state != "Z" && $0.state != "X" }.map { ($0, cmdline($0.pid)) }
    }

    /// The pid of the live child serving `service`.
    func servicePid(_ service: String) -> Int32? {
        liveDescendants().first { $0.cmdline.contains("serve service \(service) ") }?.entry.pid
    }

    /// Stops the server with `signal` and returns how it ended.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, timeout: Double = 20) -> ProcessResult {
        if process.process.isRunning { kill(pid, signal) }
        return process.finish(timeout: timeout)
    }
}

func cmdline(_ pid: Int32) -> String {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
    return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
}

/// Whether `pid` is a running process (a zombie waiting to be reaped is not).
func isAlive(_ pid: Int32) -> Bool {
    guard let entry = ProcessTable.entry(pid: pid) else { return false }
    return entry.state != "Z" && entry.state != "X"
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// VmRSS of `pid`, in bytes.
func residentBytes(_ pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
    }
    return nil
}

/// Monotonic seconds.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
