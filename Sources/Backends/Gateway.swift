import Atomics
import NIOCore
import NIOHTTP1

/// The microservices gateway's routes: each API path goes to the service that owns it.
struct GatewayRoute: Route {
    /// Set once the services are up; until then requests are answered 503.
    let upstreams = ManagedAtomicLazyReference<Upstreams>()

    /// The service that owns `request`'s path, or nil when none does (the gateway answers 404).
    static func owner(of request: BackendRequest) -> ServiceName? {
        if request.segments(after: "/api/users") != nil || request.segments(after: "/api/items") != nil { return .users }
        if request.segments(after: "/api/orders") != nil { return .orders }
        if request.path == "/train" { return .training }
        return nil
    }

    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>? {
        guard let service = Self.owner(of: request) else { return nil }
        guard let upstreams = upstreams.load() else {
            return eventLoop.makeSucceededFuture(.error(.serviceUnavailable, "the gateway is starting its services",
                                                        service: service))
        }
        return upstreams.forward(request, to: service, on: eventLoop)
    }
}

/// How the orders service looks users and items up: over HTTP, from the users service.
struct RemoteCatalog: CatalogLookup {
    let upstreams: Upstreams

    func user(id: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Lookup<User>> {
        fetch(User.self, "/api/users/\(id)", on: eventLoop)
    }

    func item(id: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Lookup<Item>> {
        fetch(Item.self, "/api/items/\(id)", on: eventLoop)
    }

    private func fetch<T: Decodable & Sendable>(_ type: T.Type, _ uri: String, on eventLoop: any EventLoop) -> EventLoopFuture<Lookup<T>> {
        upstreams.forward(BackendRequest(method: .GET, uri: uri), to: .users, on: eventLoop).map { response in
            switch response.status {
            case .ok:
                guard let value = response.decode(T.self) else {
                    return .unavailable(.badGateway(.users, "it answered \(uri) with a body that is no \(T.self)"))
                }
                return .found(value)
            case .notFound: return .missing
            // The users service's failure as the orders service's pool saw it, already naming users.
            case .badGateway, .gatewayTimeout: return .unavailable(response)
            default: return .unavailable(.badGateway(.users, "it answered \(uri) with \(response.status.code)"))
            }
        }
    }
}
