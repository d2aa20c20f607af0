public import DrizzleCore

/// A simulated Chord node: the real `ChordRing` with its `RingMessage` frames as the simulated
/// datagrams. A datagram is the frame's type byte followed by its body; there is no envelope (the
/// ring experiments measure routing, not cryptography). The sender's id is read from the
/// simulator index, and addresses are `sim:<index>`.
public struct RingSimNode: SimulatedNode {
    /// A lookup this node started, as it ended.
    public struct FinishedLookup: Sendable {
        public var token: UInt64
        public var at: Instant
        public var result: Result<LookupResult, LookupFailure>
    }

    public var ring: ChordRing
    /// The node's place in the simulator (its address is `sim:<position>`).
    public let position: Int
    /// Every simulated node's id, by simulator index (shared storage, not a copy per node).
    public let ids: [NodeID]
    /// Lookups started with `lookup(_:token:at:effects:)` that have ended, in the order they ended.
    public private(set) var finished: [FinishedLookup] = []
    /// Datagrams that did not decode as a ring message, or came from outside the directory
    /// (must stay 0).
    public private(set) var undecodable = 0

    public static func address(of index: Int) -> String { "sim:\(index)" }

    public static func index(of address: String) -> Int? {
        guard address.hasPrefix("sim:") else { return nil }
        return Int(address.dropFirst(4))
    }

    /// The datagram carrying `message`: its frame's type byte, then the body.
    public static func encode(_ message: RingMessage) -> [UInt8] {
        let frame = message.frame
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 + frame.body.count)
        bytes.append(frame.type)
        bytes.append(contentsOf: frame.body)
        return bytes
    }

    /// The message a datagram carries; nil for empty or malformed bytes.
    public static func decode(_ bytes: [UInt8]) -> RingMessage? {
        guard let type = bytes.first else { return nil }
        return RingMessage(frame: Frame(type: type, body: Array(bytes.dropFirst())))
    }

    /// - Parameters:
    ///   - position: the node's simulator index; its id is `ids[position]`.
    ///   - ids: every node's id by simulator index.
    public init(position: Int, ids: [NodeID], configuration: RingConfiguration, now: Instant) {
        self.position = position
        self.ids = ids
        ring = ChordRing(
            me: RingPeer(id: ids[position], address: Self.address(of: position)), configuration: configuration,
            now: now)
    }

    /// The peer at simulator index `index`.
    public func peer(_ index: Int) -> RingPeer { RingPeer(id: ids[index], address: Self.address(of: index)) }

    /// Joins the ring through the node at simulator index `entry`.
    public mutating func join(via entry: Int, at now: Instant, effects: inout [SimEffect]) {
        perform(ring.join(via: Self.address(of: entry), now: now), at: now, into: &effects)
    }

    /// Starts a lookup of `key`; its end is appended to `finished` under `token`.
    public mutating func lookup(_ key: NodeID, token: UInt64, at now: Instant, effects: inout [SimEffect]) {
        perform(ring.lookup(key, token: token, now: now), at: now, into: &effects)
    }

    /// Forgets the recorded lookups (between the phases of an experiment).
    public mutating func clearFinished() { finished.removeAll() }

    public mutating func tick(at now: Instant, random: inout SimRandom, effects: inout [SimEffect]) {
        perform(ring.tick(now: now), at: now, into: &effects)
    }

    public mutating func receive(
        _ bytes: [UInt8], from sender: Int, reliable: Bool, at now: Instant, random: inout SimRandom,
        effects: inout [SimEffect]
    ) {
        guard ids.indices.contains(sender), let message = Self.decode(bytes) else {
            undecodable += 1
            return
        }
        let outputs = ring.receive(message, from: ids[sender], address: Self.address(of: sender), now: now)
        perform(outputs, at: now, into: &effects)
    }

    private mutating func perform(_ outputs: [ChordRing.Output], at now: Instant, into effects: inout [SimEffect]) {
        for output in outputs {
            switch output {
            case .send(let address, let message):
                guard let index = Self.index(of: address) else { continue }
                effects.append(.send(to: index, bytes: Self.encode(message), reliable: false))
            case .lookupFinished(let token, let result):
                finished.append(FinishedLookup(token: token, at: now, result: result))
            case .predecessorChanged, .successorsChanged:
                break
            }
        }
    }
}
