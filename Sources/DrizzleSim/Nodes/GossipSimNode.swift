public import DrizzleCore

/// A simulated node running the real gossip core behind the real envelope: every message is
/// sealed into bytes (signed, or null-signed with `--no-crypto`) and opened on arrival.
public struct GossipSimNode<Signer: MessageSigner, Suite: CryptoSuite>: SimulatedNode {
    public var gossip: Gossip
    public let position: Int
    private var link: EnvelopeLink<Signer, Suite, Int>
    private let directory: SimDirectory<Signer>

    /// When this node first learned each rumor (its own clock).
    public private(set) var learnedAt: [RumorID: Instant] = [:]
    /// Datagrams that could not be sealed within the limit (must stay 0: the packer respects it).
    public var sealFailures: Int { link.sealFailures }
    /// The largest unreliable datagram this node sent.
    public var largestDatagram: Int { link.largestDatagram }
    /// Drops by reason on receipt.
    public var drops: DropCounters { link.opener.drops }

    public init(
        position: Int, directory: SimDirectory<Signer>, suite: Suite, policy: RumorPolicy,
        antiEntropyEveryRounds: Int, datagramLimit: Int = 1200, epoch: UInt32 = 1
    ) {
        self.position = position
        self.directory = directory
        link = directory.link(for: position, suite: suite, datagramLimit: datagramLimit, epoch: epoch)
        // Room for rumors: the datagram minus header, signature, an attached certificate, the
        // frame head and the rumors message head (flags and count).
        gossip = Gossip(
            me: directory.ids[position], policy: policy, antiEntropyEveryRounds: antiEntropyEveryRounds,
            rumorBudgetBytes: link.datagramFrameCapacity - Frame.overhead - 3)
    }

    /// Starts a rumor here (the experiment's workload).
    public mutating func publish(payload: [UInt8], at now: Instant) -> Rumor {
        let (rumor, _) = gossip.publish(kind: 0, payload: payload)
        learnedAt[rumor.id] = now
        return rumor
    }

    public mutating func tick(at now: Instant, random: inout SimRandom, effects: inout [SimEffect]) {
        let outputs = gossip.tick(peers: directory.ids, clusterSize: directory.count, using: &random)
        perform(outputs, at: now, effects: &effects)
    }

    public mutating func receive(
        _ bytes: [UInt8], from sender: Int, reliable: Bool, at now: Instant, random: inout SimRandom,
        effects: inout [SimEffect]
    ) {
        guard let envelope = link.open(bytes, from: sender, reliable: reliable, at: now, effects: &effects) else { return }
        for frame in envelope.frames {
            guard let message = GossipMessage(frame: frame) else { continue }
            let outputs = gossip.receive(message, from: envelope.header.sender, using: &random)
            perform(outputs, at: now, effects: &effects)
        }
    }

    private mutating func perform(_ outputs: [Gossip.Output], at now: Instant, effects: inout [SimEffect]) {
        for output in outputs {
            switch output {
            case .learned(let rumor, _):
                if learnedAt[rumor.id] == nil { learnedAt[rumor.id] = now }
            case .send(let peer, let message, let reliable):
                guard let index = directory.index[peer] else { continue }
                link.send([message.frame], to: index, reliable: reliable, at: now, effects: &effects)
            }
        }
    }
}
