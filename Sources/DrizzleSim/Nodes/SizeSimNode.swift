public import DrizzleCore

/// The members a simulated node may gossip with: the live set, shared by every node of a run and
/// changed by the experiment as nodes crash and join (a stand-in for a membership view).
public final class LivePeers {
    public var ids: [NodeID]

    public init(_ ids: [NodeID]) { self.ids = ids }
}

/// A simulated node running a real size estimator (`PushPullAverage` or `PushSum`) behind the real
/// envelope: every message is sealed into bytes (signed, or null-signed with `--no-crypto`) and
/// opened on arrival. One simulator round is one gossip cycle.
public struct SizeSimNode<Signer: MessageSigner, Suite: CryptoSuite, Estimator: SizeEstimator>: SimulatedNode {
    public var estimator: Estimator
    public let position: Int
    private var link: EnvelopeLink<Signer, Suite, Int>
    private let directory: SimDirectory<Signer>
    private let peers: LivePeers

    /// Datagrams that could not be sealed within the limit (must stay 0).
    public var sealFailures: Int { link.sealFailures }
    /// The largest datagram this node sent.
    public var largestDatagram: Int { link.largestDatagram }
    /// Drops by reason on receipt.
    public var drops: DropCounters { link.opener.drops }
    /// True: the node runs its cycle when the simulator's round starts (every node at the same
    /// instant). False: the round's tick does nothing and the experiment calls `cycle` at the
    /// node's own phase within the round, as unsynchronised timers would.
    public var cyclesOnRound = true

    public init(
        position: Int, directory: SimDirectory<Signer>, suite: Suite, peers: LivePeers, estimator: Estimator,
        datagramLimit: Int = 1200, epoch: UInt32 = 1
    ) {
        self.position = position
        self.directory = directory
        self.peers = peers
        self.estimator = estimator
        link = directory.link(for: position, suite: suite, datagramLimit: datagramLimit, epoch: epoch)
    }

    public mutating func tick(at now: Instant, random: inout SimRandom, effects: inout [SimEffect]) {
        guard cyclesOnRound else { return }
        cycle(at: now, random: &random, effects: &effects)
    }

    /// One gossip cycle of the estimator.
    public mutating func cycle(at now: Instant, random: inout SimRandom, effects: inout [SimEffect]) {
        let outputs = estimator.tick(peers: peers.ids, using: &random)
        perform(outputs, at: now, effects: &effects)
    }

    public mutating func receive(
        _ bytes: [UInt8], from sender: Int, reliable: Bool, at now: Instant, random: inout SimRandom,
        effects: inout [SimEffect]
    ) {
        guard let envelope = link.open(bytes, from: sender, reliable: reliable, at: now, effects: &effects) else { return }
        for frame in envelope.frames {
            guard let message = SizeMessage(frame: frame) else { continue }
            let outputs = estimator.receive(message, from: envelope.header.sender, using: &random)
            perform(outputs, at: now, effects: &effects)
        }
    }

    private mutating func perform(_ outputs: [SizeOutput], at now: Instant, effects: inout [SimEffect]) {
        for output in outputs {
            switch output {
            case .send(let peer, let message):
                guard let index = directory.index[peer] else { continue }
                link.send([message.frame], to: index, reliable: false, at: now, effects: &effects)
            }
        }
    }
}
