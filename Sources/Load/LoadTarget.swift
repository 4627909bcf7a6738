import ArchbenchCore
import CLoadGen
import Foundation

/// Where the load goes: `http://host[:port]/path?query` or `ws://host[:port]/path`.
public struct LoadTarget: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    /// Path and query, as sent on the request line.
    public var path: String
    public var websocket: Bool

    public init(host: String, port: UInt16, path: String = "/", websocket: Bool = false) {
        self.host = host
        self.port = port
        self.path = path
        self.websocket = websocket
    }

    /// Parses a URL; throws a usage error naming what is wrong with it.
    public static func parse(_ text: String) throws(LoadError) -> LoadTarget {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw .badURL(text, "not a URL (expected http://HOST[:PORT]/PATH or ws://…)")
        }
        guard scheme == "http" || scheme == "ws" else {
            throw .badURL(text, "scheme \(scheme) is not supported (http or ws; no TLS)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .badURL(text, "it names no host")
        }
        let port: Int = components.port ?? 80
        guard (1...65535).contains(port) else {
            throw .badURL(text, "port \(port) is out of range")
        }
        var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        return LoadTarget(host: host, port: UInt16(port), path: path, websocket: scheme == "ws")
    }

    /// 0 when a TCP connection to the target succeeds within `timeout` seconds, else the errno
    /// (ETIMEDOUT when nothing answered): the load generator's own check, a non-blocking connect
    /// waited on with poll. Name resolution itself is not bounded.
    public func connectError(within timeout: Double) -> Int32 {
        -ab_load_check_target(host, port, timeout)
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(websocket ? "ws" : "http")://\(shownHost):\(port)\(path)"
    }
}

public enum LoadError: ArchbenchFailure {
    case badURL(String, String)
    case badEndpoint(String, String)
    case unreachable(LoadTarget, errno: Int32)
    case startFailed(errno: Int32)

    public var exitCode: ArchbenchExitCode {
        switch self {
        case .badURL, .badEndpoint: .usage
        case .unreachable, .startFailed: .environment
        }
    }

    public var description: String {
        switch self {
        case .badURL(let url, let why): "malformed URL \(url): \(why)"
        case .badEndpoint(let text, let why): "bad --endpoint \"\(text)\": \(why)"
        case .unreachable(let target, let code):
            code == EHOSTUNREACH && target.host.first?.isNumber == false
                ? "cannot resolve host \(target.host)"
                : "cannot connect to \(target.host):\(target.port): \(String(cString: strerror(code)))"
        case .startFailed(let code): "cannot start the load generator: \(String(cString: strerror(code)))"
        }
    }
}
