import ArchbenchCore

/// The services of the microservices split, and the process names they answer to in messages,
/// `--fault` prefixes and `archbench serve service NAME`.
public enum ServiceName: String, CaseIterable, Sendable, Codable {
    /// The API gateway: the entry point of the microservices set (it is no child of itself).
    case gateway
    /// Users and items (the catalogue).
    case users
    /// Orders: validates against the users service over HTTP, stores in memory.
    case orders
    /// Training jobs.
    case training
    /// WebSocket echo and broadcast, on its own port.
    case ws

    /// The services the gateway starts as child processes, in start order (orders needs users).
    public static let spawned: [ServiceName] = [.users, .orders, .training, .ws]
}

/// Why a backend could not start or had to stop. Each case maps to a documented exit code.
public enum BackendError: ArchbenchFailure, Equatable {
    /// A flag has a bad value; the message names the flag.
    case usage(String)
    /// Binding 127.0.0.1:port failed because something else listens there.
    case portInUse(port: Int)
    /// Binding or another system call failed for another reason.
    case system(String)
    /// A service of the microservices set could not be started.
    case serviceFailedToStart(ServiceName, exitCode: ArchbenchExitCode, message: String)
    /// A service kept crashing, so the gateway gave up on the whole set.
    case serviceCrashLoop(ServiceName, crashes: Int, seconds: Int)

    public var exitCode: ArchbenchExitCode {
        switch self {
        case .usage: .usage
        case .portInUse, .system, .serviceCrashLoop: .environment
        case .serviceFailedToStart(_, let code, _): code
        }
    }

    public var description: String {
        switch self {
        case .usage(let message): message
        case .portInUse(let port): "port \(port) on 127.0.0.1 is already in use"
        case .system(let message): message
        case .serviceFailedToStart(let service, _, let message): "service \(service.rawValue) did not start: \(message)"
        case .serviceCrashLoop(let service, let crashes, let seconds):
            "service \(service.rawValue) crashed \(crashes) times within \(seconds) s; giving up on the microservices set"
        }
    }
}
