/// The messages of SWIM with Lifeguard, each piggybacking membership updates.
public enum MembershipMessage: Hashable, Sendable {
    /// Direct probe of `target`; answered by `ack` with the same sequence.
    case ping(sequence: UInt32, target: NodeID, updates: [MemberUpdate])
    case ack(sequence: UInt32, updates: [MemberUpdate])
    /// Indirect probe: please ping `target` at `address` for me.
    case pingRequest(sequence: UInt32, target: NodeID, address: String, updates: [MemberUpdate])
    /// Lifeguard: the relay got no answer from the target in time (the relay itself is fine).
    case nack(sequence: UInt32)
    /// A joining node introduces itself; the answer is a full `sync`.
    case join(updates: [MemberUpdate])
    /// Full state exchange (join answer, periodic push-pull anti-entropy). `isReply` marks the answer.
    case sync(members: [MemberUpdate], isReply: Bool)
    /// Updates pushed by the gossip round (memberlist's gossip loop), beyond what probes carry.
    case gossip(updates: [MemberUpdate])
}

extension MembershipMessage {
    /// The frame carrying this message.
    public var frame: Frame {
        var writer = ByteWriter()
        let type: UInt8
        switch self {
        case .ping(let sequence, let target, let updates):
            type = FrameType.ping
            writer.write(sequence)
            writer.write(target.high)
            writer.write(target.low)
            Self.write(updates, to: &writer)
        case .ack(let sequence, let updates):
            type = FrameType.ack
            writer.write(sequence)
            Self.write(updates, to: &writer)
        case .pingRequest(let sequence, let target, let address, let updates):
            type = FrameType.pingRequest
            writer.write(sequence)
            writer.write(target.high)
            writer.write(target.low)
            let addressBytes = Array(address.utf8.prefix(255))
            writer.write(UInt8(addressBytes.count))
            writer.write(bytes: addressBytes)
            Self.write(updates, to: &writer)
        case .nack(let sequence):
            type = FrameType.nack
            writer.write(sequence)
        case .join(let updates):
            type = FrameType.join
            Self.write(updates, to: &writer)
        case .sync(let members, let isReply):
            type = FrameType.sync
            writer.write(UInt8(isReply ? 1 : 0))
            Self.write(members, to: &writer)
        case .gossip(let updates):
            type = FrameType.gossip
            Self.write(updates, to: &writer)
        }
        return Frame(type: type, body: writer.finish())
    }

    /// Decodes a membership frame; `nil` for other frame types or malformed bodies.
    public init?(frame: Frame) {
        var reader = ByteReader(frame.body)
        switch frame.type {
        case FrameType.ping:
            guard let sequence = reader.readUInt32(), let high = reader.readUInt64(), let low = reader.readUInt64(),
                let updates = Self.readUpdates(&reader)
            else { return nil }
            self = .ping(sequence: sequence, target: NodeID(high: high, low: low), updates: updates)
        case FrameType.ack:
            guard let sequence = reader.readUInt32(), let updates = Self.readUpdates(&reader) else { return nil }
            self = .ack(sequence: sequence, updates: updates)
        case FrameType.pingRequest:
            guard let sequence = reader.readUInt32(), let high = reader.readUInt64(), let low = reader.readUInt64(),
                let length = reader.readUInt8(), let bytes = reader.readBytes(Int(length)),
                let address = String(validating: bytes, as: UTF8.self), let updates = Self.readUpdates(&reader)
            else { return nil }
            self = .pingRequest(sequence: sequence, target: NodeID(high: high, low: low), address: address, updates: updates)
        case FrameType.nack:
            guard let sequence = reader.readUInt32() else { return nil }
            self = .nack(sequence: sequence)
        case FrameType.join:
            guard let updates = Self.readUpdates(&reader) else { return nil }
            self = .join(updates: updates)
        case FrameType.sync:
            guard let flag = reader.readUInt8(), flag <= 1, let members = Self.readUpdates(&reader) else { return nil }
            self = .sync(members: members, isReply: flag == 1)
        case FrameType.gossip:
            guard let updates = Self.readUpdates(&reader) else { return nil }
            self = .gossip(updates: updates)
        default:
            return nil
        }
        guard reader.isAtEnd else { return nil }
    }

    private static func write(_ updates: [MemberUpdate], to writer: inout ByteWriter) {
        writer.write(UInt32(updates.count))
        for update in updates { update.write(to: &writer) }
    }

    private static func readUpdates(_ reader: inout ByteReader) -> [MemberUpdate]? {
        guard let count = reader.readUInt32(), Int(count) <= reader.remaining / 50 else { return nil }
        var updates: [MemberUpdate] = []
        updates.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let update = MemberUpdate(reading: &reader) else { return nil }
            updates.append(update)
        }
        return updates
    }
}
