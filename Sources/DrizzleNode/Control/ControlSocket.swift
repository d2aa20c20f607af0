import Foundation
public import Logging
public import NIOCore
import NIOPosix

/// One request on the control socket: a prompt command line, or a subscription that turns the
/// connection into a stream of delivered events.
public struct ControlRequest: Codable, Sendable {
    public var command: String?
    /// A topic, or `*` for every topic: the node answers once, then sends one `ControlEvent` line
    /// per delivered event until the connection closes.
    public var subscribe: String?

    public init(command: String) { self.command = command }
    public init(subscribe topic: String) { self.subscribe = topic }

    /// Decodes one request line (without its newline), or nil for anything but a request object.
    @_spi(Fuzzing) public init?(line: ByteBuffer) {
        guard let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line.readableBytesView)) else {
            return nil
        }
        self = request
    }
}

/// One delivered event on a subscribed control connection.
public struct ControlEvent: Codable, Sendable, Equatable {
    public var topic: String
    public var lamport: UInt64
    /// The publishing node's id (32 hex digits).
    public var origin: String
    public var epoch: UInt32
    public var sequence: UInt64
    /// The publisher's synchronised clock when it published, nanoseconds since 1970.
    public var physical: Int64
    /// The payload, base64.
    public var payload: String
    /// The payload as text when it is UTF-8.
    public var text: String?

    public init(
        topic: String, lamport: UInt64, origin: String, epoch: UInt32, sequence: UInt64, physical: Int64, payload: [UInt8]
    ) {
        self.topic = topic
        self.lamport = lamport
        self.origin = origin
        self.epoch = epoch
        self.sequence = sequence
        self.physical = physical
        self.payload = Data(payload).base64EncodedString()
        text = String(validating: payload, as: UTF8.self)
    }
}

/// A line on a subscribed connection.
public struct ControlStreamLine: Codable, Sendable {
    public var event: ControlEvent
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
@_spi(Fuzzing) public final class LineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer
    let maximumLength: Int

    struct LineTooLong: Error {}

    public init(maximumLength: Int) { self.maximumLength = maximumLength }

    public func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
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
/// `{"command":"SZ"}` is answered by one response line `{"ok":true,"lines":[…],"done":false}`;
/// a client may write many requests without waiting, and each connection's answers come in the
/// order of its requests. The prompt, `LL` and `drizzle attach` use it (docs/protocol.md,
/// "Control socket").
public final class ControlSocket: Sendable {
    public let path: String
    private let channel: any Channel
    private let group: any EventLoopGroup
    /// The socket file this listener made (device and inode): only that one is removed on close.
    private let socketFile: FileIdentity?

