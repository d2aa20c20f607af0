public import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP endpoint: `GET /metrics` answers the Prometheus text exposition, anything else 404.
public final class MetricsServer: Sendable {
    private let channel: any Channel

    public var address: String { channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?" }

    public static func start(
        host: String, port: Int, group: any EventLoopGroup, exposition: @escaping @Sendable () -> String
    ) async throws -> MetricsServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(MetricsHandler(exposition: exposition))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsServer(channel: channel)
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
