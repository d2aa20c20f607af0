public import DrizzleCore
public import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP endpoint: `GET /metrics` answers the Prometheus text exposition, anything else 404.
public final class MetricsServer: Sendable {
    private let channel: any Channel

    public var address: String {
        channel.localAddress.map { HostPort(host: $0.ipAddress ?? "?", port: $0.port ?? 0).description } ?? "?"
    }

    /// Listens at `address`; a failure is a `NetworkError` saying why in words.
    public static func start(
        at address: HostPort, group: any EventLoopGroup, exposition: @escaping @Sendable () -> String
    ) async throws(NetworkError) -> MetricsServer {
        do {
            return MetricsServer(channel: try await bind(address, group: group, exposition: exposition))
        } catch {
            throw NetworkError(error, purpose: .metrics, endpoint: .address(address))
        }
    }

    private static func bind(
        _ address: HostPort, group: any EventLoopGroup, exposition: @escaping @Sendable () -> String
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(MetricsHandler(exposition: exposition))
                }
            }
            .bind(host: address.host, port: address.port).get()
    }

    private init(channel: any Channel) { self.channel = channel }

    public func close() async { try? await channel.close() }
}

final class MetricsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let exposition: @Sendable () -> String

    init(exposition: @escaping @Sendable () -> String) { self.exposition = exposition }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let found = request.method == .GET && (request.uri == "/metrics" || request.uri.hasPrefix("/metrics?"))
        let body = found ? exposition() : "not found: try /metrics\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4" : "text/plain")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: request.version, status: found ? .ok : .notFound, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