    /// Listens at `path` (its folder is created 0700, the socket made 0600), answering with
    /// `handler`, one request at a time per connection. A socket file left at `path` is replaced:
    /// the caller holds the node's lock (`NodeLock`), so no running node owns it.
    public static func listen(
        at path: String, group: any EventLoopGroup, logger: Logger,
        handler: @escaping @Sendable (String) async -> ControlResponse,
        events: @escaping @Sendable () async -> AsyncStream<ControlEvent>? = { nil }
    ) async throws(NetworkError) -> ControlSocket {
        func failure(_ cause: NetworkError.Cause) -> NetworkError {
            NetworkError(purpose: .controlSocket, endpoint: .path(path), cause: cause)
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw failure(.other("cannot create its folder \(folder)"))
            }
        }
        var existing = stat()
        if lstat(path, &existing) == 0, existing.st_mode & S_IFMT != S_IFSOCK { throw failure(.notASocket) }
        // Bound under a name of its own, then renamed into place: the path never goes missing,
        // and SwiftNIO, which removes the path a Unix socket was bound to when it closes, removes
        // only that name (long gone), never a socket another listener put at `path` since.
        let bound = (folder.isEmpty ? "" : folder + "/") + ".control-\(UInt32.random(in: 0...UInt32.max))"
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: group)
                // A client that writes its requests and then shuts its side still hears every answer.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(unixDomainSocketPath: bound, cleanupExistingSocketFile: true) { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(maximumLength: 65_536)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                    }
                }
        } catch {
            throw NetworkError(error, purpose: .controlSocket, endpoint: .path(path))
        }
        let socketFile = FileIdentity(of: bound)
        guard chmod(bound, 0o600) == 0, rename(bound, path) == 0 else {
            let cause = NetworkError.cause(errno: errno)
            try? await server.channel.close()
            throw failure(cause)
        }
        logger.info("control socket listening", metadata: ["path": "\(path)"])
        Task {
            await withDiscardingTaskGroup { connections in
                try? await server.executeThenClose { inbound in
                    let serving = ControlConnection(handler: handler, events: events)
                    for try await connection in inbound {
                        connections.addTask { await serving.serve(connection) }
                    }
                }
            }
        }
        return ControlSocket(path: path, channel: server.channel, group: group, socketFile: socketFile)
    }

    private init(path: String, channel: any Channel, group: any EventLoopGroup, socketFile: FileIdentity?) {
        self.path = path
        self.channel = channel
        self.group = group
        self.socketFile = socketFile
    }

    /// Stops accepting connections (those open finish their requests) and removes the socket
    /// file, unless another listener has taken the path since: a file that is not the one this
    /// listener made, or one where something still answers once this listener is closed, stays.
    /// (The inode alone cannot tell: a file system may give a new file the inode just freed.)
    public func close() async {
        try? await channel.close()
        guard let socketFile, FileIdentity(of: path) == socketFile else { return }
        if let other = try? await Self.connect(to: path, group: group) {
            try? await other.channel.close()
            return
        }
        unlink(path)
    }

    /// Subscribes to `topic` (`*`: all) on the socket at `path` and hands each delivered event to
    /// `body` until it returns false or the node closes the connection. Throws a `NetworkError`
    /// when the socket cannot be reached, a `ControlFailure` when the node refuses or the
    /// connection breaks off.
    public static func follow(
        _ topic: String, at path: String, group: any EventLoopGroup, _ body: (ControlEvent) async -> Bool
    ) async throws {
        let client = try await connect(to: path, group: group)
        do {
            try await stream(topic, from: client, path: path, body)
        } catch let failure as ControlFailure {
            throw failure
        } catch {
            throw ControlFailure(message: "the connection to the control socket \(path) broke off")
        }
    }

    private static func stream(
        _ topic: String, from client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, path: String,
        _ body: (ControlEvent) async -> Bool
    ) async throws {
        try await client.executeThenClose { inbound, outbound in
            var request = try JSONEncoder().encode(ControlRequest(subscribe: topic))
            request.append(UInt8(ascii: "\n"))
            try await outbound.write(ByteBuffer(bytes: request))
            var answered = false
            for try await line in inbound {
                let bytes = Data(line.readableBytesView)
                if !answered {
                    answered = true
                    let response = try decode(ControlResponse.self, from: bytes, path: path)
                    guard response.ok else { throw ControlFailure(message: response.error ?? "subscription refused") }
                    continue
                }
                let streamed = try decode(ControlStreamLine.self, from: bytes, path: path)
                guard await body(streamed.event) else { return }
            }
        }
    }

    /// A client connection to the socket at `path`, reading lines; a failure is a `NetworkError`.
    private static func connect(
        to path: String, group: any EventLoopGroup
    ) async throws(NetworkError) -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(2))
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(maximumLength: 1 << 22)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw NetworkError(error, purpose: .controlClient, endpoint: .path(path))
        }
    }

    /// Sends one command to the socket at `path` and returns the response (a client, for `LL`
    /// and `attach`). Throws a `NetworkError` when the socket cannot be reached, a
    /// `ControlFailure` when the connection breaks off or the answer is not a response.
    public static func send(_ command: String, to path: String, group: any EventLoopGroup) async throws -> ControlResponse {
        let client = try await connect(to: path, group: group)
        do {
            return try await client.executeThenClose { inbound, outbound in
                var request = try JSONEncoder().encode(ControlRequest(command: command))
                request.append(UInt8(ascii: "\n"))
                try await outbound.write(ByteBuffer(bytes: request))
                for try await line in inbound {
                    return try decode(ControlResponse.self, from: Data(line.readableBytesView), path: path)
                }
                return ControlResponse(ok: false, error: "the node closed the control socket without answering")
            }
        } catch let failure as ControlFailure {
            throw failure
        } catch {
            throw ControlFailure(message: "the connection to the control socket \(path) broke off")
        }
    }

    private static func decode<Value: Decodable>(
        _ type: Value.Type, from bytes: Data, path: String
    ) throws(ControlFailure) -> Value {
        do {
            return try JSONDecoder().decode(type, from: bytes)
        } catch {
            throw ControlFailure(
                message: "\(path) answered with a line that is not a control-socket response: is it a BitDrizzle node's socket?")
        }
    }
}

/// A subscription the node refused, or a stream that broke off.
public struct ControlFailure: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A file's device and inode: which file a path names right now.
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64

    init?(of path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// One client connection: reads request lines and answers each in turn, so answers leave in the
/// order requests came; a subscription turns the connection into a stream of events.
struct ControlConnection: Sendable {
    let handler: @Sendable (String) async -> ControlResponse
    let events: @Sendable () async -> AsyncStream<ControlEvent>?

    func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let channel = connection.channel
        try? await connection.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            while let line = try await lines.next() {
                let request = ControlRequest(line: line)
                if let topic = request?.subscribe {
                    guard let stream = await events() else {
                        let refusal = ControlResponse(ok: false, error: "no node here publishes events")
                        try await Self.write(refusal, to: outbound)
                        return
                    }
                    try await Self.write(ControlResponse(ok: true, lines: ["subscribed to \(topic)"]), to: outbound)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await event in stream where topic == "*" || event.topic == topic {
                                try await Self.write(ControlStreamLine(event: event), to: outbound)
                            }
                            // The node stopped: end the connection, which ends the reading below.
                            channel.close(promise: nil)
                        }
                        // Lines after a subscription are not requests; the end of input is the client leaving.
                        while try await lines.next() != nil {}
                        group.cancelAll()
                    }
                    return
                }
                let response: ControlResponse
                if let command = request?.command {
                    response = await handler(command)
                } else {
                    response = ControlResponse(
                        ok: false, error: #"not a request: send one JSON object per line, {"command":"SZ"} or {"subscribe":"*"}"#)
                }
                try await Self.write(response, to: outbound)
            }
        }
    }

    private static func write(
        _ value: some Encodable, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws {
        var bytes = (try? JSONEncoder().encode(value)) ?? Data(#"{"ok":false,"lines":[],"done":false}"#.utf8)
        bytes.append(UInt8(ascii: "\n"))
        try await outbound.write(ByteBuffer(bytes: bytes))
    }
}
