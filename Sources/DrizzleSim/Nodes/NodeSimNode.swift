public import DrizzleCore

/// A simulated BitDrizzle node: the whole `NodeCore` (envelope link, membership, gossip) behind
/// simulated datagrams. Addresses are `sim:<index>`.
public struct NodeSimNode<Signer: MessageSigner, Suite: CryptoSuite>: SimulatedNode {
    public var core: NodeCore<Signer, Suite>
    /// The node's data, in memory.
    public var store = MemoryPieceStore()
    /// The node's place in the simulator (its address is `sim:<position>`).
    public let position: Int
    /// Every membership change this node saw, with the virtual time (for experiments).
    public private(set) var changes: [(at: Instant, member: Member, from: MemberState?)] = []
    /// Keep `changes` only when asked (large runs).
    public var recordsChanges = true
    /// Bus events delivered here, with the node's local time, when `recordsDeliveries` is on (an
    /// experiment drains it as it goes).
    public var deliveries: [(at: Instant, event: BusEvent)] = []
    /// Bus events as they first arrive here (or are published here), before ordering holds them
    /// back, with the node's local time; recorded with `recordsDeliveries`.
    public var arrivals: [(at: Instant, rumor: Rumor)] = []
    public var recordsDeliveries = false
    /// How many events this node delivered, and a hash of their sequence (FNV-1a over each
    /// event's Lamport time and origin, in delivery order).
    public private(set) var deliveredCount = 0
    public private(set) var deliveryHash: UInt64 = 0xcbf2_9ce4_8422_2325

    public static func address(of index: Int) -> String { "sim:\(index)" }

    public static func index(of address: String) -> Int? {
        guard address.hasPrefix("sim:") else { return nil }
        return Int(address.dropFirst(4))
    }

    /// - Parameters:
    ///   - position: which identity of `directory` the node holds.
    ///   - index: its place in the simulator (its address); defaults to `position`.
    ///   - clock: clock synchronisation settings (mode, reference, window).
    ///   - events: the bus's settings; `vectorIntervalNanoseconds` how often it exchanges heartbeat
    ///     vectors (the core's default: every gossip round).
    ///   - founding: whether the node starts the first size epoch itself, as a node with no seeds
    ///     does in the runtime (false: it learns the running epoch from its peers, as a joiner).
    public init(
        position: Int, index: Int? = nil, directory: SimDirectory<Signer>, suite: Suite,
        membership: MembershipConfiguration, epoch: UInt32 = 1,
        clock: ClockSync.Configuration = ClockSync.Configuration(),
        events: EventOrder.Configuration = EventOrder.Configuration(), vectorIntervalNanoseconds: Int64? = nil,
        founding: Bool = true, now: Instant
    ) {
        self.position = index ?? position
        var trust = TrustStore()
        try? trust.trust(directory.authority, suite: suite)
        core = NodeCore(
            signer: directory.signers[position], certificate: directory.certificates[position], trust: trust,
            suite: suite, address: Self.address(of: index ?? position), epoch: epoch, membership: membership,
            founding: founding, clock: clock, events: events, vectorIntervalNanoseconds: vectorIntervalNanoseconds,
            now: now)
    }

    /// Runs a command on the core and turns its effects into simulator sends.
    public mutating func perform(_ effects: [NodeCore<Signer, Suite>.Effect], at now: Instant, into out: inout [SimEffect]) {
        for effect in effects {
            switch effect {
            case .send(let address, let bytes, let reliable):
                if let index = Self.index(of: address) { out.append(.send(to: index, bytes: bytes, reliable: reliable)) }
            case .memberChanged(let member, let previous):
                if recordsChanges { changes.append((now, member, previous)) }
            case .delivered(let event):
                deliveredCount += 1
                deliveryHash = Self.fold(deliveryHash, event.key)
                if recordsDeliveries { deliveries.append((now, event)) }
            case .learned(let rumor):
                if recordsDeliveries, rumor.kind == RumorKind.event { arrivals.append((now, rumor)) }
            case .revocationsUpdated, .lookupFinished, .dataReply:
                break
            }
        }
    }

    /// FNV-1a step over one order key.
    public static func fold(_ hash: UInt64, _ key: OrderKey) -> UInt64 {
        var hash = hash
        for word in [key.lamport, key.origin.high, key.origin.low] {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash = (hash ^ ((word >> UInt64(shift)) & 0xff)) &* 0x100_0000_01b3
            }
        }
        return hash
    }

    public mutating func tick(at now: Instant, random: inout SimRandom, effects: inout [SimEffect]) {
        perform(core.tick(now: now, using: &random, store: &store), at: now, into: &effects)
    }

    public mutating func receive(
        _ bytes: [UInt8], from sender: Int, reliable: Bool, at now: Instant, random: inout SimRandom,
        effects: inout [SimEffect]
    ) {
        perform(
            core.receive(bytes, from: Self.address(of: sender), reliable: reliable, now: now, using: &random, store: &store),
            at: now, into: &effects)
    }
}
