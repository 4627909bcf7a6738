import ArchbenchCore
import Foundation
import NIOCore
import NIOHTTP1

/// One complete HTTP request, body aggregated, as every route sees it.
public struct BackendRequest: Sendable {
    public var method: HTTPMethod
    public var uri: String
    public var headers: HTTPHeaders
    public var body: ByteBuffer?

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }

    /// The path, without the query string.
    public var path: Substring {
        uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri[...]
    }

    /// The value of a query parameter (no percent-decoding: the API's parameters are numbers).
    public func query(_ name: String) -> Substring? {
        guard let mark = uri.firstIndex(of: "?") else { return nil }
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.first == Substring(name) { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }

    /// The path's segments after `prefix` ("/api/users/7" after "/api/users" is ["7"]), or nil when
    /// the path is not `prefix` itself or below it.
    func segments(after prefix: String) -> [Substring]? {
        let path = self.path
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count)
        if rest.isEmpty { return [] }
        guard rest.first == "/" else { return nil }
        return rest.split(separator: "/")
    }

    /// The body decoded as `T`, a struct of optional `JSONField`s, so that any JSON object decodes
    /// and each field is then checked with a message naming it; anything else is a 400.
    func jsonBody<T: Decodable>(_ type: T.Type) throws(Rejection) -> T {
        guard let body, body.readableBytes > 0,
              let value = try? WireJSON.decoder.decode(T.self, from: Data(body.readableBytesView))
        else { throw Rejection(.error(.badRequest, "body must be a JSON object")) }
        return value
    }
}

/// One complete HTTP response.
public struct BackendResponse: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: ByteBuffer
    /// The service that produced the response (set by the gateway on what it forwards).
    public var service: ServiceName?
    /// Headers beyond the ones every response has (content type and length, connection).
    public var headers: HTTPHeaders = [:]
    /// Whether the server closes the connection after this response, whatever the client asked.
    public var closesConnection = false

    public init(status: HTTPResponseStatus, contentType: String = "application/json", body: ByteBuffer,
                service: ServiceName? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.service = service
    }

    /// A JSON response of an `Encodable` value, keys sorted so that equal values give equal bytes on
    /// both architectures.
    static func json(_ status: HTTPResponseStatus, _ value: some Encodable) -> BackendResponse {
        let data = (try? WireJSON.encoder.encode(value)) ?? Data("{}".utf8)
        return BackendResponse(status: status, body: ByteBuffer(bytes: data))
    }

    /// The API's error shape: `{"error": message, "field": field?, "service": service?}`.
    static func error(_ status: HTTPResponseStatus, _ message: String, field: String? = nil,
                      service: ServiceName? = nil) -> BackendResponse {
        json(status, ErrorBody(error: message, field: field, service: service?.rawValue))
    }

    /// The JSON body decoded as `T`, or nil.
    func decode<T: Decodable>(_ type: T.Type) -> T? {
        try? WireJSON.decoder.decode(T.self, from: Data(body.readableBytesView))
    }
}

/// One field of a request body: a JSON integer, another number, or anything else (a string, a bool,
/// null…). JSONDecoder tells `1`, `1.5` and `true` apart, which JSONSerialization's NSNumbers do not.
enum JSONField: Decodable, Equatable {
    case integer(Int)
    case number(Double)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let integer = try? container.decode(Int.self) {
            self = .integer(integer)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .other
        }
    }

    var integer: Int? { if case .integer(let value) = self { value } else { nil } }
    var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        case .other: nil
        }
    }
}

/// A request a route refuses, with the response that says why.
struct Rejection: Error {
    let response: BackendResponse
    init(_ response: BackendResponse) { self.response = response }
}

/// The body of every error response.
struct ErrorBody: Codable, Equatable {
    var error: String
    var field: String?
    var service: String?
}

/// The wire bodies' coders, made once (ArchbenchCore's configuration, compact).
enum WireJSON {
    static let encoder = JSONCoding.encoder(pretty: false)
    static let decoder = JSONCoding.decoder()
}

/// Answers requests. A route that does not know a path answers nil, so routes compose.
public protocol Route: Sendable {
    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>?
}

/// Tries routes in order; a path none of them knows is a 404.
struct RouteList: Route {
    let routes: [any Route]

    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>? {
        for route in routes {
            if let response = route.respond(to: request, on: eventLoop) { return response }
        }
        return eventLoop.makeSucceededFuture(.notFound(request))
    }
}

/// `GET /health`, the same on every process.
struct HealthRoute: Route {
    static let body = BackendResponse.json(.ok, ["status": "ok"])

    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>? {
        guard request.path == "/health" else { return nil }
        guard request.method == .GET else { return eventLoop.makeSucceededFuture(.methodNotAllowed) }
        return eventLoop.makeSucceededFuture(Self.body)
    }
}

extension BackendResponse {
    static let methodNotAllowed = BackendResponse.error(.methodNotAllowed, "method not allowed")
}
