import ArchbenchCore
import Foundation
import Load
@testable import Suite
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `ArchitectureSession.waitReady`: it ends within about a second of `ready_timeout_s` whatever the
/// port does, says which URL did not accept, and stops at once when interrupted. Loopback only.
final class ReadinessTests: XCTestCase {
    /// A port nothing listens on refuses at once: the wait ends at its deadline, naming base_url.
    func testRefusedPortFailsAtTheDeadline() throws {
        let port = try freeLoopbackPort()
        let spec = Self.spec(base: port, websocket: port, timeout: 0.3)
        let (error, elapsed) = Self.wait(spec)
        XCTAssertEqual(error?.exitCode, .environment)
        XCTAssertEqual(error?.description,
                       "t: base_url http://127.0.0.1:\(port)/ did not accept connections within 0.3 s (ready_timeout_s)")
        XCTAssertGreaterThanOrEqual(elapsed, 0.3)
        XCTAssertLessThan(elapsed, 0.3 + 1.5)
    }

    /// base_url accepts (the kernel completes connections to a listener that never calls accept),
    /// websocket_url refuses: the message names websocket_url, and a whole timeout has no decimal.
    func testMessageNamesTheURLThatFailed() throws {
        // A backlog larger than the wait's ~20 attempts, whose connections stay queued unaccepted.
        let (listener, open) = try Self.listen(backlog: 1024)
        defer { close(listener) }
        let refused = try freeLoopbackPort()
        let (error, elapsed) = Self.wait(Self.spec(base: open, websocket: refused, timeout: 1))
        XCTAssertEqual(error?.description,
                       "t: websocket_url ws://127.0.0.1:\(refused)/ws did not accept connections within 1 s (ready_timeout_s)")
        XCTAssertLessThan(elapsed, 1 + 1.5)
    }

    /// Both URLs accepting: ready at once.
    func testReadyWhenBothAccept() throws {
        let (listener, port) = try Self.listen(backlog: 16)
        defer { close(listener) }
        let (error, elapsed) = Self.wait(Self.spec(base: port, websocket: port, timeout: 5))
        XCTAssertNil(error)
        XCTAssertLessThan(elapsed, 1)
    }

    /// A listener whose accept queue is full drops new SYNs, so a blocking connect would hang for the
    /// kernel's retries (~127 s); each attempt is bounded instead.
    func testSilentPortFailsWithinTheDeadline() throws {
        let (listener, port) = try Self.listen(backlog: 0)
        defer { close(listener) }
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        var silent = false
        for _ in 0..<8 {
            let (fd, connected) = Self.connect(port: port, waiting: 0.2)
            if connected {
                fillers.append(fd)
            } else {
                close(fd)
                silent = true
                break
            }
        }
        try XCTSkipUnless(silent, "the kernel completes every connection to a full listener here")
        let (error, elapsed) = Self.wait(Self.spec(base: port, websocket: port, timeout: 0.5))
        XCTAssertEqual(error?.description,
                       "t: base_url http://127.0.0.1:\(port)/ did not accept connections within 0.5 s (ready_timeout_s)")
        XCTAssertLessThan(elapsed, 0.5 + 1.5)
    }

    /// `interrupted` turning true ends a long wait at once, naming the URL it waited for.
    func testInterruptEndsTheWait() throws {
        let port = try freeLoopbackPort()
        let start = Date()
        let (error, elapsed) = Self.wait(Self.spec(base: port, websocket: port, timeout: 30),
                                         interrupted: { Date().timeIntervalSince(start) >= 0.3 })
        XCTAssertEqual(error?.exitCode, .environment)
        XCTAssertEqual(error?.description, "t: interrupted while waiting for http://127.0.0.1:\(port)/ to accept connections")
        XCTAssertLessThan(elapsed, 0.8)
    }

    func testSecondsShowOneDecimalWhenNotWhole() {
        XCTAssertEqual(ArchitectureSession.seconds(30), "30")
        XCTAssertEqual(ArchitectureSession.seconds(0.3), "0.3")
        XCTAssertEqual(ArchitectureSession.seconds(2.5), "2.5")
    }

    // MARK: Helpers

    static func spec(base: UInt16, websocket: UInt16, timeout: Double) -> ArchitectureSpec {
        ArchitectureSpec(name: "t", baseURL: LoadTarget(host: "127.0.0.1", port: base, path: "/"),
                         websocketURL: LoadTarget(host: "127.0.0.1", port: websocket, path: "/ws", websocket: true),
                         connectionPoolSize: 1, readyTimeout: timeout)
    }

    /// The error `waitReady` threw (nil when ready) and the seconds it took.
    static func wait(_ spec: ArchitectureSpec, interrupted: () -> Bool = { false }) -> (ArchbenchError?, Double) {
        let start = Date()
        do {
            try ArchitectureSession.waitReady(spec, timeout: spec.readyTimeout, exited: { nil }, interrupted: interrupted)
            return (nil, Date().timeIntervalSince(start))
        } catch {
            return (error as? ArchbenchError, Date().timeIntervalSince(start))
        }
    }

    /// A socket listening on 127.0.0.1 (an ephemeral port) that never accepts.
    static func listen(backlog: Int32) throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && Glibc.listen(fd, backlog) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// A non-blocking connect to 127.0.0.1:port, waited on for `seconds`: the socket and whether it connected.
    static func connect(port: UInt16, waiting seconds: Double) -> (Int32, Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = Self.loopback(port: port)
        let started = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if started == 0 { return (fd, true) }
        guard errno == EINPROGRESS else { return (fd, false) }
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&descriptor, 1, Int32(seconds * 1000)) == 1 else { return (fd, false) }
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return (fd, getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) == 0 && failure == 0)
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
