import DrizzleCore
import NIOCore
import Synchronization

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

/// Drops the runtime counts before the node sees a datagram: ones that cannot be envelopes
/// (`EnvelopeHeader.screen`) and ones that arrive while the node's queue is full. Written on the
/// event loops, read by the node; `NodeHost.drops` adds them to the core's.
final class InboundDrops: Sendable {
    private let counts = Mutex(DropCounters())

    func record(_ reason: DropReason) { counts.withLock { $0.record(reason) } }

    var snapshot: DropCounters { counts.withLock { $0 } }
}

extension AsyncStream<Arrival>.Continuation {
    /// Queues `arrival` for the node, counting it as `overloaded` when the queue was full.
    func yield(_ arrival: Arrival, counting drops: InboundDrops) {
        if case .dropped = yield(arrival) { drops.record(.overloaded) }
    }
}

/// Hands received datagrams to the node's arrival stream; never throws a bad packet up the pipeline.
/// Datagrams that cannot be envelopes are dropped and counted here, on the event loop, so that a
/// flood of garbage costs the node's own task nothing and cannot crowd honest traffic out of its queue.
final class DatagramInbound: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let arrivals: AsyncStream<Arrival>.Continuation
    let drops: InboundDrops
    /// The largest datagram accepted (`gossip.max_datagram_bytes`); a longer one is `oversize`.
    let maximumLength: Int

    init(arrivals: AsyncStream<Arrival>.Continuation, drops: InboundDrops, maximumLength: Int) {
        self.arrivals = arrivals
        self.drops = drops
        self.maximumLength = maximumLength
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        if let reason = EnvelopeHeader.screen(bytes, maximumLength: maximumLength) {
            drops.record(reason)
            return
        }
        arrivals.yield(.datagram(bytes, from: addressText(envelope.remoteAddress)), counting: drops)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed read (ICMP port unreachable and the like) is not fatal for a datagram socket.
    }
}

/// Hands received TCP frames to the node's arrival stream; closes the connection on a framing error.
final class StreamInbound: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let arrivals: AsyncStream<Arrival>.Continuation
    let drops: InboundDrops

    init(arrivals: AsyncStream<Arrival>.Continuation, drops: InboundDrops) {
        self.arrivals = arrivals
        self.drops = drops
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        arrivals.yield(.frame(Array(buffer.readableBytesView), from: addressText(context.remoteAddress)), counting: drops)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
