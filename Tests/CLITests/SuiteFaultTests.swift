#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Suite
import TestSupport
import XCTest

/// `archbench run` when something breaks under it (issue 14, faults mid-suite): an architecture's
/// process killed, a server that misbehaves on every request, SIGTERM, a full disk under the results,
/// two runs at once on one results directory and history. Every run is one short round per
/// benchmark; every wait is bounded.
final class SuiteFaultTests: XCTestCase {
    let archbench = BuiltProducts.archbench
    let benchmarks = ["training_throughput", "websocket_latency", "api_response_times", "memory_usage", "concurrent_handling"]
    /// The files every run writes, whatever happened in it (without the visualizations).
    let runFiles = [("comprehensive_results_", ".json"), ("validation_report_", ".txt"), ("regression_report_", ".txt"),
                    ("junit_", ".xml"), ("ci_summary_", ".md"), ("execution_summary_", ".json")]

    func object(at url: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], url.path)
    }

    func file(_ prefix: String, _ suffix: String, in directory: URL) throws -> URL {
        let names = files(in: directory)
        let name = try XCTUnwrap(names.first { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }, "no \(prefix)*\(suffix): \(names)")
        return directory.appending(path: name)
    }

    /// Two architectures on loopback servers that are already running (the baseline first), found by
    /// their URLs' ports. Written by hand: the order of the keys is the order of the architectures.
    func config(in directory: URL, baseline: UInt16, candidate: UInt16) throws -> URL {
        func architecture(_ port: UInt16) -> String {
            #"{"base_url": "http://127.0.0.1:\#(port)/", "websocket_url": "ws://127.0.0.1:\#(port)/ws", "connection_pool_size": 4}"#
        }
        let file = directory.appending(path: "config.json")
        try #"{"monolithic": \#(architecture(baseline)), "microservices": \#(architecture(candidate))}"#
            .write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The processes below `pid` now, with their command lines.
    func descendants(of pid: Int32) -> [(pid: Int32, argv: [String])] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        var parents: [Int32: Int32] = [:]
        for candidate in pids {
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[candidate] = parent }
        }
        var found: [Int32] = []
        var frontier: Set<Int32> = [pid]
        while !frontier.isEmpty {
            let next = parents.filter { frontier.contains($0.value) }.map(\.key)
            found += next
            frontier = Set(next)
        }
        return found.sorted().map { child in
            let data = FileManager.default.contents(atPath: "/proc/\(child)/cmdline") ?? Data()
            return (child, String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init))
        }
    }

    /// Running, not merely a zombie waiting for its parent.
    func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// The errors of a round's loads, summed by kind.
    func errors(of round: [String: Any]) -> [String: Int] {
        let loads = ((round["result"] as? [String: Any])?["loads"] as? [[String: Any]]) ?? []
        var sums: [String: Int] = [:]
        for load in loads {
            for (kind, count) in load["errors"] as? [String: Int] ?? [:] { sums[kind, default: 0] += count }
        }
        return sums
    }

    // MARK: - One architecture's process killed

    func testAnArchitectureKilledMidRunFailsItsRemainingBenchmarksWithTheReasonWhileTheOtherCompletes() throws {
        let directory = try temporaryDirectory("ab-fault")
        let run = try RunningProcess(archbench, ["run", "--no-probes", "--duration", "1", "--rounds", "1", "--no-visualizations",
                                                 "--results-dir", directory.path])
        XCTAssertTrue(run.waitForStdout(containing: "Running websocket_latency", timeout: 120), run.stdoutSoFar)
        let targets = descendants(of: run.pid)
        let monolith = try XCTUnwrap(targets.first { $0.argv.contains("serve") && $0.argv.contains("monolith") }?.pid, "\(targets)")
        kill(monolith, SIGKILL)
        let result = run.finish(timeout: 300)
        XCTAssertEqual(result.status, 1, "a failed round is a failed gate: \(result.stderr)")
        let reason = "its process \(monolith) exited (killed by SIGKILL)"
        XCTAssertTrue(result.stdout.contains("monolithic: \(reason); its remaining rounds fail without running"), result.stdout)

        let names = files(in: directory)
        for (prefix, suffix) in runFiles {
            XCTAssertEqual(names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }.count, 1, "\(prefix)*\(suffix): \(names)")
        }
        XCTAssertFalse(names.contains { $0.hasSuffix(".tmp") }, "\(names)")
        let document = try object(at: try file("comprehensive_results_", ".json", in: directory))
        XCTAssertEqual(document["exit_code"] as? Int, 1)
        let rounds = try XCTUnwrap(document["rounds"] as? [[String: Any]])
        let results = try XCTUnwrap(document["results"] as? [String: [String: Any]])
        let failures = try XCTUnwrap(document["failures"] as? [String])
        func round(_ architecture: String, _ benchmark: String) throws -> [String: Any] {
            let matching = rounds.filter { $0["architecture"] as? String == architecture && $0["benchmark"] as? String == benchmark }
            XCTAssertEqual(matching.count, 1, "\(architecture) \(benchmark)")
            return try XCTUnwrap(matching.first)
        }
        for benchmark in benchmarks {
            let candidate = try round("microservices", benchmark)
            XCTAssertNil(candidate["error"], "microservices \(benchmark) ran whole")
            let figures = try XCTUnwrap(results["microservices"]?[benchmark] as? [String: Any], "microservices \(benchmark)")
            XCTAssertGreaterThan(figures["throughput"] as? Double ?? 0, 0, "microservices \(benchmark)")
        }
        // Killed as websocket_latency started (or, on a slow machine, a little later): every round
        // of the monolith's from then on is failed, the later ones without a load at a closed port.
        let killedIn = try XCTUnwrap(try benchmarks.firstIndex { try round("monolithic", $0)["error"] != nil }, "no round failed")
        XCTAssertGreaterThanOrEqual(killedIn, 1, "training_throughput had finished")
        XCTAssertLessThan(killedIn, benchmarks.count - 1, "benchmarks were left to fail without running")
        for (index, benchmark) in benchmarks.enumerated() {
            let baseline = try round("monolithic", benchmark)
            if index < killedIn {
                XCTAssertNotNil(results["monolithic"]?[benchmark], "monolithic \(benchmark) ran before the kill")
                continue
            }
            let error = try XCTUnwrap(baseline["error"] as? String, "monolithic \(benchmark) is failed")
            XCTAssertTrue(error.hasPrefix(reason), error)
            XCTAssertNil(baseline["result"], "a failed round has no result: monolithic \(benchmark)")
            XCTAssertNil(results["monolithic"]?[benchmark], "no figures for monolithic \(benchmark)")
            XCTAssertTrue(failures.contains("\(benchmark) on monolithic, round 1: \(error)"), "\(failures)")
            if index > killedIn { XCTAssertEqual(error, "\(reason) before the round; not run") }
        }
        let summary = try object(at: try file("execution_summary_", ".json", in: directory))
        XCTAssertEqual(summary["exit_code"] as? Int, 1)
        XCTAssertEqual(targets.filter { alive($0.pid) }.map(\.argv), [], "the other architecture's processes are stopped")
    }

    // MARK: - A server that misbehaves on every request

    /// One architecture is an `ab-testserver --every KIND`: connections are accepted (so it is
    /// ready) but every request — and every WebSocket upgrade — gets garbage, a reset, a response
    /// dripped a byte every 100 ms that never ends, or nothing. Each benchmark's load counts those
    /// failures under their kind and ends by its own deadline; the four runs go at once.
    func testAServerMisbehavingOnEveryRequestIsCountedByKindAndEachBenchmarkEndsByItsDeadline() throws {
        // Above the default profile's 2 s request timeout, so an upgrade left unanswered times out
        // within the load rather than being dropped unanswered at its end.
        let duration = 4.0
        let requestTimeout = 2.0, jobTimeout = 30.0, sweepSteps = 7.0
        let step = max(0.5, duration / sweepSteps)
        // Each load may wait out its timeout after its duration for what is still in flight.
        func deadline(_ benchmark: String, steps: Double) -> Double {
            switch benchmark {
            case "training_throughput": duration + jobTimeout
            case "concurrent_handling": steps * (step + requestTimeout)
            default: duration + requestTimeout
            }
        }
        let measured = ["training_throughput", "websocket_latency", "api_response_times", "concurrent_handling"]
        let misbehaving = measured.map { deadline($0, steps: sweepSteps) }.reduce(0, +)
        let wellBehaved = 3 * duration + sweepSteps * step
        let bound = 3 * (misbehaving + wellBehaved) + 30
        let kinds: [(kind: String, counted: Set<String>)] = [
            ("garbage", ["parse"]), ("reset", ["read", "write"]), ("drip", ["timeout"]), ("silent", ["timeout"]),
        ]
        var runs: [(kind: String, counted: Set<String>, process: RunningProcess, results: URL, started: Date, servers: [TestServer])] = []
        for (kind, counted) in kinds {
            let good = try TestServer(), bad = try TestServer(["--every", kind])
            let directory = try temporaryDirectory("ab-fault")
            let config = try self.config(in: directory, baseline: good.port, candidate: bad.port)
            let results = directory.appending(path: "results")
            let process = try RunningProcess(archbench, ["run", "--config", config.path, "--no-probes", "--no-memory", "--no-visualizations",
                                                         "--duration", "\(Int(duration))", "--rounds", "1", "--results-dir", results.path])
            runs.append((kind, counted, process, results, Date(), [good, bad]))
        }
        for run in runs {
            let outcome = run.process.finish(timeout: max(1, bound - Date().timeIntervalSince(run.started)))
            let elapsed = Date().timeIntervalSince(run.started)
            XCTAssertLessThan(elapsed, bound, "\(run.kind): the run ends by the sum of its deadlines")
            XCTAssertEqual(outcome.status, 1, "\(run.kind): the candidate fails every request: \(outcome.stderr)")
            let document = try object(at: try file("comprehensive_results_", ".json", in: run.results))
            let rounds = try XCTUnwrap(document["rounds"] as? [[String: Any]])
            for benchmark in measured {
                let baseline = try XCTUnwrap(rounds.first { $0["architecture"] as? String == "monolithic" && $0["benchmark"] as? String == benchmark })
                XCTAssertNil(baseline["error"], "\(run.kind): the well-behaved server's \(benchmark)")
                let round = try XCTUnwrap(rounds.first { $0["architecture"] as? String == "microservices" && $0["benchmark"] as? String == benchmark },
                                          "\(run.kind) \(benchmark)")
                // The load ran and counted what went wrong; a round in which nothing succeeded
                // fails, naming those errors.
                let failure = try XCTUnwrap(round["error"] as? String, "\(run.kind) \(benchmark)")
                XCTAssertTrue(failure.hasPrefix("no request succeeded ("), "\(run.kind) \(benchmark): \(failure)")
                let byKind = errors(of: round)
                XCTAssertGreaterThan(run.counted.map { byKind[$0] ?? 0 }.reduce(0, +), 0, "\(run.kind) \(benchmark): \(byKind)")
                // A storm of reconnects may also run out of ports: connect errors are no wrong kind.
                let other = byKind.filter { !run.counted.contains($0.key) && $0.key != "connect" && $0.value > 0 }
                XCTAssertEqual(other, [:], "\(run.kind) \(benchmark): counted as \(run.counted.sorted()) only")
                let metadata = try XCTUnwrap((round["result"] as? [String: Any])?["metadata"] as? [String: Any])
                XCTAssertEqual(metadata["succeeded"] as? Double, 0, "\(run.kind) \(benchmark)")
                let steps = metadata["steps"] as? Double ?? sweepSteps
                let seconds = Double((round["end_ns"] as? Int ?? 0) - (round["start_ns"] as? Int ?? 0)) / 1e9
                XCTAssertLessThan(seconds, 2 * deadline(benchmark, steps: steps) + 10, "\(run.kind) \(benchmark) ends by its deadline")
                if benchmark == "concurrent_handling" {
                    XCTAssertEqual(metadata["stop_reason"] as? String, "error_bound", "\(run.kind): the sweep stops at its first step")
                }
            }
            for server in run.servers { _ = server.stop() }
        }
    }

    // MARK: - SIGTERM

    func testSIGTERMMidRunFlushesWhatRanWithinTwoSecondsStopsTheTargetsAndExits143() throws {
        try terminateMidRun(probes: false)
    }

    /// With the probes: the same, and none of archbench's BPF links is left in the kernel — counted
    /// while archbench still lives when the test catches it between its last file and its exit (the
    /// kernel drops a dead process's links itself), and again after.
    func testSIGTERMMidRunWithProbesDetachesThemAndLeavesNoLinkOfOurs() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        guard let before = try archbenchLinksInKernel() else { throw XCTSkip("bpftool is not installed") }
        try terminateMidRun(probes: true, linksBefore: before)
    }

    func terminateMidRun(probes: Bool, linksBefore: Int? = nil) throws {
        let directory = try temporaryDirectory("ab-fault")
        let run = try RunningProcess(archbench, ["run", "--duration", "2", "--rounds", "1", "--no-visualizations",
                                                 "--results-dir", directory.path] + (probes ? [] : ["--no-probes"]))
        if let linksBefore {
            // Counted early: bpftool can take seconds on a busy machine, and the signal is due later.
            XCTAssertTrue(run.waitForStdout(containing: "Running training_throughput", timeout: 120), run.stdoutSoFar)
            XCTAssertGreaterThan(try XCTUnwrap(archbenchLinksInKernel()), linksBefore, "bpftool sees the run's links while it runs")
        }
        XCTAssertTrue(run.waitForStdout(containing: "Running websocket_latency", timeout: 120), run.stdoutSoFar)
        let targets = descendants(of: run.pid)
        XCTAssertTrue(targets.contains { $0.argv.contains("serve") }, "\(targets)")
        kill(run.pid, SIGTERM)
        let signalled = Date()
        var early: [String: Any]?
        while early == nil, Date().timeIntervalSince(signalled) < 10 {
            // Renamed into place whole: a file that is there parses.
            if let name = files(in: directory).first(where: { $0.hasPrefix("comprehensive_results_") && $0.hasSuffix(".json") }) {
                early = try object(at: directory.appending(path: name))
            } else {
                usleep(10_000)
            }
        }
        let flushed = Date().timeIntervalSince(signalled)
        let partial = try XCTUnwrap(early, "no results file within 10 s of SIGTERM")
        XCTAssertLessThanOrEqual(flushed, 2, "what ran is on disk within 2 s of the signal")
        XCTAssertEqual(partial["exit_code"] as? Int, 143)
        XCTAssertNotNil((partial["results"] as? [String: [String: Any]])?["monolithic"]?["training_throughput"], "what ran is in it")

        var linksWhileAlive: Int?
        if linksBefore != nil {
            while run.process.isRunning, Date().timeIntervalSince(signalled) < 60,
                  !files(in: directory).contains(where: { $0.hasPrefix("execution_summary_") }) {
                usleep(5_000)
            }
            // The execution summary comes after the probes are detached: held here, archbench still
            // owns whatever it failed to detach.
            if kill(run.pid, SIGSTOP) == 0 {
                if alive(run.pid) { linksWhileAlive = try archbenchLinksInKernel() }
                kill(run.pid, SIGCONT)
            }
        }
        let result = run.finish(timeout: 60)
        XCTAssertEqual(result.status, 143, result.stderr)
        XCTAssertTrue(result.stdout.contains("SIGTERM: stopping"), result.stdout)
        let document = try object(at: try file("comprehensive_results_", ".json", in: directory))
        XCTAssertEqual(document["exit_reason"] as? String, "interrupted")
        XCTAssertTrue((document["failures"] as? [String] ?? []).contains("interrupted by SIGTERM"), "\(document["failures"] ?? "")")
        XCTAssertNotNil((document["results"] as? [String: [String: Any]])?["microservices"]?["training_throughput"])
        XCTAssertNil((document["results"] as? [String: [String: Any]])?["monolithic"]?["memory_usage"], "nothing after the signal ran")
        let notes = ((document["analysis"] as? [String: Any])?["notes"] as? [String]) ?? []
        XCTAssertFalse(notes.contains { $0.hasPrefix("not analysed") }, "the analysed file replaced the early one: \(notes)")
        XCTAssertFalse(files(in: directory).contains { $0.hasSuffix(".tmp") })
        XCTAssertEqual(targets.filter { alive($0.pid) }.map(\.argv), [], "the spawned targets are stopped")
        if let linksBefore {
            if let linksWhileAlive { XCTAssertEqual(linksWhileAlive, linksBefore, "detached before archbench exits") }
            XCTAssertEqual(try archbenchLinksInKernel(), linksBefore, "no link of ours left in the kernel")
        }
    }

    // MARK: - A full disk

    /// The results directory on a 1 MiB tmpfs filled to within 256 KiB: the results file, which holds
    /// every round's loads, cannot be written; the small reports can.
    func testAFullDiskLeavesNoHalfWrittenFileNamesTheFileAndExits3() throws {
        guard geteuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let scratch = try temporaryDirectory("ab-fault")
        let disk = scratch.appending(path: "disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        let mount = try runToCompletion("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "archbench-full", disk.path], timeout: 30)
        guard mount.status == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(mount.stderr)") }
        // Registered after the directory's removal, so it runs before it.
        addTeardownBlock { _ = try? runToCompletion("/bin/umount", ["-l", disk.path], timeout: 30) }
        let results = disk.appending(path: "results")
        try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
        var info = statvfs()
        XCTAssertEqual(statvfs(disk.path, &info), 0)
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        try Data(count: free - (256 << 10)).write(to: disk.appending(path: "filler"))

        let good = try TestServer(), other = try TestServer()
        let config = try self.config(in: scratch, baseline: good.port, candidate: other.port)
        let history = scratch.appending(path: "history.sqlite")
        let run = try runToCompletion(archbench, ["run", "--config", config.path, "--no-probes", "--no-memory", "--no-visualizations",
                                                  "--duration", "1", "--rounds", "1", "--results-dir", results.path,
                                                  "--history", history.path], timeout: 300)
        XCTAssertEqual(run.status, 3, "a file that cannot be written is an environment error: \(run.stderr)")
        XCTAssertTrue(run.stdout.contains("❌ cannot write \(results.path)/comprehensive_results_"), run.stdout)
        XCTAssertTrue(run.stdout.contains("No space left on device"), run.stdout)
        let error = run.stderr.split(separator: "\n").first { $0.hasPrefix("archbench: error:") }.map(String.init) ?? ""
        XCTAssertTrue(error.contains("/comprehensive_results_") && error.contains("No space left on device"),
                      "one line names the file, the step and why: \(run.stderr)")

        let names = files(in: results)
        XCTAssertFalse(names.contains { $0.hasSuffix(".tmp") }, "no temporary file left: \(names)")
        XCTAssertFalse(names.contains { $0.hasPrefix("comprehensive_results_") }, "the results file is whole or absent: \(names)")
        for name in names {
            let data = try Data(contentsOf: results.appending(path: name))
            XCTAssertFalse(data.isEmpty, name)
            if name.hasSuffix(".json") {
                XCTAssertNoThrow(try JSONSerialization.jsonObject(with: data), name)
            } else if name.hasSuffix(".xml") {
                XCTAssertNoThrow(try XMLDocument(data: data), name)
            } else {
                XCTAssertEqual(data.last, UInt8(ascii: "\n"), "\(name) ends where it should")
            }
        }
        let summary = try object(at: try file("execution_summary_", ".json", in: results))
        XCTAssertEqual(summary["exit_code"] as? Int, 3)
        let written = summary["files_written"] as? [String] ?? []
        XCTAssertFalse(written.contains { $0.contains("comprehensive_results_") }, "\(written)")
        XCTAssertEqual(Set(written.map { ($0 as NSString).lastPathComponent }), Set(names), "the summary lists what is there")
        // The history must not point at a results file that is not there.
        XCTAssertTrue(run.stdout.contains("taken out of the history again"), run.stdout)
        let listed = try runToCompletion(archbench, ["history", "--history", history.path, "--json"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let runs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])["runs"] as? [Any]
        XCTAssertEqual(runs?.count, 0, listed.stdout)
        _ = good.stop()
        _ = other.stop()
    }

    // MARK: - Two runs at once

    func testTwoRunsAtOnceOnOneResultsDirectoryAndHistoryBothCompleteAndBothAreRecorded() throws {
        let directory = try temporaryDirectory("ab-fault")
        let baseline = try TestServer(), candidate = try TestServer()
        let config = try self.config(in: directory, baseline: baseline.port, candidate: candidate.port)
        let results = directory.appending(path: "results")
        let history = directory.appending(path: "history.sqlite")
        let arguments = ["run", "--config", config.path, "--no-probes", "--no-memory", "--no-visualizations", "--duration", "1",
                         "--rounds", "1", "--results-dir", results.path, "--history", history.path]
        // Started at the top of a second, both stamp their files with the same second.
        usleep(UInt32((1 - Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 1)) * 1_000_000))
        let runs = [try RunningProcess(archbench, arguments), try RunningProcess(archbench, arguments)]
        let outcomes = runs.map { $0.finish(timeout: 300) }
        for outcome in outcomes {
            XCTAssertTrue([0, 1].contains(outcome.status), "exit \(outcome.status): \(outcome.stderr)")
        }
        let names = files(in: results)
        XCTAssertFalse(names.contains { $0.hasSuffix(".tmp") }, "\(names)")
        let resultFiles = names.filter { $0.hasPrefix("comprehensive_results_") && $0.hasSuffix(".json") }
        XCTAssertEqual(resultFiles.count, 2, "one results file each: \(names)")
        for (prefix, suffix) in runFiles {
            XCTAssertEqual(names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }.count, 2, "\(prefix)*\(suffix): \(names)")
        }
        let own = outcomes.map { outcome in resultFiles.filter { outcome.stdout.contains("/\($0)") } }
        XCTAssertEqual(own.map(\.count), [1, 1], "each run names its own results file: \(own)")
        XCTAssertNotEqual(own[0], own[1])
        for name in resultFiles { XCTAssertNoThrow(try object(at: results.appending(path: name)), name) }

        let listed = try runToCompletion(archbench, ["history", "--history", history.path, "--json"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let recorded = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])["runs"]
            as? [[String: Any]]
        XCTAssertEqual(Set((recorded ?? []).compactMap { ($0["results_file"] as? String).map { ($0 as NSString).lastPathComponent } }),
                       Set(resultFiles), "the history holds both runs: \(listed.stdout.prefix(2000))")
        _ = baseline.stop()
        _ = candidate.stop()
    }

    /// What lets the two runs above share a history that neither found: both may see it without
    /// tables, and the second to create them must still get it. Tried on fresh files, two threads at
    /// once, so the race is met rather than hoped for.
    func testTwoRunsCreatingOneHistoryAtOnceBothOpenIt() throws {
        let directory = try temporaryDirectory("ab-fault")
        let config = RunConfig.embedded(executable: archbench, monolithPort: 1, microservicesPort: 2, websocketPort: 3)
        for attempt in 0..<40 {
            var options = SuiteOptions()
            options.historyPath = directory.appending(path: "history-\(attempt).sqlite").path
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: 2) { [options] _ in
                do {
                    _ = try SuiteRunner(config: config, options: options).openHistory()
                } catch {
                    failures.add("\(error)")
                }
            }
            XCTAssertEqual(failures.all, [], "attempt \(attempt)")
            if !failures.all.isEmpty { break }
        }
    }

    /// What keeps the two runs above apart whatever their timing: the stamp is claimed, not assumed.
    func testAStampTakenByAnotherRunOrByFinishedResultsIsNotReused() throws {
        let directory = try temporaryDirectory("ab-fault")
        let second = "20261130_105005"
        let first = try SuiteRunner.claimStamp(second, in: directory.path)
        XCTAssertEqual(first.stamp, second)
        XCTAssertEqual(first.targetsLog, directory.appending(path: "targets_\(second).log").path)
        XCTAssertEqual(try SuiteRunner.claimStamp(second, in: directory.path).stamp, "\(second)_2")
        // A run whose log was removed (nothing was written to it) still owns the stamp of its results.
        try FileManager.default.removeItem(atPath: first.targetsLog)
        try "{}".write(to: directory.appending(path: "comprehensive_results_\(second).json"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try SuiteRunner.claimStamp(second, in: directory.path).stamp, "\(second)_3")
    }
}

/// What threads of a test report, gathered under a lock.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []

    var all: [String] { lock.withLock { list } }

    func add(_ failure: String) {
        lock.withLock { list.append(failure) }
    }
}
