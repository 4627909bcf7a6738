import ArchbenchCore
import CProcess
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Starts the services of the microservices set as child processes of the gateway, restarts those
/// that die, and takes them all down with it.
///
/// - Each service is this same executable, re-executed as `archbench serve service NAME`, started by
///   `ab_parent_death__spawn`: it gets SIGKILL when the gateway's main thread dies, however it dies
///   (SIGKILL included), so no service outlives the gateway. Everything here runs on the main thread,
///   which lives as long as the process: PR_SET_PDEATHSIG follows the thread that forked.
/// - A service says it is ready by writing `ready PORT` on descriptor 3 (a pipe), or
///   `error CODE MESSAGE` when it cannot start (a port in use: code 3).
/// - A service that dies is marked down (the gateway answers 502 naming it) and restarted on the same
///   port after a back-off of 0.5 s, doubling with each death within a minute, up to 8 s. After
///   `crashLimit` deaths within a minute the gateway gives up and exits (code 3).
final class Supervisor {
    static let crashLimit = 5
    static let crashWindow = Duration.seconds(60)
    static let readyTimeout = Duration.seconds(20)
    static let stopGrace = Duration.seconds(5)

    struct Child {
        let service: ServiceName
        let arguments: [String]
        var port: Int
        var pid: pid_t?
        var deaths: [ContinuousClock.Instant] = []
        var restartAt: ContinuousClock.Instant?
    }

    private let executable: String
    private let log: (String) -> Void
    private let onStateChange: (ServiceName, _ up: Bool) -> Void
    private(set) var children: [ServiceName: Child] = [:]

    init(log: @escaping (String) -> Void, onStateChange: @escaping (ServiceName, Bool) -> Void) {
        executable = ProcessTable.ownExecutable()
        self.log = log
        self.onStateChange = onStateChange
    }

    var pids: [ServiceName: pid_t] { children.compactMapValues(\.pid) }

    /// Starts `service` (`port` 0: any free port) and waits until it listens; returns its port.
    @discardableResult
    func start(_ service: ServiceName, port: Int, arguments: [String]) throws(BackendError) -> Int {
        var child = Child(service: service, arguments: arguments, port: port)
        let (pid, bound) = try spawn(child)
        child.pid = pid
        child.port = bound
        children[service] = child
        return bound
    }

    /// Runs until SIGTERM or SIGINT, which it returns, reaping and restarting services meanwhile.
    /// Throws when a service crash-loops.
    func supervise() throws(BackendError) -> Int32 {
        while true {
            if let signal = Signals.wait(timeout: .milliseconds(100)), signal != SIGCHLD {
                return signal
            }
            try reap()
            try restartDue()
        }
    }

    /// Passes `signal` on to every service, waits for them (SIGKILL after `stopGrace`) and reaps them.
    func stopAll(forwarding signal: Int32) {
        let live = children.values.compactMap(\.pid)
        for pid in live { kill(pid, signal) }
        let deadline = ContinuousClock.now + Self.stopGrace
        var left = Set(live)
        while !left.isEmpty {
            for pid in left where waitpid(pid, nil, WNOHANG) != 0 { left.remove(pid) }
            if left.isEmpty { break }
            if ContinuousClock.now >= deadline {
                for pid in left {
                    kill(pid, SIGKILL)
                    waitpid(pid, nil, 0)
                }
                break
            }
            usleep(5_000)
        }
        for service in children.keys { children[service]?.pid = nil }
    }

    private func reap() throws(BackendError) {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let service = children.values.first(where: { $0.pid == pid })?.service else { continue }
            onStateChange(service, false)
            try died(service, "(pid \(pid)) \(Self.describe(status))")
        }
    }

    private func restartDue() throws(BackendError) {
        let now = ContinuousClock.now
        for child in children.values {
            guard let due = child.restartAt, due <= now else { continue }
            do {
                let (pid, _) = try spawn(child)
                children[child.service]!.pid = pid
                children[child.service]!.restartAt = nil
                onStateChange(child.service, true)
                log("service \(child.service.rawValue) restarted (pid \(pid), port \(child.port))")
            } catch {
                try died(child.service, "did not restart: \(error)")
            }
        }
    }

    /// Counts a death (a crash, or a restart that failed) and schedules the restart, or gives up.
    private func died(_ service: ServiceName, _ why: String) throws(BackendError) {
        let now = ContinuousClock.now
        var child = children[service]!
        child.pid = nil
        child.deaths = child.deaths.filter { now - $0 < Self.crashWindow } + [now]
        children[service] = child
        guard child.deaths.count < Self.crashLimit else {
            log("service \(service.rawValue) \(why)")
            throw .serviceCrashLoop(service, crashes: child.deaths.count, seconds: Int(Self.crashWindow.components.seconds))
        }
        let backoff = Duration.milliseconds(min(500 << (child.deaths.count - 1), 8_000))
        children[service]!.restartAt = now + backoff
        log("service \(service.rawValue) \(why); restarting it in \(backoff)")
    }

    /// Forks and execs the service; reads its ready line.
    private func spawn(_ child: Child) throws(BackendError) -> (pid_t, Int) {
        var fds: [Int32] = [-1, -1]
        // Close-on-exec, so no other child inherits it; only this thread forks, so no race with
        // setting the flag after pipe().
        guard pipe(&fds) == 0, fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0 else {
            throw .system("cannot start service \(child.service.rawValue): pipe: \(String(cString: strerror(errno)))")
        }
        let argv = ["archbench", "serve", "service", child.service.rawValue, "--port", "\(child.port)", "--ready-fd", "3"]
            + child.arguments
        var pid: pid_t = 0
        let result = withCStringArray(argv) { ab_parent_death__spawn(executable, $0, fds[1], &pid) }
        close(fds[1])
        defer { close(fds[0]) }
        if result < 0 {
            if pid > 0 { waitpid(pid, nil, 0) }
            throw .system("cannot start service \(child.service.rawValue) from \(executable): \(String(cString: strerror(-result)))")
        }
        let line = Self.readLine(fds[0], timeout: Self.readyTimeout)
        let words = line?.split(separator: " ", maxSplits: 2).map(String.init) ?? []
        if words.count == 2, words[0] == "ready", let port = Int(words[1]) {
            return (pid, port)
        }
        // It failed, or is stuck: make sure it is gone, and say why.
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        if words.count == 3, words[0] == "error", let code = Int32(words[1]) {
            throw .serviceFailedToStart(child.service, exitCode: ArchbenchExitCode(rawValue: code) ?? .environment,
                                        message: words[2])
        }
        let why = line == nil ? "it did not say it was ready within \(Self.readyTimeout)" : "it said \"\(line!)\""
        throw .serviceFailedToStart(child.service, exitCode: .environment, message: "\(why); it \(Self.describe(status))")
    }

    /// One line from `fd`, or nil on EOF or timeout.
    static func readLine(_ fd: Int32, timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let millis = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            let ready = poll(&poller, 1, max(millis, 1))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "was killed by \(signalName(signal))"
    }
}

/// Runs `body` with `strings` as a NULL-terminated C array of C strings.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
