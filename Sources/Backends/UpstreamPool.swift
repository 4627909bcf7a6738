import Atomics
import NIOCore
import NIOHTTP1
import NIOPosix

/// A service's answer, as the gateway relays it.
struct UpstreamResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: ByteBuffer
    var keepAlive: Bool
}

enum UpstreamError: Error, CustomStringConvertible {
    /// The connection closed before the whole answer came.
    case closed
    case timedOut(TimeAmount)
    case connect(any Error)

    var description: String {
        switch self {
        case .closed: "connection closed before the answer"
        case .timedOut(let limit): "no answer within \(UpstreamError.milliseconds(limit)) ms"
        case .connect(let error as IOError): "connect: \(error.description)"
        case .connect(let error): "connect: \(error)"
        }
    }

    static func milliseconds(_ time: TimeAmount) -> Int64 { time.nanoseconds / 1_000_000 }
}

/// One keep-alive HTTP/1.1 client connection: one request at a time, its answer aggregated.
final class UpstreamConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<UpstreamResponse>?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    func send(_ request: BackendRequest, context channel: any Channel, promise: EventLoopPromise<UpstreamResponse>) {
        precondition(pending == nil, "one request at a time per upstream connection")
        pending = promise
        var headers = HTTPHeaders()
        headers.add(name: "host", value: "127.0.0.1")
        headers.add(name: "connection", value: "keep-alive")
        if let contentType = request.headers.first(name: "content-type") {
            headers.add(name: "content-type", value: contentType)
        }
        headers.add(name: "content-length", value: String(request.body?.readableBytes ?? 0))
        let pipeline = channel.pipeline.syncOperations
        let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri, headers: headers)
        pipeline.write(NIOAny(HTTPClientRequestPart.head(head)), promise: nil)
        if let body = request.body, body.readableBytes > 0 {
            pipeline.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(body))), promise: nil)
        }
        pipeline.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
        case .body(var chunk):
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head, let pending else { return }
            self.head = nil
            self.pending = nil
            pending.succeed(UpstreamResponse(status: head.status,
                                             contentType: head.headers.first(name: "content-type") ?? "application/json",
                                             body: body ?? ByteBuffer(), keepAlive: head.isKeepAlive))
            body = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(UpstreamError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func fail(_ error: any Error) {
        let pending = self.pending
        self.pending = nil
        pending?.fail(error)
    }
}

/// Keep-alive connections from one event loop to one service: at most `limit` open, idle ones
/// reused, requests queued when all are busy. Lives on its event loop (no locks): the gateway has
/// one pool per service per event loop, so a request never changes threads on its way through.
final class UpstreamPool {
    static let defaultRequestTimeout = TimeAmount.seconds(60)
    static let connectTimeout = TimeAmount.seconds(2)

    private struct Connection {
        let channel: any Channel
        let handler: UpstreamConnectionHandler
    }

    private struct Waiter {
        let request: BackendRequest
        let promise: EventLoopPromise<UpstreamResponse>
        /// A GET that failed on a reused connection the service had closed (a restart, an idle
        /// timeout) is tried once more; the service never saw it.
        let mayRetry: Bool
    }

    let service: ServiceName
    private let address: SocketAddress
    private let eventLoop: any EventLoop
    private let limit: Int
    private let requestTimeout: TimeAmount
    private var idle: [Connection] = []
    private var open = 0
    private var waiters = CircularBuffer<Waiter>()

    init(service: ServiceName, address: SocketAddress, eventLoop: any EventLoop, limit: Int,
         requestTimeout: TimeAmount = UpstreamPool.defaultRequestTimeout) {
        self.service = service
        self.address = address
        self.eventLoop = eventLoop
        self.limit = limit
        self.requestTimeout = requestTimeout
    }

    /// Sends `request` and aggregates the answer.
    func send(_ request: BackendRequest) -> EventLoopFuture<UpstreamResponse> {
        eventLoop.preconditionInEventLoop()
        let promise = eventLoop.makePromise(of: UpstreamResponse.self)
        dispatch(Waiter(request: request, promise: promise, mayRetry: request.method == .GET || request.method == .HEAD))
        return promise.futureResult
    }

    private func dispatch(_ waiter: Waiter) {
        while let connection = idle.popLast() {
            if connection.channel.isActive {
                exchange(waiter, on: connection, reused: true)
                return
            }
        }
        waiters.append(waiter)
        if open < limit { connect() }
    }

