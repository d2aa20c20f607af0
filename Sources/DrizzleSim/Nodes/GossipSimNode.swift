public import DrizzleCore

/// A simulated node running the real gossip core behind the real envelope: every message is
/// sealed into bytes (signed, or null-signed with `--no-crypto`) and opened on arrival.
public struct GossipSimNode<Signer: MessageSigner, Suite: CryptoSuite>: SimulatedNode {
    public var gossip: Gossip
    public let position: Int
    private var sealer: EnvelopeSealer<Signer>
    private var opener: EnvelopeOpener<Suite>
    private let directory: SimDirectory<Signer>
    private let datagramLimit: Int
    private var certificateSentTo: Set<Int> = []

    /// When this node first learned each rumor (its own clock).
    public private(set) var learnedAt: [RumorID: Instant] = [:]
    /// Datagrams that could not be sealed within the limit (must stay 0: the packer respects it).
    public private(set) var sealFailures = 0
    /// The largest unreliable datagram this node sent.
    public private(set) var largestDatagram = 0
    /// Drops by reason on receipt.
    public var drops: DropCounters { opener.drops }

    /// The largest reliable (stream) message, like a TCP frame in the runtime.
    static var streamLimit: Int { 16 << 20 }

    public init(
        position: Int, directory: SimDirectory<Signer>, suite: Suite, policy: RumorPolicy,
        antiEntropyEveryRounds: Int, datagramLimit: Int = 1200, epoch: UInt32 = 1
    ) {
        self.position = position
        self.directory = directory
        self.datagramLimit = datagramLimit
        let certificate = directory.certificates[position]
        sealer = EnvelopeSealer(
            signer: directory.signers[position], certificate: certificate, sender: directory.ids[position],
            epoch: epoch, maximumLength: datagramLimit)
        var trust = TrustStore()
        try? trust.trust(directory.authority, suite: suite)
        opener = EnvelopeOpener(suite: suite, trust: trust, maximumLength: Self.streamLimit)
        // Room for rumors: the datagram minus header, signature, an attached certificate, the
        // frame head and the rumors message head (flags and count).
        let budget = sealer.frameCapacity(attachingCertificate: true) - Frame.overhead - 3
        gossip = Gossip(
            me: directory.ids[position], policy: policy, antiEntropyEveryRounds: antiEntropyEveryRounds,
            rumorBudgetBytes: budget)
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
        let envelope: OpenedEnvelope
        switch opener.open(bytes, at: now) {
        case .success(let opened):
            envelope = opened
        case .failure(.unknownSender):
            // Reordering delivered a datagram before the one carrying the sender's certificate:
            // ask for it (the runtime does the same by address).
            seal([Frame(type: FrameType.certificateRequest, body: [])], to: sender, reliable: false, at: now, effects: &effects)
            return
        case .failure:
            return
        }
        for frame in envelope.frames {
            if frame.type == FrameType.certificateRequest {
                certificateSentTo.remove(sender)
                seal([], to: sender, reliable: false, at: now, effects: &effects)
                continue
            }
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
                seal([message.frame], to: index, reliable: reliable, at: now, effects: &effects)
            }
        }
    }

    /// Seals frames for node `index`, attaching our certificate until that node has been sent it.
    private mutating func seal(
        _ frames: [Frame], to index: Int, reliable: Bool, at now: Instant, effects: inout [SimEffect]
    ) {
        let attach = !certificateSentTo.contains(index)
        sealer.maximumLength = reliable ? Self.streamLimit : datagramLimit
        do {
            let bytes = try sealer.seal(frames, attachingCertificate: attach, at: now)
            certificateSentTo.insert(index)
            if !reliable { largestDatagram = max(largestDatagram, bytes.count) }
            effects.append(.send(to: index, bytes: bytes, reliable: reliable))
        } catch {
            sealFailures += 1
        }
    }
}
