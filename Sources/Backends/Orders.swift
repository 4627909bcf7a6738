import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

public struct Order: Codable, Equatable, Sendable {
    public var id: Int
    public var userId: Int
    public var itemId: Int
    public var quantity: Int
    public var totalCents: Int
    public var status: String
}

/// What a catalogue look-up found.
enum Lookup<Value: Sendable>: Sendable {
    case found(Value)
    case missing
    /// The catalogue could not be asked; the response says which service failed.
    case unavailable(BackendResponse)
}

/// Where orders look users and items up: in-process in the monolith, over HTTP in the orders service.
protocol CatalogLookup: Sendable {
    func user(id: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Lookup<User>>
    func item(id: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Lookup<Item>>
}

extension Catalog: CatalogLookup {
    func user(id: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Lookup<User>> {
        eventLoop.makeSucceededFuture(user(id: id).map { .found($0) } ?? .missing)
    }

    func item(id: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Lookup<Item>> {
        eventLoop.makeSucceededFuture(item(id: id).map { .found($0) } ?? .missing)
    }
}

/// The accepted orders, in memory, shared by every event loop thread.
final class OrderBook: Sendable {
    private let orders = NIOLockedValueBox<[Order]>([])

    func add(userID: Int, itemID: Int, quantity: Int, priceCents: Int) -> Order {
        orders.withLockedValue { orders in
            let order = Order(id: orders.count + 1, userId: userID, itemId: itemID, quantity: quantity,
                              totalCents: priceCents * quantity, status: "accepted")
            orders.append(order)
            return order
        }
    }

    func order(id: Int) -> Order? {
        orders.withLockedValue { $0.indices.contains(id - 1) ? $0[id - 1] : nil }
    }
}

/// The body of `POST /api/orders`.
struct OrderRequestBody: Decodable {
    var userId: JSONField?
    var itemId: JSONField?
    var quantity: JSONField?
}

/// `POST /api/orders` (validate, then store) and `GET /api/orders/ID`.
struct OrdersRoute: Route {
    static let maxQuantity = 100
    let book: OrderBook
    let lookup: any CatalogLookup

    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>? {
        guard let rest = request.segments(after: "/api/orders") else { return nil }
        switch (request.method, rest.count) {
        case (.POST, 0):
            return place(request, on: eventLoop)
        case (.GET, 1):
            guard let id = Int(rest[0]), let order = book.order(id: id) else {
                return eventLoop.makeSucceededFuture(.error(.notFound, "order \(rest[0]) not found"))
            }
            return eventLoop.makeSucceededFuture(.json(.ok, order))
        case (_, 0), (_, 1):
            return eventLoop.makeSucceededFuture(.methodNotAllowed)
        default:
            return eventLoop.makeSucceededFuture(.notFound(request))
        }
    }

    /// Checks the fields in order (user_id, item_id, quantity), then that the user and the item exist.
    private func place(_ request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse> {
        let body: OrderRequestBody
        do {
            body = try request.jsonBody(OrderRequestBody.self)
        } catch {
            return eventLoop.makeSucceededFuture(error.response)
        }
        guard let userID = body.userId?.integer else {
            return eventLoop.makeSucceededFuture(.unprocessable("user_id must be an integer", field: "user_id"))
        }
        guard let itemID = body.itemId?.integer else {
            return eventLoop.makeSucceededFuture(.unprocessable("item_id must be an integer", field: "item_id"))
        }
        guard let quantity = body.quantity?.integer, (1...Self.maxQuantity).contains(quantity) else {
            return eventLoop.makeSucceededFuture(
                .unprocessable("quantity must be an integer from 1 to \(Self.maxQuantity)", field: "quantity"))
        }
        let book = self.book
        let lookup = self.lookup
        return lookup.user(id: userID, on: eventLoop).flatMap { user -> EventLoopFuture<BackendResponse> in
            switch user {
            case .missing:
                return eventLoop.makeSucceededFuture(.unprocessable("user_id \(userID) does not exist", field: "user_id"))
            case .unavailable(let response):
                return eventLoop.makeSucceededFuture(response)
            case .found:
                return lookup.item(id: itemID, on: eventLoop).map { item in
                    switch item {
                    case .missing:
                        return .unprocessable("item_id \(itemID) does not exist", field: "item_id")
                    case .unavailable(let response):
                        return response
                    case .found(let item):
                        let order = book.add(userID: userID, itemID: itemID, quantity: quantity,
                                             priceCents: item.priceCents)
                        return .json(.created, order)
                    }
                }
            }
        }
    }
}

extension BackendResponse {
    static func unprocessable(_ message: String, field: String) -> BackendResponse {
        .error(.unprocessableEntity, message, field: field)
    }
}