    private func exchange(_ waiter: Waiter, on connection: Connection, reused: Bool) {
        let answer = eventLoop.makePromise(of: UpstreamResponse.self)
        let requestTimeout = self.requestTimeout
        let timeout = eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) {
            connection.handler.fail(UpstreamError.timedOut(requestTimeout))
            connection.channel.close(promise: nil)
        }
        connection.handler.send(waiter.request, context: connection.channel, promise: answer)
        answer.futureResult.assumeIsolated().whenComplete { result in
            timeout.cancel()
            switch result {
            case .success(let response):
                if response.keepAlive && connection.channel.isActive {
                    self.release(connection)
                } else {
                    connection.channel.close(promise: nil)
                }
                waiter.promise.succeed(response)
            case .failure(let error):
                connection.channel.close(promise: nil)
                if reused && waiter.mayRetry, case UpstreamError.closed = error {
                    self.dispatch(Waiter(request: waiter.request, promise: waiter.promise, mayRetry: false))
                } else {
                    waiter.promise.fail(error)
                }
            }
        }
    }

    private func release(_ connection: Connection) {
        if let waiter = waiters.popFirst() {
            exchange(waiter, on: connection, reused: true)
        } else {
            idle.append(connection)
        }
    }

    /// Opens one connection for the first waiter; when it closes, it leaves the pool.
    private func connect() {
        open += 1
        ClientBootstrap(group: eventLoop)
            .connectTimeout(Self.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnectionHandler())
                }
            }
            .connect(to: address)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    channel.closeFuture.assumeIsolated().whenComplete { _ in self.forget(channel) }
                    guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self) else {
                        channel.close(promise: nil)
                        return
                    }
                    let connection = Connection(channel: channel, handler: handler)
                    if let waiter = self.waiters.popFirst() {
                        self.exchange(waiter, on: connection, reused: false)
                    } else {
                        self.idle.append(connection)
                    }
                case .failure(let error):
                    self.open -= 1
                    // Nothing listens: every waiter would fail the same way, so fail them all now.
                    while let waiter = self.waiters.popFirst() { waiter.promise.fail(UpstreamError.connect(error)) }
                }
            }
    }

    private func forget(_ channel: any Channel) {
        open -= 1
        idle.removeAll { $0.channel === channel }
        if !waiters.isEmpty && open < limit { connect() }
    }
}

/// The gateway's way to its services: a pool per service per event loop, and whether each service
/// is up (the supervisor says so), so that requests to a service being restarted fail fast.
final class Upstreams: Sendable {
    private let pools: [ObjectIdentifier: NIOLoopBound<[ServiceName: UpstreamPool]>]
    private let up: [ServiceName: ManagedAtomic<Bool>]

    init(group: any EventLoopGroup, ports: [ServiceName: Int], poolSize: Int,
         requestTimeout: TimeAmount = UpstreamPool.defaultRequestTimeout) throws {
        var pools: [ObjectIdentifier: NIOLoopBound<[ServiceName: UpstreamPool]>] = [:]
        let addresses = try ports.mapValues { try SocketAddress(ipAddress: HTTPServer.host, port: $0) }
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = try loop.submit {
                let perService = Dictionary(uniqueKeysWithValues: addresses.map { service, address in
                    (service, UpstreamPool(service: service, address: address, eventLoop: loop, limit: poolSize,
                                           requestTimeout: requestTimeout))
                })
                return NIOLoopBound(perService, eventLoop: loop)
            }.wait()
        }
        self.pools = pools
        up = Dictionary(uniqueKeysWithValues: ports.keys.map { ($0, ManagedAtomic(true)) })
    }

    func setUp(_ service: ServiceName, _ isUp: Bool) {
        up[service]?.store(isUp, ordering: .releasing)
    }

    /// Forwards `request` to `service`. A service that does not answer within the request timeout is a
    /// 504 naming it; whatever else goes wrong on the way is a 502 naming it.
    func forward(_ request: BackendRequest, to service: ServiceName, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse> {
        guard up[service]?.load(ordering: .acquiring) ?? false else {
            return eventLoop.makeSucceededFuture(.badGateway(service, "it is down (being restarted)"))
        }
        guard let bound = pools[ObjectIdentifier(eventLoop)], let pool = bound.value[service] else {
            return eventLoop.makeSucceededFuture(.badGateway(service, "no connection pool on this event loop"))
        }
        return pool.send(request).map { upstream in
            BackendResponse(status: upstream.status, contentType: upstream.contentType, body: upstream.body, service: service)
        }.recover { error in
            if case UpstreamError.timedOut(let limit) = error { return .gatewayTimeout(service, limit) }
            return .badGateway(service, "\(error)")
        }
    }
}

extension BackendResponse {
    static func badGateway(_ service: ServiceName, _ why: String) -> BackendResponse {
        .error(.badGateway, "service \(service.rawValue) is unavailable: \(why)", service: service)
    }

    static func gatewayTimeout(_ service: ServiceName, _ limit: TimeAmount) -> BackendResponse {
        .error(.gatewayTimeout, "service \(service.rawValue) did not answer within \(UpstreamError.milliseconds(limit)) ms "
               + "(--upstream-timeout-ms)", service: service)
    }
}
