@testable import Backends
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The gateway's connection pool to one service, against a loopback server the test owns and
/// scripts, which counts the connections it accepts: the pool's limit, its connect and request
/// timeouts, and its one retry of a GET on a connection the service had closed.
final class UpstreamPoolTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!

    override func setUp() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() {
        try? group.syncShutdownGracefully()
    }

    /// A pool on the group's one event loop, where it must be used.
    private func pool(port: Int, limit: Int, requestTimeout: TimeAmount = UpstreamPool.defaultRequestTimeout)
        throws -> (EventLoop, NIOLoopBound<UpstreamPool>) {
        let loop = group.next()
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let bound = try loop.submit {
            NIOLoopBound(UpstreamPool(service: .users, address: address, eventLoop: loop, limit: limit,
                                      requestTimeout: requestTimeout), eventLoop: loop)
        }.wait()
        return (loop, bound)
    }

    private func send(_ method: HTTPMethod, _ uri: String, on pool: (EventLoop, NIOLoopBound<UpstreamPool>))
        -> EventLoopFuture<UpstreamResponse> {
        pool.0.flatSubmit { pool.1.value.send(BackendRequest(method: method, uri: uri)) }
    }

    func testConcurrentRequestsBeyondTheLimitShareLimitConnections() throws {
        // Slow enough answers that all the requests are in flight together.
        let server = try ScriptedUpstream { _, _ in .answer(delayMs: 20) }
        defer { server.stop() }
        let pool = try pool(port: server.port, limit: 3)
        let futures = (0..<12).map { send(.GET, "/r/\($0)", on: pool) }
        for (index, future) in futures.enumerated() {
            let response = try XCTUnwrap(outcome(future, within: 10), "request \(index) got no answer within 10 s").get()
            XCTAssertEqual(response.status, .ok)
        }
        XCTAssertEqual(server.accepted, 3, "never more connections than the limit")
        XCTAssertEqual(server.mostOpenAtOnce, 3, "and all three used at once")
        XCTAssertEqual(server.requests, 12, "every request sent once")
    }

    func testAServiceThatNeverAnswersFailsTheRequestAtItsTimeout() throws {
        // Answers only long after the pool's timeout.
        let server = try ScriptedUpstream { _, _ in .answer(delayMs: 3000) }
        defer { server.stop() }
        let timeout = 0.3
        let pool = try pool(port: server.port, limit: 1, requestTimeout: .milliseconds(Int64(timeout * 1000)))
        let start = now()
        let result = try XCTUnwrap(outcome(send(.GET, "/slow", on: pool), within: timeout + 2),
                                   "no failure within \(timeout + 2) s: the request timeout did not apply")
        let elapsed = now() - start
        XCTAssertThrowsError(try result.get()) { error in
            guard case UpstreamError.timedOut = error else { return XCTFail("expected a timeout, got \(error)") }
        }
        XCTAssertGreaterThanOrEqual(elapsed, timeout - 0.01, "failed before the timeout")
        XCTAssertEqual(server.requests, 1, "a timed-out request is not retried")
    }

    func testAGETOnAConnectionTheServiceClosedIsRetriedOnceOnAFreshOne() throws {
        // The first connection answers once, then hangs up on the next request (a restarted service);
        // the second hangs up too, so the retry cannot be retried.
        let server = try ScriptedUpstream { connection, request in
            connection == 0 && request == 0 ? .answer(delayMs: 0) : (connection == 1 && request == 0 ? .answer(delayMs: 0) : .close)
        }
        defer { server.stop() }
        // One connection at most, so that every connection the server sees is one the pool needed.
        let pool = try pool(port: server.port, limit: 1)
        let first = try XCTUnwrap(outcome(send(.GET, "/a", on: pool), within: 5)).get()
        XCTAssertEqual(String(buffer: first.body), "connection 0 request 0")
        let second = try XCTUnwrap(outcome(send(.GET, "/b", on: pool), within: 5)).get()
        XCTAssertEqual(String(buffer: second.body), "connection 1 request 0", "answered on a fresh connection")
        XCTAssertEqual(server.accepted, 2)
        XCTAssertEqual(server.requests, 3, "the GET sent twice: on the closed connection, then on the fresh one")

        // The fresh connection is reused, hangs up too, and the request is retried once on a third one,
        // which hangs up at once: no fourth try.
        let third = try XCTUnwrap(outcome(send(.GET, "/c", on: pool), within: 5))
        XCTAssertThrowsError(try third.get()) { error in
            guard case UpstreamError.closed = error else { return XCTFail("\(error)") }
        }
        usleep(200_000)
        XCTAssertEqual(server.accepted, 3, "one fresh connection for the retry, no more")
        XCTAssertEqual(server.requests, 5)
    }

    func testAPOSTOnAConnectionTheServiceClosedIsNotRetried() throws {
        let server = try ScriptedUpstream { connection, request in connection == 0 && request == 0 ? .answer(delayMs: 0) : .close }
        defer { server.stop() }
        let pool = try pool(port: server.port, limit: 1)
        XCTAssertEqual(try XCTUnwrap(outcome(send(.POST, "/orders", on: pool), within: 5)).get().status, .ok)
        let second = try XCTUnwrap(outcome(send(.POST, "/orders", on: pool), within: 5))
        XCTAssertThrowsError(try second.get()) { error in
            guard case UpstreamError.closed = error else { return XCTFail("\(error)") }
        }
        // Give a wrongful retry the time to connect.
        usleep(200_000)
        XCTAssertEqual(server.accepted, 1, "the service may have acted on it: never sent twice")
        XCTAssertEqual(server.requests, 2)
    }

    func testAServiceThatNeverCompletesTheHandshakeFailsWithinTheConnectTimeout() throws {
        // A listener whose accept queue is full and that never accepts: the kernel drops further SYNs,
        // so a connect neither succeeds nor is refused.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        let port = try bindLoopback(listener, backlog: 0)
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<3 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            fillers.append(fd)
            var address = loopback(port: port)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            usleep(50_000)
        }
        var last = pollfd(fd: fillers.last!, events: Int16(POLLOUT), revents: 0)
        XCTAssertEqual(poll(&last, 1, 200), 0, "precondition: the listener's queue should be full, so a connect hangs")

        let limit = Double(UpstreamPool.connectTimeout.nanoseconds) / 1e9
        let pool = try pool(port: port, limit: 2)
        let start = now()
        let result = try XCTUnwrap(outcome(send(.GET, "/a", on: pool), within: limit + 3),
                                   "no failure within \(limit + 3) s: the connect timeout did not apply")
        let elapsed = now() - start
        XCTAssertThrowsError(try result.get()) { error in
            guard case UpstreamError.connect(let inner) = error, case .connectTimeout? = inner as? ChannelError else {
                return XCTFail("expected a connect timeout, got \(error)")
            }
            XCTAssertTrue("\(error)".hasPrefix("connect: "), "\(error)")
        }
        XCTAssertGreaterThanOrEqual(elapsed, limit - 0.05, "failed before the connect timeout")
        XCTAssertLessThanOrEqual(elapsed, limit + 3)
    }
}

