public import NIOCore

/// TCP framing for envelopes: a 4-byte big-endian length, then that many bytes. Frames longer than
/// `maximumLength` close the connection (a peer cannot make us buffer without bound). Written here
/// rather than taken from swift-nio-extras because its length-field decoder has no upper bound.
@_spi(Fuzzing) public final class FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    struct FrameTooLong: Error, CustomStringConvertible {
        var length: UInt32
        var description: String { "peer announced a \(length)-byte frame, over the limit" }
    }

    let maximumLength: Int

    public init(maximumLength: Int) { self.maximumLength = maximumLength }

    public func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maximumLength else { throw FrameTooLong(length: length) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Prefixes each outgoing envelope with its 4-byte length.
final class FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
