import ArchbenchCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// Where the build put the executables the tests drive.
public enum BuiltProducts {
    /// The directory of the running test bundle, which SwiftPM shares with every product it built.
    public static let directory: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }()

    /// Tests/Helpers/ab-testhelper: a C program with exactly known syscalls.
    public static var helper: String { directory.appending(path: "ab-testhelper").path }
    public static var archbench: String { directory.appending(path: "archbench").path }
}

public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// What one of a child's pipes has delivered, read by a thread of its own with plain blocking reads
/// until the end of the pipe. (Foundation's readability handlers were tried: under load, the last
/// chunk and the end of the pipe were at times never reported, truncating a child's JSON.)
private final class PipeReader: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    /// Holds `handle` for as long as it reads, so that its descriptor cannot be closed and reused
    /// under a read still blocked on it (a descendant left behind keeping the pipe open).
    init(_ handle: FileHandle) {
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(handle.fileDescriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                lock.withLock { data.append(contentsOf: buffer[0..<count]) }
            }
            done.signal()
        }.start()
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    var byteCount: Int { lock.withLock { data.count } }

    /// Waits for the end of the pipe while data keeps coming; false if none came for `idle` seconds.
    func waitForEnd(idle: Double) -> Bool {
        var seen = byteCount
        while done.wait(timeout: .now() + idle) == .timedOut {
            let now = byteCount
            if now == seen { return false }
            seen = now
        }
        done.signal()
        return true
    }
}

/// A child process with pipes for stdin, stdout and stderr, for tests that interact with it.
public final class RunningProcess: @unchecked Sendable {
    public let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let stdout: PipeReader
    private let stderr: PipeReader

    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        // Process.run closes this side's copies of the write ends, so the child's exit ends the pipes.
        try process.run()
        stdout = PipeReader(stdoutPipe.fileHandleForReading)
        stderr = PipeReader(stderrPipe.fileHandleForReading)
    }

    public var pid: Int32 { process.processIdentifier }
    public var stderrSoFar: String { stderr.text }
    public var stdoutSoFar: String { stdout.text }

    public func write(_ text: String) {
        stdinPipe.fileHandleForWriting.write(Data(text.utf8))
    }

    public func closeStdin() {
        try? stdinPipe.fileHandleForWriting.close()
    }

    /// Waits until stderr contains `text`; false after `timeout` seconds.
    public func waitForStderr(containing text: String, timeout: Double = 30) -> Bool {
        wait(for: text, in: { self.stderrSoFar }, timeout: timeout)
    }

    /// Waits until stdout contains `text`; false after `timeout` seconds.
    public func waitForStdout(containing text: String, timeout: Double = 30) -> Bool {
        wait(for: text, in: { self.stdoutSoFar }, timeout: timeout)
    }

    private func wait(for text: String, in output: () -> String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output().contains(text) { return true }
            if !process.isRunning {
                _ = stdout.waitForEnd(idle: 2)
                _ = stderr.waitForEnd(idle: 2)
                return output().contains(text)
            }
            usleep(20_000)
        }
        return false
    }

    /// Waits for the exit (killing the process after `timeout` seconds) and collects its output: up
    /// to the end of both pipes, unless nothing more has come for 10 s while a descendant it left
    /// behind still holds them (waiting for that would turn a failed test into a hung one).
    public func finish(timeout: Double = 60) -> ProcessResult {
        closeStdin()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        _ = stdout.waitForEnd(idle: 10)
        _ = stderr.waitForEnd(idle: 10)
        return ProcessResult(status: process.terminationStatus, stdout: stdout.text, stderr: stderr.text)
    }
}

/// Runs a command to completion.
public func runToCompletion(_ executable: String, _ arguments: [String], timeout: Double = 120) throws -> ProcessResult {
    try RunningProcess(executable, arguments).finish(timeout: timeout)
}

/// Why a test that loads BPF programs cannot run here, or nil when it can.
public func reasonBPFTestsCannotRun() -> String? {
    // The CLI's own check, by capability: root in a container without CAP_BPF skips too.
    if let missing = Privileges.missingForTracing() { return "\(missing) (CI runs as root)" }
    if !FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") {
        return "this kernel has no BTF (/sys/kernel/btf/vmlinux)"
    }
    return nil
}

extension XCTestCase {
    /// A new, empty directory under the system's temporary directory, named `PREFIX-UUID`, removed
    /// with everything in it when the test ends, whether it passed or not.
    public func temporaryDirectory(_ prefix: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appending(path: "\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }
}

/// The names in `directory`, sorted; none when it cannot be read.
public func files(in directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}

/// The reference backends of this build alive now: `serve` processes whose executable is this
/// build's archbench, and their children (the services keep their parent's executable but not its
/// command line). A test takes them before and after a run: what is new was left behind.
public func referenceServers() -> Set<Int32> {
    let archbench = BuiltProducts.archbench
    let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: archbench)) ?? archbench
    var servers = Set(pids.filter { pid in
        let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
        guard exe == own || exe == archbench, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "serve" }
    })
    for pid in pids {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 1, let parent = Int32(fields[1]), servers.contains(parent) { servers.insert(pid) }
    }
    return servers
}

/// A pid that belonged to a process which has exited and been reaped.
public func deadPid() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
}

/// BPF links in the kernel whose program name starts with "ab_" (every archbench program's prefix),
/// as bpftool lists them. Nil when bpftool is not installed.
public func archbenchLinksInKernel() throws -> Int? {
    let bpftool = ["/usr/sbin/bpftool", "/sbin/bpftool", "/usr/bin/bpftool"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let bpftool else { return nil }
    func json(_ args: [String]) throws -> [[String: Any]] {
        let result = try runToCompletion(bpftool, ["-j"] + args)
        let data = Data(result.stdout.utf8)
        return (try JSONSerialization.jsonObject(with: data) as? [[String: Any]]) ?? []
    }
    let ourPrograms = Set(try json(["prog", "list"]).compactMap { prog -> Int? in
        guard let name = prog["name"] as? String, name.hasPrefix("ab_") else { return nil }
        return prog["id"] as? Int
    })
    return try json(["link", "list"]).filter { link in
        (link["prog_id"] as? Int).map(ourPrograms.contains) ?? false
    }.count
}

/// Tests/Helpers/ab-testserver on an ephemeral loopback port; `stop()` returns what it counted.
public final class TestServer {
    public let process: RunningProcess
    public let port: UInt16

    public init(_ arguments: [String] = []) throws {
        process = try RunningProcess(BuiltProducts.directory.appending(path: "ab-testserver").path, arguments)
        let deadline = Date().addingTimeInterval(10)
        var found: UInt16?
        while found == nil && Date() < deadline {
            found = process.stdoutSoFar.split(separator: "\n").first { $0.hasPrefix("port=") }
                .flatMap { UInt16($0.dropFirst(5)) }
            if found == nil { usleep(10_000) }
        }
        guard let found else { throw TestServerError.didNotStart(process.stderrSoFar) }
        port = found
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Stops the server (SIGTERM) and parses its counts: requests, ok, chunked, ws_messages, pongs, …
    public func stop() -> [String: Int] {
        kill(process.pid, SIGTERM)
        let output = process.finish(timeout: 10).stdout
        var counts: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { counts[String(parts[0])] = value }
        }
        return counts
    }

    deinit {
        if process.process.isRunning { kill(process.pid, SIGKILL) }
    }
}

public enum TestServerError: Error {
    case didNotStart(String)
}
