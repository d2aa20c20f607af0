/// The messages of the gossip layer and their frame encoding (frame types in `FrameType`).
public enum GossipMessage: Hashable, Sendable {
    /// Rumors from the caller. `wantsReply`: the caller also pulls (push-pull, or a pull request
    /// when `rumors` is empty) and expects the callee's hot rumors back.
    case rumors([Rumor], wantsReply: Bool, isReply: Bool)
    /// Feedback: of the rumors just received, these were already known.
    case feedback(known: [RumorID])
    /// Anti-entropy: the rumor ids the sender holds, per origin. `isReply` marks the answer.
    case digest(Digest, isReply: Bool)
    /// Anti-entropy: rumors the receiver lacked (they remove the residue; they are not hot).
    case repair([Rumor])
    /// A new rumor pushed at once, outside the rounds (`NodeCore`'s eager push of bus events):
    /// learned hot like a push, but answered with no feedback — an eager copy the receiver already
    /// had must not cool the rumor at its sender, whose rounds still have to reach the rest.
    case eager([Rumor])
}

extension GossipMessage {
    /// Flags byte of a rumors frame.
    private static let wantsReplyFlag: UInt8 = 0x01
    private static let isReplyFlag: UInt8 = 0x02
    private static let eagerFlag: UInt8 = 0x04

    /// The frame carrying this message.
    public var frame: Frame {
        var writer = ByteWriter()
        switch self {
        case .rumors(let rumors, let wantsReply, let isReply):
            writer.write((wantsReply ? Self.wantsReplyFlag : 0) | (isReply ? Self.isReplyFlag : 0))
            writer.write(UInt16(truncatingIfNeeded: rumors.count))
            for rumor in rumors { rumor.write(to: &writer) }
            return Frame(type: FrameType.rumors, body: writer.bytes)
        case .eager(let rumors):
            writer.write(Self.eagerFlag)
            writer.write(UInt16(truncatingIfNeeded: rumors.count))
            for rumor in rumors { rumor.write(to: &writer) }
            return Frame(type: FrameType.rumors, body: writer.bytes)
        case .feedback(let known):
            writer.write(UInt16(truncatingIfNeeded: known.count))
            for id in known {
                writer.write(id.origin.high)
                writer.write(id.origin.low)
                writer.write(id.sequence)
            }
            return Frame(type: FrameType.feedback, body: writer.bytes)
        case .digest(let digest, let isReply):
            writer.write(UInt8(isReply ? 1 : 0))
            digest.write(to: &writer)
            return Frame(type: FrameType.digest, body: writer.bytes)
        case .repair(let rumors):
            writer.write(UInt32(truncatingIfNeeded: rumors.count))
            for rumor in rumors { rumor.write(to: &writer) }
            return Frame(type: FrameType.repair, body: writer.bytes)
        }
    }

    /// Decodes a gossip frame; `nil` for another component's frame type or malformed bytes.
    public init?(frame: Frame) {
        var reader = ByteReader(frame.body)
        switch frame.type {
        case FrameType.rumors:
            let known = Self.wantsReplyFlag | Self.isReplyFlag | Self.eagerFlag
            guard let flags = reader.readUInt8(), flags & ~known == 0,
                flags & Self.eagerFlag == 0 || flags == Self.eagerFlag, let count = reader.readUInt16(),
                let rumors = Self.readRumors(&reader, count: Int(count))
            else { return nil }
            self = flags == Self.eagerFlag
                ? .eager(rumors)
                : .rumors(rumors, wantsReply: flags & Self.wantsReplyFlag != 0, isReply: flags & Self.isReplyFlag != 0)
        case FrameType.feedback:
            guard let count = reader.readUInt16(), reader.remaining == Int(count) * 24 else { return nil }
            var known: [RumorID] = []
            known.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let high = reader.readUInt64(), let low = reader.readUInt64(), let sequence = reader.readUInt64()
                else { return nil }
                known.append(RumorID(origin: NodeID(high: high, low: low), sequence: sequence))
            }
            self = .feedback(known: known)
        case FrameType.digest:
            guard let flag = reader.readUInt8(), flag <= 1, let digest = Digest(reading: &reader) else { return nil }
            self = .digest(digest, isReply: flag == 1)
        case FrameType.repair:
            guard let count = reader.readUInt32(), let rumors = Self.readRumors(&reader, count: Int(count)) else {
                return nil
            }
            self = .repair(rumors)
        default:
            return nil
        }
        guard reader.isAtEnd else { return nil }
    }

    private static func readRumors(_ reader: inout ByteReader, count: Int) -> [Rumor]? {
        // Each rumor takes at least `Rumor.overhead` bytes: bound the count before allocating.
        guard count <= reader.remaining / Rumor.overhead else { return nil }
        var rumors: [Rumor] = []
        rumors.reserveCapacity(count)
        for _ in 0..<count {
            guard let rumor = Rumor(reading: &reader) else { return nil }
            rumors.append(rumor)
        }
        return rumors
    }
}

extension GossipMessage {
    /// Rumors pushed to the receiver (by a round or eagerly), as opposed to repairs and feedback.
    public var isPush: Bool {
        switch self {
        case .rumors, .eager: true
        case .feedback, .digest, .repair: false
        }
    }
}
