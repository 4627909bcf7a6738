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

    func upgrader(faults: FaultRuntime) -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: Self.maxMessageBytes,
            shouldUpgrade: { channel, head in
                let path = BackendRequest(method: head.method, uri: head.uri).path
                let known = path == Self.echoPath || path == Self.broadcastPath
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
