import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Turns the HTTP/1.1 parts of one connection into `BackendRequest`s and writes the routes'
/// answers back, keeping the connection alive when the client asks for it. One request at a time
/// per connection: `HTTPServerPipelineHandler` holds pipelined requests back until the answer is out.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBodyBytes = 1 << 20

    private let route: any Route
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false

    init(route: any Route) { self.route = route }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            tooLarge = false
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maxBodyBytes {
                tooLarge = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            if tooLarge {
                write(.error(.payloadTooLarge, "body larger than \(Self.maxBodyBytes) bytes"), keepAlive: false, context: context)
                return
            }
            let request = BackendRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
            body = nil
            let future = route.respond(to: request, on: context.eventLoop)
                ?? context.eventLoop.makeSucceededFuture(.notFound(request))
            future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                let response: BackendResponse
                switch result {
                case .success(let value): response = value
                case .failure(let error): response = .error(.internalServerError, "internal error: \(error)")
                }
                self.write(response, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func write(_ response: BackendResponse, keepAlive askedKeepAlive: Bool, context: ChannelHandlerContext) {
        let keepAlive = askedKeepAlive && !response.closesConnection
        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + response.headers.count)
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.readableBytes))
        // A response that offers an Upgrade must list "upgrade" among the connection options (RFC 9110 §7.8).
        let upgrade = response.headers.contains(name: "upgrade") ? "upgrade, " : ""
        headers.add(name: "connection", value: upgrade + (keepAlive ? "keep-alive" : "close"))
        if let service = response.service { headers.add(name: "x-archbench-service", value: service.rawValue) }
        headers.add(contentsOf: response.headers)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A refused WebSocket upgrade (an unknown path, a malformed handshake) is reported here, then
        // the request follows as plain HTTP and gets its 404 (or, on a WebSocket path, its 426).
        if error is NIOWebSocketUpgradeError { return }
        context.close(promise: nil)
    }
}

/// A listening HTTP (and, when given a WebSocket hub, WebSocket) server on 127.0.0.1.
final class HTTPServer: Sendable {
    static let host = "127.0.0.1"
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    /// Binds 127.0.0.1:`port` (0 picks a free port). Port in use is `BackendError.portInUse`.
    init(port: Int, group: any EventLoopGroup, route: any Route, webSocket: WebSocketHub?, faults: FaultRuntime) throws(BackendError) {
        // Where WebSocket is served, a plain request for its paths is told to upgrade, before any
        // fault: it is a protocol answer, not an API one.
        let served: any Route = webSocket == nil ? route : WebSocketPathRoute(inner: route)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Up to 256 accepts each time the loop finds the listener readable. At NIO's default of 4,
            // a loop busy with thousands of connections accepts so slowly that a queued connection
            // waits past its client's timeout: the client reconnects, and the queue fills with
            // connections nobody waits for any more (docs/benchmarks.md, the soak).
            .serverChannelOption(.maxMessagesPerRead, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrade: NIOHTTPServerUpgradeSendableConfiguration? = webSocket.map { hub in
                        (upgraders: [hub.upgrader(faults: faults)],
                         completionHandler: { context in
                             context.pipeline.removeHandler(name: "api", promise: nil)
                         })
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withServerUpgrade: upgrade, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(route: served), name: "api")
                }
            }
        do {
            channel = try bootstrap.bind(host: Self.host, port: port).wait()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw .portInUse(port: port)
        } catch {
            throw .system("cannot listen on \(Self.host):\(port): \(error)")
        }
    }

    func close() {
        try? channel.close().wait()
    }
}
