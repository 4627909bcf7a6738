import Analysis
import ArchbenchCore
import Foundation
import Load

// libFuzzer target: the run config reader (Sources/Suite/RunConfig.swift and
// RunConfig+Validation.swift): its JSON reader, then the checker that builds a RunConfig or names
// the JSON path of what is wrong. scripts/fuzz.sh compiles those two files into this executable
// with `swiftc -sanitize=fuzzer,address`, against the package's own modules they import, so the
// reader's internals are reachable. A Swift runtime trap (an index out of range, an overflow, a
// forced unwrap of nil) is a crash libFuzzer keeps; beyond that it checks:
//   - the same bytes give the same result twice;
//   - an error is a usage error (exit 2) naming the file, with a message, shown as FILE: PATH: MESSAGE;
//   - a config that parses has what the checker promises (docs/architecture.md, "Config file"):
//     two named architectures, http and ws URLs, a pool ≥ 1, a ready timeout > 0, a `command` with
//     an absolute program, non-empty pid/port lists, thresholds signed as their metric regresses,
//     and the digest of the bytes;
//   - what the strict JSON reader accepts, Foundation's JSONSerialization accepts too.
// Run it with SWIFT_BACKTRACE=enable=no (fuzz.sh does): Swift's crash backtracer reads memory
// AddressSanitizer reports as a wild access, burying the real report.

/// Resolves programs without depending on this machine's PATH beyond /usr/bin and /bin.
private let resolver = ExecutableResolver(searchPath: ["/nonexistent", "/usr/bin", "/bin"], workingDirectory: "/",
                                          ownExecutable: "/opt/archbench/bin/archbench")

private enum Outcome: Equatable {
    case config(RunConfig)
    case error(ConfigError)
}

private func outcome(_ data: Data) -> Outcome {
    do throws(ConfigError) {
        return .config(try RunConfig.parse(data, source: "fuzz.json", resolver: resolver))
    } catch {
        return .error(error)
    }
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        FileHandle.standardError.write(Data("check failed: \(message())\n".utf8))
        abort()
    }
}

private func checkArchitecture(_ spec: ArchitectureSpec) {
    check(!spec.name.isEmpty, "an architecture without a name")
    check(!spec.baseURL.websocket && spec.websocketURL.websocket, "\(spec.name): URL schemes")
    check(spec.baseURL.port >= 1 && spec.websocketURL.port >= 1, "\(spec.name): port 0")
    check(!spec.baseURL.host.isEmpty && !spec.websocketURL.host.isEmpty, "\(spec.name): empty host")
    check(spec.connectionPoolSize >= 1, "\(spec.name): pool \(spec.connectionPoolSize)")
    check(spec.readyTimeout > 0 && spec.readyTimeout.isFinite, "\(spec.name): ready timeout \(spec.readyTimeout)")
    switch spec.processes {
    case .command(let argv): check(!argv.isEmpty && argv[0].hasPrefix("/"), "\(spec.name): command \(argv)")
    case .pids(let pids): check(!pids.isEmpty && pids.allSatisfy { $0 >= 1 }, "\(spec.name): pids \(pids)")
    case .ports(let ports): check(!ports.isEmpty && ports.allSatisfy { $0 >= 1 }, "\(spec.name): ports \(ports)")
    case .cgroup(let path): check(!path.isEmpty, "\(spec.name): empty cgroup")
    case .urlPorts: check(!spec.urlPorts.isEmpty, "\(spec.name): no URL ports")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    let result = outcome(data)
    check(result == outcome(data), "two parses of the same bytes differ")
    switch result {
    case .config(let config):
        checkArchitecture(config.baseline)
        checkArchitecture(config.candidate)
        check(config.baseline.name != config.candidate.name, "two architectures named \(config.baseline.name)")
        check(config.digest == FNV1a.digest(data), "digest \(config.digest)")
        for (metric, spec) in config.thresholds {
            check(RunConfig.thresholdMetrics.contains(metric), "threshold metric \(metric)")
            check(spec.warning.isFinite && spec.critical.isFinite, "\(metric): not finite")
            if Thresholds.falling.contains(metric) {
                check(spec.warning <= 0 && spec.critical <= spec.warning, "\(metric): \(spec)")
            } else {
                check(spec.warning >= 0 && spec.critical >= spec.warning, "\(metric): \(spec)")
            }
        }
    case .error(let error):
        check(error.exitCode == .usage, "exit code \(error.exitCode)")
        check(error.file == "fuzz.json" && !error.message.isEmpty, "error \(error)")
        check(error.description == (error.path.isEmpty ? "fuzz.json: \(error.message)" : "fuzz.json: \(error.path): \(error.message)"),
              "description \(error.description)")
    }
    // JSONSerialization also refuses a number beyond a Double's range (RFC 8259 lets a parser
    // limit them), which the reader keeps as text; leave those out.
    if let value = try? ConfigJSON.parse(data), numbersFit(value) {
        check((try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil,
              "the config reader accepts JSON that JSONSerialization rejects")
    }
    return 0
}

private func numbersFit(_ value: ConfigJSON.Value) -> Bool {
    switch value {
    case .number(let text): Double(text).map(\.isFinite) ?? false
    case .array(let elements): elements.allSatisfy(numbersFit)
    case .object(let members): members.allSatisfy { numbersFit($0.value) }
    case .null, .bool, .string: true
    }
}
