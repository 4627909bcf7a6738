import ArchbenchCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

/// A child process with pipes for stdin, stdout and stderr, for tests that interact with it.
public final class RunningProcess: @unchecked Sendable {
    public let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()
    private var endsOfFile = 0

    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            lock.withLock { stdoutData.append(data) }
            if data.isEmpty { handle.readabilityHandler = nil; lock.withLock { endsOfFile += 1 } }
        }
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            lock.withLock { stderrData.append(data) }
            if data.isEmpty { handle.readabilityHandler = nil; lock.withLock { endsOfFile += 1 } }
        }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var stderrSoFar: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }
    public var stdoutSoFar: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }

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
            if !process.isRunning { return output().contains(text) }
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
        var received = lock.withLock { stdoutData.count + stderrData.count }
        var lastProgress = Date()
        while lock.withLock({ endsOfFile < 2 }) && Date().timeIntervalSince(lastProgress) < 10 {
            usleep(10_000)
            let now = lock.withLock { stdoutData.count + stderrData.count }
            if now != received { received = now; lastProgress = Date() }
        }
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        stderrPipe.fileHandleForReading.readabilityHandler = nil
        return lock.withLock {
            ProcessResult(status: process.terminationStatus,
                          stdout: String(decoding: stdoutData, as: UTF8.self),
                          stderr: String(decoding: stderrData, as: UTF8.self))
        }
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
