import Foundation
public import Logging
public import NIOCore
import NIOPosix

/// One request on the control socket: a prompt command line.
public struct ControlRequest: Codable, Sendable {
    public var command: String
    public init(command: String) { self.command = command }
}

/// The answer: the lines the command printed, or the one-line error.
public struct ControlResponse: Codable, Sendable {
    public var ok: Bool
    public var lines: [String]
    public var error: String?
    /// True after `X`: the session stopped its nodes.
    public var done: Bool

    public init(ok: Bool, lines: [String] = [], error: String? = nil, done: Bool = false) {
        self.ok = ok
        self.lines = lines
        self.error = error
        self.done = done
    }
}

/// Splits a byte stream into lines (at most `maximumLength` bytes each; a longer one closes the
/// connection).
final class LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maximumLength: Int

    struct LineTooLong: Error {}

    init(maximumLength: Int) { self.maximumLength = maximumLength }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maximumLength { throw LineTooLong() }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= maximumLength, let line = buffer.readSlice(length: length) else { throw LineTooLong() }
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }
}

/// The control socket: an owner-only Unix domain socket speaking JSON lines. Each request line
/// `{"command":"SZ"}` is answered by one response line `{"ok":true,"lines":[…],"done":false}`.
/// The prompt, `LL` and `drizzle attach` use it (docs/protocol.md, "Control socket").
public final class ControlSocket: Sendable {
    public let path: String
    private let channel: any Channel

    /// Listens at `path` (its folder is created 0700, the socket made 0600), answering with `handler`.
    public static func listen(
        at path: String, group: any EventLoopGroup, logger: Logger,
        handler: @escaping @Sendable (String) async -> ControlResponse
    ) async throws -> ControlSocket {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(maximumLength: 65_536)))
                    try child.pipeline.syncOperations.addHandler(ControlHandler(handler: handler))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        chmod(path, 0o600)
        logger.info("control socket listening", metadata: ["path": "\(path)"])
        return ControlSocket(path: path, channel: channel)
    }

    private init(path: String, channel: any Channel) {
        self.path = path
        self.channel = channel
    }

    public func close() async {
        try? await channel.close()
        unlink(path)
    }

    /// Sends one command to the socket at `path` and returns the response (a client, for `LL` and `attach`).
    public static func send(_ command: String, to path: String, group: any EventLoopGroup) async throws -> ControlResponse {
        let client = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(2))
            .connect(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(maximumLength: 1 << 22)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await client.executeThenClose { inbound, outbound in
            var request = try JSONEncoder().encode(ControlRequest(command: command))
            request.append(UInt8(ascii: "\n"))
            try await outbound.write(ByteBuffer(bytes: request))
            for try await line in inbound {
                return try JSONDecoder().decode(ControlResponse.self, from: Data(line.readableBytesView))
            }
            return ControlResponse(ok: false, error: "the node closed the control socket without answering")
        }
    }
}

/// Answers request lines in order on one connection.
final class ControlHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let handler: @Sendable (String) async -> ControlResponse

    init(handler: @escaping @Sendable (String) async -> ControlResponse) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        let channel = context.channel
        let handler = self.handler
        let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line.readableBytesView))
        Task {
            let response: ControlResponse
            if let request {
                response = await handler(request.command)
            } else {
                response = ControlResponse(ok: false, error: #"not a request: send one JSON object per line, {"command":"SZ"}"#)
            }
            var bytes = (try? JSONEncoder().encode(response)) ?? Data(#"{"ok":false,"lines":[],"done":false}"#.utf8)
            bytes.append(UInt8(ascii: "\n"))
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
