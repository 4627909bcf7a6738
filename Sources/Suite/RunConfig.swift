import Analysis
import ArchbenchCore
import Foundation
import Load

/// What `archbench run` benchmarks: two architectures, the first the baseline and the second the
/// candidate, read from `--config FILE` (the format is in docs/architecture.md, "Config file") or the
/// embedded default, which spawns this binary's reference backends.
public struct RunConfig: Sendable, Equatable {
    /// The first architecture in the file (the seed's `monolithic`).
    public var baseline: ArchitectureSpec
    /// The second architecture in the file (the seed's `microservices`).
    public var candidate: ArchitectureSpec
    /// The file's `thresholds` object as written: metric (`throughput`, `latency`, `memory`,
    /// `success_rate`) → the change in percent that is a warning and a critical regression. Empty when
    /// the file has none. Each is checked signed as its metric regresses: throughput and success_rate
    /// fall (warning ≤ 0, critical ≤ warning), latency and memory rise (warning ≥ 0, critical ≥ warning).
    public var thresholds: [String: ThresholdSpec]
    /// The config file's FNV-1a digest, or `embedded` for the built-in default: the history records
    /// it, and the regression report says when earlier runs had another.
    public var digest = "embedded"

    public var architectures: [ArchitectureSpec] { [baseline, candidate] }

    public init(baseline: ArchitectureSpec, candidate: ArchitectureSpec, thresholds: [String: ThresholdSpec] = [:]) {
        self.baseline = baseline
        self.candidate = candidate
        self.thresholds = thresholds
    }

    /// The metrics `thresholds` may name.
    public static let thresholdMetrics = Thresholds.metrics

    /// The seed's thresholds table (config/default.json has it too): throughput and success rate
    /// regress when they fall, latency and memory when they rise.
    public static let seedThresholds = Thresholds.seed

    /// Reads and checks a config file. Every error names the file and the JSON path, and exits 2.
    public static func load(path: String) throws(ConfigError) -> RunConfig {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigError(file: path, path: "", message: "cannot read the config file: \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw ConfigError(file: path, path: "", message: "cannot read the config file: it is a directory")
        }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw ConfigError(file: path, path: "", message: "cannot read the config file: \(error.localizedDescription)")
        }
        return try parse(data, source: path)
    }

    /// Checks `data`, a config file's contents; `source` names it in errors. A `command`'s program is
    /// resolved against the current directory and PATH now, so a missing one is an error before anything runs.
    public static func parse(_ data: Data, source: String) throws(ConfigError) -> RunConfig {
        try parse(data, source: source, resolver: ExecutableResolver.current())
    }

    static func parse(_ data: Data, source: String, resolver: ExecutableResolver) throws(ConfigError) -> RunConfig {
        let value: ConfigJSON.Value
        do throws(ConfigJSON.SyntaxError) {
            value = try ConfigJSON.parse(data)
        } catch {
            throw ConfigError(file: source, path: "", message: error.message)
        }
        do throws(ConfigReader.Failure) {
            var config = try ConfigReader(resolver: resolver).config(value)
            config.digest = FNV1a.digest(data)
            return config
        } catch {
            throw ConfigError(file: source, path: error.path, message: error.message)
        }
    }

    /// The embedded default (config/default.json with other ports): spawns `executable serve monolith`
    /// and `executable serve microservices` on the given loopback ports, with the seed's thresholds.
    public static func embedded(executable: String, monolithPort: UInt16, microservicesPort: UInt16,
                                websocketPort: UInt16) -> RunConfig {
        let monolithic = ArchitectureSpec(
            name: "monolithic",
            baseURL: LoadTarget(host: "127.0.0.1", port: monolithPort, path: "/"),
            websocketURL: LoadTarget(host: "127.0.0.1", port: monolithPort, path: "/ws", websocket: true),
            connectionPoolSize: 20,
            processes: .command([executable, "serve", "monolith", "--port", String(monolithPort)]))
        let microservices = ArchitectureSpec(
            name: "microservices",
            baseURL: LoadTarget(host: "127.0.0.1", port: microservicesPort, path: "/"),
            websocketURL: LoadTarget(host: "127.0.0.1", port: websocketPort, path: "/ws", websocket: true),
            connectionPoolSize: 10,
            // The reference gateway sends bodies uncompressed, and fails fast (502) for a service it
            // knows is down, as a circuit breaker would.
            compression: false,
            circuitBreaker: true,
            processes: .command([executable, "serve", "microservices", "--port", String(microservicesPort),
                                 "--ws-port", String(websocketPort)]))
        return RunConfig(baseline: monolithic, candidate: microservices, thresholds: seedThresholds)
    }
}

