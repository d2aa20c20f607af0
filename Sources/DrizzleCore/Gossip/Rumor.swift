/// A rumor's identity: who started it and its number among that origin's rumors.
public struct RumorID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var origin: NodeID
    public var sequence: UInt64

    public init(origin: NodeID, sequence: UInt64) {
        self.origin = origin
        self.sequence = sequence
    }

    public static func < (lhs: RumorID, rhs: RumorID) -> Bool {
        (lhs.origin, lhs.sequence) < (rhs.origin, rhs.sequence)
    }

    public var description: String { "\(origin)#\(sequence)" }
}

/// One update spread by gossip: membership changes, events, revocations. The gossip layer does not
/// interpret the payload; `kind` tells the owning component it is theirs.
public struct Rumor: Hashable, Sendable {
    public var id: RumorID
    public var kind: UInt8
    public var payload: [UInt8]

    public init(id: RumorID, kind: UInt8, payload: [UInt8]) {
        self.id = id
        self.kind = kind
        self.payload = payload
    }

    /// Encoded bytes before the payload: origin (16), sequence (8), kind (1), payload length (2).
    public static let overhead = 27
    /// The largest payload a rumor may carry (its length is a 16-bit field).
    public static let maximumPayload = Int(UInt16.max)

    public var encodedLength: Int { Rumor.overhead + payload.count }

    func write(to writer: inout ByteWriter) {
        writer.write(id.origin.high)
        writer.write(id.origin.low)
        writer.write(id.sequence)
        writer.write(kind)
        writer.write(UInt16(truncatingIfNeeded: payload.count))
        writer.write(bytes: payload)
    }

    init?(reading reader: inout ByteReader) {
        guard let high = reader.readUInt64(), let low = reader.readUInt64(), let sequence = reader.readUInt64(),
            let kind = reader.readUInt8(), let length = reader.readUInt16(), let payload = reader.readBytes(Int(length))
        else { return nil }
        self.init(id: RumorID(origin: NodeID(high: high, low: low), sequence: sequence), kind: kind, payload: payload)
    }
}
