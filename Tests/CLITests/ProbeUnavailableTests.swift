import ArchbenchCore
import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `archbench run` where the probes cannot run — not root, no BTF, bpf() refused by the kernel:
/// the probes are skipped with one line naming what is missing, the client-side results are
/// complete and the exit code is the gate's; with `--require-probes` it is 3 before anything runs.
/// None of these runs can load a BPF program: the check, the missing BTF file or the seccomp
/// filter stops it first, so they are safe beside probed runs.
final class ProbeUnavailableTests: XCTestCase {
    let archbench = BuiltProducts.archbench
    static let benchmarks = ["training_throughput", "websocket_latency", "api_response_times", "memory_usage", "concurrent_handling"]
    /// The shortest complete run: one round of 1 s, at the lightest profile's fixed low rate.
    static let short = ["--workload", "low_latency", "--duration", "1", "--rounds", "1", "--no-visualizations"]
    static let nobody: uid_t = 65534
    static let asNobody = ["/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"]

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        var lines: [Substring] { (stdout + "\n" + stderr).split(separator: "\n") }
    }

    private func temporaryDirectory(owner: uid_t? = nil) throws -> URL {
        let directory = try temporaryDirectory("ab-noprobe")
        if let owner {
            XCTAssertEqual(chown(directory.path, owner, gid_t(owner)), 0, "chown \(directory.path): \(String(cString: strerror(errno)))")
        }
        return directory
    }

    /// Runs `wrapper + [archbench] + arguments`; the wrappers exec it, so the pid is archbench's.
    private func run(_ arguments: [String], under wrapper: [String] = [], in directory: URL, timeout: Double = 120) throws -> Run {
        try execute(wrapper + [archbench] + arguments, in: directory, timeout: timeout)
    }

    /// Runs `argv`, killed after `timeout` s. SUDO_* are left out: under sudo the embedded default's
    /// targets would run as that user, which is not what these tests are about. posix_spawn and
    /// waitpid rather than Foundation's Process, which takes a child for running until every
    /// process that inherited its status socket has closed it: a backend left behind would hang the
    /// test instead of failing it. Output goes to files for the same reason.
    private func execute(_ argv: [String], in directory: URL, timeout: Double) throws -> Run {
        let out = directory.appending(path: "stdout-\(UUID().uuidString)"), err = directory.appending(path: "stderr-\(UUID().uuidString)")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SUDO_") }.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawned = Self.withCStrings(argv) { arguments in
            Self.withCStrings(environment) { posix_spawn(&pid, argv[0], &actions, nil, arguments, $0) }
        }
        guard spawned == 0 else { throw SpawnError(program: argv[0], errno: spawned) }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped == -1 && errno != EINTR { throw SpawnError(program: argv[0], errno: errno) }
            if Date() >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                break
            }
            usleep(20_000)
        }
        // The wait status: the exit code in bits 8-15, or the signal in bits 0-6 (as 128 + it).
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Run(status: code, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    struct SpawnError: Error, CustomStringConvertible {
        let program: String
        let errno: Int32
        var description: String { "cannot run or wait for \(program): \(String(cString: strerror(errno)))" }
    }

    /// `strings` as the NULL-terminated array of C strings that exec takes, for the call only.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }

    private func requirePrivileges() throws {
        if let missing = Privileges.missingForTracing() { throw XCTSkip("the kernel would refuse for another reason first: \(missing)") }
    }

    /// Root, setpriv, and a build uid 65534 can execute (one under /root is not).
    private func requireNobody(in directory: URL) throws {
        guard geteuid() == 0 else { throw XCTSkip("becoming uid 65534 needs root (uid \(geteuid()))") }
        guard FileManager.default.isExecutableFile(atPath: Self.asNobody[0]) else { throw XCTSkip("setpriv (util-linux) is not installed") }
        let help = try run(["--help"], under: Self.asNobody, in: directory, timeout: 30)
        if help.status != 0 {
            throw XCTSkip("uid 65534 cannot run \(archbench) (every directory above it must be searchable by others): \(help.stderr)")
        }
    }

    /// The one wrapper under which the kernel refuses bpf(), checked before archbench runs under
    /// it: were the filter missing, archbench would load its probes.
    private func denyBPF(in directory: URL) throws -> [String] {
        #if arch(x86_64)
        let wrapper = [BuiltProducts.helper, "deny-bpf", "--"]
        let status = try execute(wrapper + ["/bin/grep", "-E", "^(Seccomp|NoNewPrivs):", "/proc/self/status"], in: directory, timeout: 10)
        let fields = status.stdout.split(separator: "\n").map { $0.split(whereSeparator: { $0 == ":" || $0 == "\t" }).joined(separator: " ") }
        guard fields.contains("Seccomp 2"), fields.contains("NoNewPrivs 1") else {
            throw XCTSkip("this kernel installs no seccomp filter (exit \(status.status)): \(status.stdout)\(status.stderr)")
        }
        return wrapper
        #else
        throw XCTSkip("ab-testhelper deny-bpf filters x86_64 syscall numbers only")
        #endif
    }

    /// A run that went on without probes: each of `naming` in the one skip line, every benchmark on both
    /// architectures with requests answered, the gate's exit code and reason, nothing left running.
    private func assertSkippedButComplete(_ result: Run, naming: [String], results: URL, before: Set<Int32>,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let output = "exit \(result.status)\n\(result.stdout)\n\(result.stderr)"
        XCTAssertTrue([0, 1].contains(result.status), output, file: file, line: line)
        let skipped = result.lines.filter { $0.contains("probes: skipped") }
        XCTAssertEqual(skipped.count, 1, "one line says the probes are skipped: \(skipped)", file: file, line: line)
        if let skip = skipped.first {
            XCTAssertTrue(skip.hasPrefix("probes: skipped (") && skip.hasSuffix("); the client-side results are complete"),
                          "the reason is on that line: \(skip)", file: file, line: line)
            for text in naming { XCTAssertTrue(skip.contains(text), "it names \"\(text)\": \(skip)", file: file, line: line) }
        }
        XCTAssertTrue(result.stdout.contains("🎯 BENCHMARK EXECUTION SUMMARY"), output, file: file, line: line)
        // The run's header says what the run did, after the kernel's answer.
        let header = result.lines.filter { $0.contains("per architecture; probes: ") }
        XCTAssertEqual(header.count, 1, output, file: file, line: line)
        XCTAssertTrue(header.first?.hasSuffix("probes: off") ?? false, "\(header)", file: file, line: line)

        let names = try FileManager.default.contentsOfDirectory(atPath: results.path)
        XCTAssertFalse(names.contains { $0.hasSuffix(".tmp") }, "no temporary file left: \(names)", file: file, line: line)
        XCTAssertTrue(names.contains { $0.hasPrefix("execution_summary_") }, "\(names)", file: file, line: line)
        let name = try XCTUnwrap(names.first { $0.hasPrefix("comprehensive_results_") }, "\(names)", file: file, line: line)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: results.appending(path: name))) as? [String: Any],
                                 file: file, line: line)
        XCTAssertEqual(json["probes"] as? String, "off", file: file, line: line)
        XCTAssertEqual((json["kernel"] as? [String: Any])?.count, 0, "no kernel view without probes", file: file, line: line)
        XCTAssertEqual((json["failures"] as? [Any])?.count, 0, "\(json["failures"] ?? "")", file: file, line: line)
        XCTAssertEqual(json["exit_code"] as? Int, Int(result.status), file: file, line: line)
        let reason = json["exit_reason"] as? String ?? ""
        XCTAssertFalse(reason.lowercased().contains("probe"), "the probes play no part in the exit code: \(reason)", file: file, line: line)
        XCTAssertTrue(result.status == 0 ? reason.hasPrefix("no critical check") : reason.contains("critical"),
                      "the gate's reason for exit \(result.status): \(reason)", file: file, line: line)
        let figures = try XCTUnwrap(json["results"] as? [String: [String: [String: Any]]], file: file, line: line)
        var unanswered: [String] = []
        for architecture in ["monolithic", "microservices"] {
            XCTAssertEqual(Set(figures[architecture]?.keys ?? [:].keys), Set(Self.benchmarks), architecture, file: file, line: line)
            for benchmark in Self.benchmarks {
                let figure = figures[architecture]?[benchmark] ?? [:]
                let throughput = figure["throughput"] as? Double ?? 0, success = figure["success_rate"] as? Double ?? 0
                if throughput <= 0 || success <= 0.5 { unanswered.append("\(architecture) \(benchmark): \(throughput)/s, success \(success)") }
            }
        }
        XCTAssertEqual(unanswered, [], "every benchmark answered (throughput > 0, success rate > 50%)", file: file, line: line)
        assertNothingLeft(before: before, file: file, line: line)
    }

    /// A run refused before anything runs: exit 3, one error line holding each of `naming`, no benchmark
    /// started, no results file, nothing left running.
    private func assertRefused(_ result: Run, naming: [String], results: URL, before: Set<Int32>,
                               file: StaticString = #filePath, line: UInt = #line) {
        let output = "exit \(result.status)\n\(result.stdout)\n\(result.stderr)"
        XCTAssertEqual(result.status, 3, output, file: file, line: line)
        let errors = result.stderr.split(separator: "\n")
        XCTAssertEqual(errors.count, 1, "one line: \(errors)", file: file, line: line)
        XCTAssertTrue(errors.first?.hasPrefix("archbench: error: ") ?? false, output, file: file, line: line)
        for text in naming {
            XCTAssertTrue(errors.first?.contains(text) ?? false, "it names \"\(text)\": \(output)", file: file, line: line)
        }
        XCTAssertFalse(result.lines.contains { $0.contains("probes: skipped") }, output, file: file, line: line)
        XCTAssertFalse(result.stdout.contains("Running"), "no benchmark ran: \(output)", file: file, line: line)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: results.path)) ?? []
        XCTAssertFalse(names.contains { $0.hasPrefix("comprehensive_results_") || $0.hasPrefix("execution_summary_") },
                       "no results file: \(names)", file: file, line: line)
        XCTAssertFalse(names.contains("history.sqlite"), "no history created: \(names)", file: file, line: line)
        assertNothingLeft(before: before, file: file, line: line)
    }

    /// No backend of this build started since `before` is alive; one that is fails the test and is
    /// killed, so that it holds no port or pipe past it.
    private func assertNothingLeft(before: Set<Int32>, file: StaticString, line: UInt) {
        let left = referenceServers().subtracting(before)
        XCTAssertEqual(left, [], "the spawned backends are stopped", file: file, line: line)
        left.forEach { kill($0, SIGKILL) }
    }

    // MARK: - Not root

    func testNotRootSkipsTheProbesInOneLineAndTheClientSideResultsAreComplete() throws {
        let directory = try temporaryDirectory(owner: Self.nobody)
        try requireNobody(in: directory)
        let results = directory.appending(path: "results")
        let before = referenceServers()
        let result = try run(["run"] + Self.short + ["--results-dir", results.path], under: Self.asNobody, in: directory)
        try assertSkippedButComplete(result, naming: ["this process (uid 65534) lacks CAP_BPF and CAP_PERFMON"], results: results, before: before)
    }

    func testNotRootWithRequireProbesExits3NamingTheMissingPrivilegeBeforeAnythingRuns() throws {
        let directory = try temporaryDirectory(owner: Self.nobody)
        try requireNobody(in: directory)
        let results = directory.appending(path: "results")
        let before = referenceServers()
        let result = try run(["run", "--require-probes"] + Self.short + ["--results-dir", results.path], under: Self.asNobody, in: directory)
        assertRefused(result, naming: ["probes required but unavailable: loading BPF probes needs root, or CAP_BPF + CAP_PERFMON;"
                      + " this process (uid 65534) lacks CAP_BPF and CAP_PERFMON"], results: results, before: before)
    }

    // MARK: - No BTF

    func testNoBTFSkipsTheProbesInOneLineNamingTheFileAndTheClientSideResultsAreComplete() throws {
        try requirePrivileges()
        let directory = try temporaryDirectory()
        let results = directory.appending(path: "results")
        let before = referenceServers()
        let result = try run(["run", "--btf", "/nonexistent/vmlinux"] + Self.short + ["--results-dir", results.path], in: directory)
        try assertSkippedButComplete(result, naming: ["no BTF file at /nonexistent/vmlinux, given by --btf"], results: results,
                                     before: before)
    }

    func testNoBTFWithRequireProbesExits3NamingTheFileBeforeAnythingRuns() throws {
        try requirePrivileges()
        let directory = try temporaryDirectory()
        let results = directory.appending(path: "results")
        let before = referenceServers()
        let result = try run(["run", "--require-probes", "--btf", "/nonexistent/vmlinux"] + Self.short + ["--results-dir", results.path],
                             in: directory)
        assertRefused(result, naming: ["probes required but unavailable: no BTF file at /nonexistent/vmlinux, given by --btf"], results: results, before: before)
    }

    // MARK: - bpf() refused

    /// Root with every capability, and a kernel with BTF: only the seccomp filter stands in the
    /// way, found by asking the kernel for a map before anything runs.
    func testBPFRefusedSkipsTheProbesInOneLineNamingTheRefusalAndTheClientSideResultsAreComplete() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip("the kernel would refuse for another reason first: \(reason)") }
        let directory = try temporaryDirectory()
        let wrapper = try denyBPF(in: directory)
        let results = directory.appending(path: "results")
        let before = referenceServers()
        let result = try run(["run"] + Self.short + ["--results-dir", results.path], under: wrapper, in: directory)
        try assertSkippedButComplete(result, naming: ["the kernel refused bpf() (EPERM) although this process has the capabilities for it"],
                                     results: results, before: before)
    }

    func testBPFRefusedWithRequireProbesExits3NamingTheRefusalBeforeAnythingRuns() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip("the kernel would refuse for another reason first: \(reason)") }
        let directory = try temporaryDirectory()
        let wrapper = try denyBPF(in: directory)
        let results = directory.appending(path: "results")
        let before = referenceServers()
        let result = try run(["run", "--require-probes"] + Self.short + ["--results-dir", results.path], under: wrapper, in: directory)
        assertRefused(result, naming: ["probes required but unavailable: creating a BPF map failed: the kernel refused bpf() (EPERM)"], results: results,
                      before: before)
    }
}