/// One architecture of the config: its endpoints, the seed's client settings, and how to find its processes.
public struct ArchitectureSpec: Sendable, Equatable {
    /// Its key in the config (`monolithic`, `microservices`).
    public var name: String
    /// `base_url`: the REST API (http).
    public var baseURL: LoadTarget
    /// `websocket_url`: the WebSocket echo endpoint (ws).
    public var websocketURL: LoadTarget
    /// `connection_pool_size`: the connections a client keeps (≥ 1).
    public var connectionPoolSize: Int
    /// `compression` (the seed's flag; default false).
    public var compression: Bool
    /// `circuit_breaker` (the seed's flag; default false).
    public var circuitBreaker: Bool
    /// `command` or `processes`, or neither: the processes the probes watch.
    public var processes: ProcessSource
    /// `ready_timeout_s`: how long `base_url` may take to accept connections (default 30 s).
    public var readyTimeout: Double
    /// `run_as`: whom a spawned `command` runs as when archbench is root; nil: the user sudo was run
    /// by, or root when not under sudo (`TargetIdentity.resolve`).
    public var runAs: RunAs?

    public init(name: String, baseURL: LoadTarget, websocketURL: LoadTarget, connectionPoolSize: Int,
                compression: Bool = false, circuitBreaker: Bool = false, processes: ProcessSource = .urlPorts,
                readyTimeout: Double = ArchitectureSpec.defaultReadyTimeout, runAs: RunAs? = nil) {
        self.name = name
        self.baseURL = baseURL
        self.websocketURL = websocketURL
        self.connectionPoolSize = connectionPoolSize
        self.compression = compression
        self.circuitBreaker = circuitBreaker
        self.processes = processes
        self.readyTimeout = readyTimeout
        self.runAs = runAs
    }

    public static let defaultReadyTimeout: Double = 30

    /// The ports of `base_url` and `websocket_url`, each once, in that order: whose listeners are the
    /// architecture's processes when it names neither `command` nor `processes`.
    public var urlPorts: [UInt16] {
        baseURL.port == websocketURL.port ? [baseURL.port] : [baseURL.port, websocketURL.port]
    }
}

/// How to find an architecture's processes. The probes follow forks, so the children of what is found
/// (the gateway's services) count too.
public enum ProcessSource: Sendable, Equatable {
    /// `command`: an argv list spawned without a shell; `argv[0]` is already an absolute executable path.
    case command([String])
    /// `processes.pid`.
    case pids([Int32])
    /// `processes.port`: the processes listening on these TCP ports.
    case ports([UInt16])
    /// `processes.cgroup`: a cgroup v2 path (relative: under the cgroup2 mount).
    case cgroup(String)
    /// Neither `command` nor `processes`: the processes listening on the ports of `base_url` and `websocket_url`.
    case urlPorts
}

/// A config that cannot be used: `FILE: PATH: MESSAGE`, e.g.
/// `cfg.json: microservices.base_url: expected a string, got 42`. The path is empty for the file as a
/// whole (unreadable, not JSON, not two architectures). Exit 2.
public struct ConfigError: ArchbenchFailure, Equatable {
    /// The file as given (`--config`), or the `source` passed to `RunConfig.parse`.
    public var file: String
    /// The JSON path: `microservices.base_url`, `monolithic.command[0]`, `thresholds.latency.warning`;
    /// "" for the top level.
    public var path: String
    public var message: String

    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var exitCode: ArchbenchExitCode { .usage }

    public var description: String {
        path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)"
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed), for the
/// embedded default's servers. Another process may take it before it is used.
public func freeLoopbackPort() throws -> UInt16 {
    try freeLoopbackPorts(1)[0]
}

/// `count` distinct free loopback ports: every socket is held until all are bound, so the kernel
/// cannot hand out one port twice.
public func freeLoopbackPorts(_ count: Int) throws -> [UInt16] {
    var sockets: [Int32] = []
    defer { for fd in sockets { close(fd) } }
    var ports: [UInt16] = []
    for _ in 0..<count {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw freePortError("socket") }
        sockets.append(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw freePortError("bind") }
        ports.append(UInt16(bigEndian: address.sin_port))
    }
    return ports
}

private func freePortError(_ call: String) -> ArchbenchError {
    .environment("cannot pick a free port on 127.0.0.1: \(call): \(String(cString: strerror(errno)))")
}
