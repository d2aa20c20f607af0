/// A node on the ring: its id and the address it answers on.
public struct RingPeer: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var address: String

    public init(id: NodeID, address: String) {
        self.id = id
        self.address = address
    }

    public var description: String { "\(id) \(address)" }

    func write(to writer: inout ByteWriter) {
        writer.write(id.high)
        writer.write(id.low)
        let bytes = Array(address.utf8.prefix(255))
        writer.write(UInt8(bytes.count))
        writer.write(bytes: bytes)
    }

    init?(reading reader: inout ByteReader) {
        guard let high = reader.readUInt64(), let low = reader.readUInt64(), let length = reader.readUInt8(),
            let bytes = reader.readBytes(Int(length)), let address = String(validating: bytes, as: UTF8.self)
        else { return nil }
        self.init(id: NodeID(high: high, low: low), address: address)
    }
}

/// The messages of the Chord ring (frame types 0x40–0x44). They travel as datagrams; the
/// lookup that sent a request retries elsewhere when no answer comes.
public enum RingMessage: Hashable, Sendable {
    /// "Which node comes next on the way to `key`?" (one step of an iterative lookup).
    case findNext(lookup: UInt64, key: NodeID)
    /// The answer. `done`: `peers` is the owner of `key` followed by its successors (the
    /// replicas); otherwise `peers` are the nodes to try in turn: the sender's closest preceding
    /// finger first, then fallbacks.
    case next(lookup: UInt64, key: NodeID, done: Bool, peers: [RingPeer])
    /// Stabilization: "who is your predecessor, and what is your successor list?"
    case neighborsRequest(nonce: UInt64)
    case neighbors(nonce: UInt64, predecessor: RingPeer?, successors: [RingPeer])
    /// "I believe I am your predecessor" (`address` is where the sender answers).
    case notify(address: String)
}

extension RingMessage {
    /// At most this many peers travel in one message.
    static let maximumPeers = 32

    public var frame: Frame {
        var writer = ByteWriter()
        switch self {
        case .findNext(let lookup, let key):
            writer.write(lookup)
            writer.write(key.high)
            writer.write(key.low)
            return Frame(type: FrameType.ringFindNext, body: writer.finish())
        case .next(let lookup, let key, let done, let peers):
            writer.write(lookup)
            writer.write(key.high)
            writer.write(key.low)
            writer.write(UInt8(done ? 1 : 0))
            Self.write(peers, to: &writer)
            return Frame(type: FrameType.ringNext, body: writer.finish())
        case .neighborsRequest(let nonce):
            writer.write(nonce)
            return Frame(type: FrameType.ringNeighborsRequest, body: writer.finish())
        case .neighbors(let nonce, let predecessor, let successors):
            writer.write(nonce)
            Self.write(predecessor.map { [$0] } ?? [], to: &writer)
            Self.write(successors, to: &writer)
            return Frame(type: FrameType.ringNeighbors, body: writer.finish())
        case .notify(let address):
            let bytes = Array(address.utf8.prefix(255))
            writer.write(UInt8(bytes.count))
            writer.write(bytes: bytes)
            return Frame(type: FrameType.ringNotify, body: writer.finish())
        }
    }

    /// Decodes a ring frame; nil for another component's frame or malformed bytes.
    public init?(frame: Frame) {
        var reader = ByteReader(frame.body)
        switch frame.type {
        case FrameType.ringFindNext:
            guard let lookup = reader.readUInt64(), let key = Self.readID(&reader) else { return nil }
            self = .findNext(lookup: lookup, key: key)
        case FrameType.ringNext:
            guard let lookup = reader.readUInt64(), let key = Self.readID(&reader), let done = reader.readUInt8(),
                done <= 1, let peers = Self.readPeers(&reader)
            else { return nil }
            self = .next(lookup: lookup, key: key, done: done == 1, peers: peers)
        case FrameType.ringNeighborsRequest:
            guard let nonce = reader.readUInt64() else { return nil }
            self = .neighborsRequest(nonce: nonce)
        case FrameType.ringNeighbors:
            guard let nonce = reader.readUInt64(), let predecessor = Self.readPeers(&reader), predecessor.count <= 1,
                let successors = Self.readPeers(&reader)
            else { return nil }
            self = .neighbors(nonce: nonce, predecessor: predecessor.first, successors: successors)
        case FrameType.ringNotify:
            guard let length = reader.readUInt8(), let bytes = reader.readBytes(Int(length)),
                let address = String(validating: bytes, as: UTF8.self)
            else { return nil }
            self = .notify(address: address)
        default:
            return nil
        }
        guard reader.isAtEnd else { return nil }
    }

    private static func write(_ peers: [RingPeer], to writer: inout ByteWriter) {
        let count = min(peers.count, maximumPeers)
        writer.write(UInt8(count))
        for peer in peers.prefix(count) { peer.write(to: &writer) }
    }

    private static func readPeers(_ reader: inout ByteReader) -> [RingPeer]? {
        guard let count = reader.readUInt8(), Int(count) <= maximumPeers else { return nil }
        var peers: [RingPeer] = []
        for _ in 0..<count {
            guard let peer = RingPeer(reading: &reader) else { return nil }
            peers.append(peer)
        }
        return peers
    }

    static func readID(_ reader: inout ByteReader) -> NodeID? {
        guard let high = reader.readUInt64(), let low = reader.readUInt64() else { return nil }
        return NodeID(high: high, low: low)
    }
}
