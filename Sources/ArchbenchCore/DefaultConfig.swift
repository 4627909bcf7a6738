import Foundation

/// How to find the processes of one architecture, for the probes and the memory sampling. Exactly
/// the fields that apply are set; the probes follow forks, so the children of what is found count too.
public struct ProcessLocator: Codable, Equatable, Sendable {
    /// archbench's own arguments (after the executable) or an absolute command to spawn the
    /// architecture: `["serve", "monolith", "--port", "8080"]` means this archbench binary.
    public var spawn: [String]?
    /// TCP ports on 127.0.0.1 whose listening processes are the architecture (resolved through /proc).
    public var ports: [Int]?
    /// Explicit process ids.
    public var pids: [Int32]?
    /// A cgroup (v2) path whose processes are the architecture.
    public var cgroup: String?
    /// Whether the children of the found processes belong to the architecture (the microservices
    /// gateway's services do).
    public var includeChildren: Bool?

    public init(spawn: [String]? = nil, ports: [Int]? = nil, pids: [Int32]? = nil, cgroup: String? = nil,
                includeChildren: Bool? = nil) {
        self.spawn = spawn
        self.ports = ports
        self.pids = pids
        self.cgroup = cgroup
        self.includeChildren = includeChildren
    }

    enum CodingKeys: String, CodingKey {
        case spawn, ports, pids, cgroup
        case includeChildren = "include_children"
    }
}

/// One architecture of the environment config: the seed's keys, plus how to find its processes.
public struct ArchitectureConfig: Codable, Equatable, Sendable {
    public var baseURL: String
    public var websocketURL: String
    public var connectionPoolSize: Int
    public var compression: Bool?
    public var circuitBreaker: Bool?
    public var processes: ProcessLocator

    public init(baseURL: String, websocketURL: String, connectionPoolSize: Int, compression: Bool? = nil,
                circuitBreaker: Bool? = nil, processes: ProcessLocator) {
        self.baseURL = baseURL
        self.websocketURL = websocketURL
        self.connectionPoolSize = connectionPoolSize
        self.compression = compression
        self.circuitBreaker = circuitBreaker
        self.processes = processes
    }

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url"
        case websocketURL = "websocket_url"
        case connectionPoolSize = "connection_pool_size"
        case compression
        case circuitBreaker = "circuit_breaker"
        case processes
    }
}

/// The default two-environment config (config/default.json): the seed's monolithic and microservices
/// environments, served by `archbench serve`, which `archbench run` spawns when given no config.
public enum DefaultConfig {
    public static let monolithic = ArchitectureConfig(
        baseURL: "http://127.0.0.1:8080",
        websocketURL: "ws://127.0.0.1:8080/ws",
        connectionPoolSize: 20,
        processes: ProcessLocator(spawn: ["serve", "monolith", "--port", "8080"], ports: [8080], includeChildren: false))

    public static let microservices = ArchitectureConfig(
        baseURL: "http://127.0.0.1:8081",
        websocketURL: "ws://127.0.0.1:8082/ws",
        connectionPoolSize: 10,
        // The reference gateway sends bodies uncompressed, and fails fast (502) for a service it
        // knows is down, as a circuit breaker would.
        compression: false,
        circuitBreaker: true,
        processes: ProcessLocator(spawn: ["serve", "microservices", "--port", "8081", "--ws-port", "8082"],
                                  ports: [8081, 8082], includeChildren: true))

    /// Keyed by architecture name, as in the seed's JSON.
    public static let environments: [String: ArchitectureConfig] = [
        "monolithic": monolithic, "microservices": microservices,
    ]

    /// The environments as the JSON of config/default.json.
    public static func json() throws -> Data {
        try JSONCoding.encoder().encode(environments)
    }

    /// Reads an environment config file of this shape. A plain decoder: the config's keys are spelled
    /// out in `CodingKeys` as the seed writes them (base_url, …), which `JSONCoding`'s snake_case
    /// conversion leaves alone when encoding but would turn into other names when decoding.
    public static func load(contentsOf url: URL) throws -> [String: ArchitectureConfig] {
        try JSONDecoder().decode([String: ArchitectureConfig].self, from: Data(contentsOf: url))
    }
}
