import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// `GET /ws`: every text or binary message comes back to its sender. `GET /ws/broadcast`: every
/// message goes to every client connected to the broadcast channel, the sender included.
final class WebSocketHub: Sendable {
    static let echoPath = "/ws"
    static let broadcastPath = "/ws/broadcast"
    static let maxMessageBytes = 1 << 20

    private let members = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    var memberCount: Int { members.withLockedValue { $0.count } }

    static func isWebSocketPath(_ path: Substring) -> Bool { path == echoPath || path == broadcastPath }

    func upgrader(faults: FaultRuntime) -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: Self.maxMessageBytes,
            shouldUpgrade: { channel, head in
                let known = Self.isWebSocketPath(BackendRequest(method: head.method, uri: head.uri).path)
                return channel.eventLoop.makeSucceededFuture(known ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { [self] channel, head in
                let broadcast = BackendRequest(method: head.method, uri: head.uri).path == Self.broadcastPath
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 256,
                                                    maxAccumulatedFrameSize: Self.maxMessageBytes),
                        WebSocketHandler(hub: broadcast ? self : nil, faults: faults))
                }
            })
    }

    func join(_ channel: any Channel) {
        members.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
    }

    func leave(_ channel: any Channel) {
        _ = members.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func send(_ frame: WebSocketFrame) {
        for member in members.withLockedValue({ Array($0.values) }) {
            member.writeAndFlush(frame, promise: nil)
        }
    }
}

/// The WebSocket paths asked for as plain HTTP: a request that reaches a route on them was not
/// upgraded (no `Upgrade: websocket`, or a handshake the upgrader refused), so a GET is answered
/// 426 Upgrade Required with `Upgrade: websocket`, any other method 405.
struct WebSocketPathRoute: Route {
    let inner: any Route

    func respond(to request: BackendRequest, on eventLoop: any EventLoop) -> EventLoopFuture<BackendResponse>? {
        guard WebSocketHub.isWebSocketPath(request.path) else { return inner.respond(to: request, on: eventLoop) }
        guard request.method == .GET else { return eventLoop.makeSucceededFuture(.methodNotAllowed) }
        let asked = request.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
        let why = asked
            ? "the WebSocket handshake was refused: it needs Sec-WebSocket-Key and Sec-WebSocket-Version: 13, "
                + "in the first request of a connection"
            : "GET \(request.path) is a WebSocket endpoint: the request needs Upgrade: websocket"
        var response = BackendResponse.error(.upgradeRequired, why)
        response.headers.add(name: "upgrade", value: "websocket")
        response.headers.add(name: "sec-websocket-version", value: "13")
        // The upgrade handler looks at a connection's first request only, so an upgrade asked on this
        // connection afterwards could never succeed: close it and let the client open a new one.
        response.closesConnection = true
        return eventLoop.makeSucceededFuture(response)
    }
}

/// One WebSocket connection: echo, or a member of the broadcast channel when it has a hub.
final class WebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: WebSocketHub?
    private let faults: FaultRuntime
    private var closing = false

    init(hub: WebSocketHub?, faults: FaultRuntime) {
        self.hub = hub
        self.faults = faults
    }

    func handlerAdded(context: ChannelHandlerContext) {
        hub?.join(context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        hub?.leave(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            faults.leakForRequest()
            let reply = WebSocketFrame(fin: true, opcode: frame.opcode, data: frame.unmaskedData)
            if let hub {
                hub.send(reply)
            } else {
                context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
            }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)),
                                  promise: nil)
        case .connectionClose:
            guard !closing else {
                context.close(promise: nil)
                return
            }
            closing = true
            var data = frame.unmaskedData
            let code = data.readSlice(length: 2) ?? ByteBuffer()
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