/// Waits up to `seconds` for `future`; nil when it has not completed by then.
private func outcome<T: Sendable>(_ future: EventLoopFuture<T>, within seconds: Double) -> Result<T, any Error>? {
    let box = OutcomeBox<T>()
    future.whenComplete { box.set($0) }
    return box.wait(seconds)
}

private final class OutcomeBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var value: Result<T, any Error>?

    func set(_ result: Result<T, any Error>) {
        lock.withLock { value = result }
        done.signal()
    }

    func wait(_ seconds: Double) -> Result<T, any Error>? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return lock.withLock { value }
    }
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return address
}

/// Binds `fd` to a free loopback port and listens; returns the port.
private func bindLoopback(_ fd: Int32, backlog: Int32) throws -> Int {
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard fd >= 0, bound else { throw TestClientError.system("bind: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A loopback HTTP/1.1 server whose every answer the test decides, by connection (in accept order)
/// and request (in order on that connection), counting what it accepts and receives.
final class ScriptedUpstream: @unchecked Sendable {
    enum Action: Sendable {
        /// A keep-alive 200 whose body names the connection and request, after `delayMs`.
        case answer(delayMs: Int)
        /// Hang up without answering.
        case close
    }

    let port: Int
    private let listener: Int32
    private let script: @Sendable (_ connection: Int, _ request: Int) -> Action
    private let lock = NSLock()
    private var stopping = false
    private var acceptedCount = 0
    private var requestCount = 0
    private var openNow = 0
    private var openMost = 0
    private let acceptorDone = DispatchSemaphore(value: 0)

    var accepted: Int { lock.withLock { acceptedCount } }
    var requests: Int { lock.withLock { requestCount } }
    var mostOpenAtOnce: Int { lock.withLock { openMost } }

    init(script: @escaping @Sendable (_ connection: Int, _ request: Int) -> Action) throws {
        self.script = script
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        port = try bindLoopback(listener, backlog: 64)
        Thread { [self] in acceptLoop() }.start()
    }

    func stop() {
        lock.withLock { stopping = true }
        acceptorDone.wait()
        close(listener)
    }

    private func acceptLoop() {
        defer { acceptorDone.signal() }
        while !lock.withLock({ stopping }) {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 50) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            let index = lock.withLock {
                acceptedCount += 1
                openNow += 1
                openMost = max(openMost, openNow)
                return acceptedCount - 1
            }
            Thread { [self] in serve(fd, connection: index) }.start()
        }
    }

    private func serve(_ fd: Int32, connection: Int) {
        defer {
            close(fd)
            lock.withLock { openNow -= 1 }
        }
        // Bounded: a client that neither sends nor closes cannot keep the thread forever.
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var request = 0
        while true {
            // One request: the head, then content-length bytes of body.
            guard let headEnd = readUntilHeadEnd(fd, &buffer, &chunk) else { return }
            let head = String(decoding: buffer[..<headEnd], as: UTF8.self).lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            while buffer.count < headEnd + 4 + length {
                let got = read(fd, &chunk, chunk.count)
                guard got > 0 else { return }
                buffer += chunk[..<got]
            }
            buffer.removeFirst(headEnd + 4 + length)
            lock.withLock { requestCount += 1 }
            switch script(connection, request) {
            case .close:
                return
            case .answer(let delayMs):
                if delayMs > 0 { usleep(UInt32(delayMs) * 1000) }
                let body = "connection \(connection) request \(request)"
                let response = Array(("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: \(body.utf8.count)\r\n"
                    + "connection: keep-alive\r\n\r\n" + body).utf8)
                guard response.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == response.count else { return }
            }
            request += 1
        }
    }

    /// Reads until `buffer` holds a whole request head; the index of its "\r\n\r\n", or nil on EOF.
    private func readUntilHeadEnd(_ fd: Int32, _ buffer: inout [UInt8], _ chunk: inout [UInt8]) -> Int? {
        let terminator: [UInt8] = [13, 10, 13, 10]
        while true {
            if buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == terminator }) {
                return end
            }
            let got = read(fd, &chunk, chunk.count)
            guard got > 0 else { return nil }
            buffer += chunk[..<got]
        }
    }
}
