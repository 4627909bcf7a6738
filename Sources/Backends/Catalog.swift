import NIOCore
import NIOHTTP1

/// A user of the shop. The catalogue is generated, the same in every process, so the monolith and
/// the users service answer byte for byte the same.
public struct User: Codable, Equatable, Sendable {
    public var id: Int
    public var name: String
    public var email: String
}

public struct Item: Codable, Equatable, Sendable {
    public var id: Int
    public var name: String
    public var priceCents: Int
    public var stock: Int
}

/// Users and items: read-only, so shared freely between threads.
public struct Catalog: Sendable {
    public static let userCount = 100
    public static let itemCount = 500
    public static let defaultItemLimit = 20

    public let users: [User]
    public let items: [Item]
    /// `GET /api/users` never changes, so its body is encoded once.
    let usersResponse: BackendResponse

    public init() {
        users = (1...Self.userCount).map { id in
            User(id: id, name: "user \(id)", email: "user\(id)@example.test")
        }
        items = (1...Self.itemCount).map { id in
            Item(id: id, name: "item \(id)", priceCents: 100 + (id * 37) % 9_900, stock: (id * 13) % 50)
        }
        usersResponse = .json(.ok, UserList(users: users))
    }

    public func user(id: Int) -> User? { users.indices.contains(id - 1) ? users[id - 1] : nil }
    public func item(id: Int) -> Item? { items.indices.contains(id - 1) ? items[id - 1] : nil }
}

struct UserList: Codable { var users: [User] }
struct ItemList: Codable { var items: [Item] }

/// `GET /api/users`, `GET /api/users/ID`, `GET /api/items?limit=N`, `GET /api/items/ID`.
struct CatalogRoute: Route {
    let catalog: Catalog

    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>? {
        if let rest = request.segments(after: "/api/users") {
            return eventLoop.makeSucceededFuture(users(request, rest))
        }
        if let rest = request.segments(after: "/api/items") {
            return eventLoop.makeSucceededFuture(items(request, rest))
        }
        return nil
    }

    private func users(_ request: BackendRequest, _ rest: [Substring]) -> BackendResponse {
        guard request.method == .GET else { return .methodNotAllowed }
        switch rest.count {
        case 0: return catalog.usersResponse
        case 1:
            guard let id = Int(rest[0]), let user = catalog.user(id: id) else {
                return .error(.notFound, "user \(rest[0]) not found")
            }
            return .json(.ok, user)
        default: return .notFound(request)
        }
    }

    private func items(_ request: BackendRequest, _ rest: [Substring]) -> BackendResponse {
        guard request.method == .GET else { return .methodNotAllowed }
        switch rest.count {
        case 0:
            var limit = Catalog.defaultItemLimit
            if let text = request.query("limit") {
                guard let value = Int(text), (1...Catalog.itemCount).contains(value) else {
                    return .error(.badRequest, "limit must be an integer from 1 to \(Catalog.itemCount)", field: "limit")
                }
                limit = value
            }
            return .json(.ok, ItemList(items: Array(catalog.items.prefix(limit))))
        case 1:
            guard let id = Int(rest[0]), let item = catalog.item(id: id) else {
                return .error(.notFound, "item \(rest[0]) not found")
            }
            return .json(.ok, item)
        default: return .notFound(request)
        }
    }
}
