import NIOCore

/// Something that arrived for the node, in arrival order.
enum Arrival: Sendable {
    case datagram([UInt8], from: String)
    case frame([UInt8], from: String)
}

/// Text form of a socket address as the protocol uses it: `host:port` (IPv6 in brackets).
func addressText(_ address: SocketAddress?) -> String {
    guard let address, let ip = address.ipAddress, let port = address.port else { return "" }
    return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
}

/// Hands received datagrams to the node's arrival stream; never throws a bad packet up the pipeline.
final class DatagramInbound: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let arrivals: AsyncStream<Arrival>.Continuation

    init(arrivals: AsyncStream<Arrival>.Continuation) { self.arrivals = arrivals }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        arrivals.yield(.datagram(bytes, from: addressText(envelope.remoteAddress)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed read (ICMP port unreachable and the like) is not fatal for a datagram socket.
    }
}

/// Hands received TCP frames to the node's arrival stream; closes the connection on a framing error.
final class StreamInbound: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let arrivals: AsyncStream<Arrival>.Continuation

    init(arrivals: AsyncStream<Arrival>.Continuation) { self.arrivals = arrivals }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        arrivals.yield(.frame(Array(buffer.readableBytesView), from: addressText(context.remoteAddress)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
