/// One event on the message bus. Its place in the total order is `(lamport, origin)`; `sequence`
/// numbers the origin's events from 1 within one run (`epoch`) so a receiver knows when it holds
/// all of them.
public struct BusEvent: Hashable, Sendable {
    public var lamport: UInt64
    public var origin: NodeID
    /// The origin's process start (the envelope epoch): a restarted node numbers anew.
    public var epoch: UInt32
    public var sequence: UInt64
    /// The origin's synchronised clock when it published, in nanoseconds since the Unix epoch
    /// (informational: the order never depends on it).
    public var physical: Int64
    public var topic: String
    public var payload: [UInt8]

    /// Longest topic, in UTF-8 bytes.
    public static let maximumTopicBytes = 64
    /// Largest payload, in bytes: an event must fit one rumor in one datagram with room to spare.
    public static let maximumPayloadBytes = 512
    /// Lamport times and sequence numbers at or above this are refused on decoding, so that no
    /// peer can push a clock to where counting on would overflow.
    public static let maximumCount: UInt64 = 1 << 62

    public init(
        lamport: UInt64, origin: NodeID, epoch: UInt32, sequence: UInt64, physical: Int64, topic: String,
        payload: [UInt8]
    ) {
        self.lamport = lamport
        self.origin = origin
        self.epoch = epoch
        self.sequence = sequence
        self.physical = physical
        self.topic = topic
        self.payload = payload
    }

    /// The event's position in the total order.
    public var key: OrderKey { OrderKey(lamport: lamport, origin: origin) }

    /// Encoded: lamport (8), origin (16), epoch (4), sequence (8), physical (8), topic length (1),
    /// topic, payload length (2), payload.
    public var encoded: [UInt8] {
        var writer = ByteWriter()
        writer.write(lamport)
        writer.write(origin.high)
        writer.write(origin.low)
        writer.write(epoch)
        writer.write(sequence)
        writer.write(physical)
        let topicBytes = Array(topic.utf8.prefix(Self.maximumTopicBytes))
        writer.write(UInt8(topicBytes.count))
        writer.write(bytes: topicBytes)
        writer.write(UInt16(truncatingIfNeeded: min(payload.count, Self.maximumPayloadBytes)))
        writer.write(bytes: payload.prefix(Self.maximumPayloadBytes))
        return writer.finish()
    }

    /// Decodes an event; `nil` for anything malformed or over the limits.
    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard let lamport = reader.readUInt64(), let high = reader.readUInt64(), let low = reader.readUInt64(),
            lamport < Self.maximumCount, let epoch = reader.readUInt32(), let sequence = reader.readUInt64(),
            sequence > 0, sequence < Self.maximumCount,
            let physical = reader.readInt64(), let topicLength = reader.readUInt8(),
            Int(topicLength) <= Self.maximumTopicBytes, let topicBytes = reader.readBytes(Int(topicLength)),
            let topic = String(validating: topicBytes, as: UTF8.self), let payloadLength = reader.readUInt16(),
            Int(payloadLength) <= Self.maximumPayloadBytes, let payload = reader.readBytes(Int(payloadLength)),
            reader.isAtEnd
        else { return nil }
        self.init(
            lamport: lamport, origin: NodeID(high: high, low: low), epoch: epoch, sequence: sequence,
            physical: physical, topic: topic, payload: payload)
    }
}

/// A position in the bus's total order: Lamport time, then origin id to break ties.
public struct OrderKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var lamport: UInt64
    public var origin: NodeID

    public init(lamport: UInt64, origin: NodeID) {
        self.lamport = lamport
        self.origin = origin
    }

    public static func < (lhs: OrderKey, rhs: OrderKey) -> Bool {
        lhs.lamport != rhs.lamport ? lhs.lamport < rhs.lamport : lhs.origin < rhs.origin
    }

    public var description: String { "\(lamport)@\(origin.description.prefix(8))" }
}

/// Why an event cannot be published.
public enum PublishError: Error, Hashable, Sendable, CustomStringConvertible {
    case topicEmpty
    case topicTooLong(bytes: Int)
    case payloadTooLarge(bytes: Int)
    /// The node is still joining (no seed answered yet), has not yet exchanged Lamport times with
    /// the cluster it joined, or did so less than the join grace ago.
    case notInStep

    public var description: String {
        switch self {
        case .topicEmpty: return "the event needs a topic: PUB <topic> <payload>"
        case .topicTooLong(let bytes):
            return "topic is \(bytes) bytes; the most is \(BusEvent.maximumTopicBytes): use a shorter topic"
        case .payloadTooLarge(let bytes):
            return
                "payload is \(bytes) bytes; the most is \(BusEvent.maximumPayloadBytes): store larger data with WN and publish its key"
        case .notInStep:
            return "this node is still joining the cluster or stepping into its order: try again in a few seconds (RI shows whether it reached a seed)"
        }
    }
}
