/// Rumor kinds carried by the node's gossip layer.
public enum RumorKind {
    /// A CA-signed revocation list (its encoded bytes).
    public static let revocationList: UInt8 = 1
    /// A bus event (`BusEvent`, delivered in Lamport total order).
    public static let event: UInt8 = 2
    /// A node's `TrustStatus`: its certificate, CAs and revocation-list version.
    public static let trustStatus: UInt8 = 3
}

/// One BitDrizzle node's protocol state, sans-IO: the authenticated transport (`EnvelopeLink`),
/// membership and failure detection (`Membership`), and rumor mongering (`Gossip`) for
/// cluster-wide updates such as revocation lists. The simulator and the NIO runtime both drive
/// this type: bytes and ticks in, effects out.
public struct NodeCore<Signer: MessageSigner, Suite: CryptoSuite>: Sendable {
    /// What the shell should do.
    public enum Effect: Sendable {
        /// Send `bytes` to `address`; `reliable` ones go over TCP in the runtime.
        case send(to: String, bytes: [UInt8], reliable: Bool)
        case memberChanged(Member, from: MemberState?)
        /// A rumor arrived or was started here.
        case learned(Rumor)
        /// A newer revocation list took effect (the runtime persists it).
        case revocationsUpdated(RevocationList)
        /// A lookup started with `lookup(_:token:now:)` ended.
        case lookupFinished(token: UInt64, Result<LookupResult, LookupFailure>)
        /// The answer to a data request this node sent with `request(_:to:now:)`.
        case dataReply(DataMessage, from: NodeID)
        /// A bus event is delivered here, in the total order every node shares.
        case delivered(BusEvent)
    }

    public private(set) var link: EnvelopeLink<Signer, Suite, String>
    public private(set) var membership: Membership
    public private(set) var gossip: Gossip
    /// Network size by gossip aggregation (push-pull averaging unless configured otherwise).
    public private(set) var size: any SizeEstimator
    /// The Chord ring that places data.
    public private(set) var ring: ChordRing
    /// Replica maintenance and the serving side of the data protocol.
    public private(set) var replication: Replication
    /// Clock synchronisation, its samples riding on probes.
    public private(set) var clock: ClockSync
    /// The message bus: Lamport total-order delivery.
    public private(set) var bus: EventOrder
    /// Heartbeat vectors are exchanged with one random member this often.
    public let vectorIntervalNanoseconds: Int64
    private var nextVectorAt: Instant
    /// Vector rounds so far, and the Lamport clock at the last one sent: an idle bus exchanges
    /// only every `idleVectorEvery` rounds, with the member probed next (`idleVectorDue` until then).
    private var vectorRounds = 0
    private var idleVectorDue = false
    private var lastVectorClock: UInt64 = 0
    public var idleVectorEvery = 25
    /// Event rumors kept for anti-entropy; the oldest are forgotten beyond this many.
    public var eventRetention = 20_000
    private var eventRumors: [(id: RumorID, slot: EventSlot)] = []
    /// The rumor that carries each held event, to answer `EventRequest`s.
    private var eventSlots: [EventSlot: RumorID] = [:]

    struct EventSlot: Hashable {
        var origin: NodeID
        var epoch: UInt32
        var sequence: UInt64

    }
    public var suite: Suite { link.opener.suite }
    public var me: NodeID { membership.me }
    /// Gossip rounds run every this many ticks of `gossipIntervalNanoseconds`.
    public let gossipIntervalNanoseconds: Int64
    private var nextGossipAt: Instant
    /// One size-estimation cycle this often at most: each rides on the next probe (`tick`).
    public let sizeCycleNanoseconds: Int64
    private var nextSizeCycleAt: Instant

    public init(
        signer: Signer, certificate: Certificate, trust: TrustStore, suite: Suite, address: String, epoch: UInt32,
        membership configuration: MembershipConfiguration = MembershipConfiguration(),
        // A node pushes new events eagerly, so it keeps a rumor hot for 2 x fanout sends (as
        // running nodes do, ConfigurationMapping); the simulator's nodes use this default.
        rumorPolicy: RumorPolicy = RumorPolicy(
            k: 3, mode: .push, fanout: 3, transmitLimit: .memberlist(multiplier: 4), minimumTransmits: 6),
        gossipIntervalNanoseconds: Int64 = 200_000_000, antiEntropyEveryRounds: Int = 50, datagramLimit: Int = 1200,
        replayWindow: Int = 1024, size sizeSettings: SizeSettings = SizeSettings(), pushSum: Bool = false,
        founding: Bool = true, sizeCycleNanoseconds: Int64 = 1_000_000_000,
        ring ringConfiguration: RingConfiguration = RingConfiguration(),
        clock clockConfiguration: ClockSync.Configuration = ClockSync.Configuration(),
        events eventConfiguration: EventOrder.Configuration = EventOrder.Configuration(),
        vectorIntervalNanoseconds: Int64? = nil, now: Instant
    ) {
        let id = certificate.nodeID(suite: suite)
        let sealer = EnvelopeSealer(
            signer: signer, certificate: certificate, sender: id, epoch: epoch, maximumLength: datagramLimit)
        let opener = EnvelopeOpener(suite: suite, trust: trust, replayWindowSize: replayWindow, maximumLength: EnvelopeHeader.streamLimit)
        link = EnvelopeLink(sealer: sealer, opener: opener, datagramLimit: datagramLimit)
        var settings = configuration
        // Room for updates: the datagram (certificate attached) minus the largest probe message head.
        settings.piggybackBudgetBytes = min(settings.piggybackBudgetBytes, link.datagramFrameCapacity - Frame.overhead - 300)
        membership = Membership(
            me: id, address: address, serial: certificate.serial, configuration: settings, now: now)
        gossip = Gossip(
            me: id, policy: rumorPolicy, antiEntropyEveryRounds: antiEntropyEveryRounds,
            rumorBudgetBytes: link.datagramFrameCapacity - Frame.overhead - 3, firstSequence: UInt64(epoch) << 32)
        self.gossipIntervalNanoseconds = max(1, gossipIntervalNanoseconds)
        nextGossipAt = now.advanced(byNanoseconds: gossipIntervalNanoseconds)
        size =
            pushSum
            ? PushSum(me: id, settings: sizeSettings, founding: founding)
            : PushPullAverage(me: id, settings: sizeSettings, founding: founding)
        self.sizeCycleNanoseconds = max(1, sizeCycleNanoseconds)
        nextSizeCycleAt = now.advanced(byNanoseconds: sizeCycleNanoseconds)
        let peer = RingPeer(id: id, address: address)
        ring = ChordRing(me: peer, configuration: ringConfiguration, now: now)
        replication = Replication(
            me: peer, replicas: ringConfiguration.successorCount,
            maintenanceIntervalNanoseconds: ringConfiguration.maintenanceIntervalNanoseconds,
            fullCheckIntervalNanoseconds: ringConfiguration.fullCheckIntervalNanoseconds,
            globalIntervalNanoseconds: ringConfiguration.globalIntervalNanoseconds, now: now)
        clock = ClockSync(configuration: clockConfiguration, now: now)
        bus = EventOrder(me: id, epoch: epoch, configuration: eventConfiguration)
        self.vectorIntervalNanoseconds = max(1, vectorIntervalNanoseconds ?? gossipIntervalNanoseconds)
        nextVectorAt = now.advanced(byNanoseconds: self.vectorIntervalNanoseconds)
    }

    /// This node's synchronised time when its raw clock reads `now`.
    public func time(at now: Instant) -> Instant { clock.time(at: now) }

    /// This node's network-size answer (nil before any estimate exists).
    public var sizeEstimate: SizeEstimate? { size.estimate }

    // MARK: Commands

    public mutating func join(seeds: [String], now: Instant) -> [Effect] {
        var sends = membership.join(seeds: seeds, now: now).compactMap(Self.membershipSend)
        var effects: [Effect] = []
        if let seed = seeds.first(where: { $0 != membership.selfMember.address }) {
            handle(ring.join(via: seed, now: now), sends: &sends, effects: &effects, now: now)
        }
        return effects + pack(sends, now: now)
    }

    /// Asks `address` whether a node of this cluster listens there: a signed certificate request
    /// carrying this node's certificate, which such a node answers with its own (a TCP listener of
    /// another kind, or a node of another CA, does not). `greetings[address]` then names it. At
    /// most 64 greetings are remembered; the oldest are forgotten first.
    public mutating func greet(_ address: String, now: Instant) -> [Effect] {
        if greetings.count >= 64, let any = greetings.keys.first { greetings[any] = nil }
        greetings[address] = .some(nil)
        guard
            let bytes = link.seal(
                [Frame(type: FrameType.certificateRequest, body: [])], to: address, reliable: false, at: now,
                certificate: .always)
        else { return [] }
        return [.send(to: address, bytes: bytes, reliable: false)]
    }

    /// Forgets a greeting (the caller has its answer, or gave up).
    public mutating func forgetGreeting(_ address: String) { greetings[address] = nil }

    public mutating func leave(now: Instant, using generator: inout some RandomNumberGenerator) -> [Effect] {
        let effects = pack(membership.leave(using: &generator).compactMap(Self.membershipSend), now: now)
        ring.reset()
        return effects
    }

    /// Starts a lookup of `key` on the ring; `.lookupFinished(token:…)` reports its end (tokens
    /// with the top bit set are reserved for replica maintenance).
    public mutating func lookup(_ key: NodeID, token: UInt64, now: Instant) -> [Effect] {
        var sends: [Outgoing] = []
        var effects: [Effect] = []
        handle(ring.lookup(key, token: token & ~Replication.tokenBit, now: now), sends: &sends, effects: &effects, now: now)
        return effects + pack(sends, now: now)
    }

    /// Sends a data request (store, fetch, delete) over the reliable transport; the answer comes
    /// back as `.dataReply`.
    public mutating func request(_ message: DataMessage, to address: String, now: Instant) -> [Effect] {
        pack([Outgoing(to: address, message.frame)], now: now)
    }

    /// Answers a data request this node sends to itself (it may be one of a key's replicas)
    /// without the network: the reply it would have sent.
    public mutating func serveLocally(_ message: DataMessage, store: inout some PieceStore) -> DataMessage? {
        let outputs = replication.serve(message, from: ring.me, ring: ring, store: &store, suite: suite)
        for case .send(_, let reply) in outputs where reply.request == message.request && reply.isReply { return reply }
        return nil
    }

    /// Notes writes and removals made straight to the store (`WL`, `DL`), so maintenance offers them.
    public mutating func noteLocalWrite(_ key: NodeID) { replication.noteWrite(key) }
    public mutating func noteLocalRemoval() { replication.noteRemoval() }

    /// Takes members into the view without announcing them (see `Membership.adopt`).
    public mutating func adopt(_ updates: [MemberUpdate], now: Instant) {
        membership.adopt(updates.filter { $0.id != me }, now: now)
        bus.adopt(updates.filter { $0.state.isActive }.map(\.id))
    }

    /// True when this node may publish at `now`: in step with the cluster's order for the join
    /// grace (or alone), and not still joining. A node whose join no seed has answered yet is not
    /// alone, only cut off (restarted while its seeds are partitioned away): its events would carry
    /// Lamport times the cluster passed long ago and arrive too late to be delivered anywhere.
    public func canPublish(at now: Instant) -> Bool { !membership.isJoining && bus.canPublish(at: now) }

    /// Publishes a bus event: stamped with this node's Lamport time, spread by rumor mongering
    /// (pushed at once to `fanout` members, see `eagerPush`), delivered here and everywhere once stable.
    public mutating func publish(
        topic: String, payload: [UInt8], now: Instant, using generator: inout some RandomNumberGenerator
    ) throws(PublishError) -> [Effect] {
        guard !membership.isJoining else { throw .notInStep }
        let event = try bus.publish(topic: topic, payload: payload, physical: clock.time(at: now), now: now)
        let (rumor, _) = gossip.publish(kind: RumorKind.event, payload: event.encoded)
        hold(event, in: rumor.id)
        var sends: [Outgoing] = []
        eagerPush(rumor, except: nil, sends: &sends, using: &generator)
        return [.learned(rumor)] + bus.receive(event).map(Effect.delivered) + pack(sends, now: now)
    }

    /// A new event goes at once to `fanout` random members (not the one it came from), with this
    /// node's vector when both fit a datagram, instead of waiting for the next gossip round: events
    /// then reach every node in a few network hops rather than a few rounds, and the clocks that
    /// make them stable travel with them. The rounds still push it until the rumor policy lets it
    /// cool; an eager copy gets no feedback, so it does not cool the rumor early (that left a few
    /// nodes to anti-entropy).
    private mutating func eagerPush(
        _ rumor: Rumor, except source: NodeID?, sends: inout [Outgoing],
        using generator: inout some RandomNumberGenerator
    ) {
        let candidates = membership.activeMembers.lazy.map(\.id).filter { $0 != source }
        let partners = Gossip.sample(Array(candidates), count: gossip.policy.fanout, excluding: me, using: &generator)
        guard !partners.isEmpty else { return }
        let push = GossipMessage.eager([rumor]).frame
        let vector = compactVectorFrame(isReply: false)
        // The vector rides along only when both fit one datagram (clusters of up to a few hundred).
        let withVector = push.encodedLength + vector.encodedLength <= link.datagramFrameCapacity
        for partner in partners {
            guard let address = membership.member(partner)?.address else { continue }
            sends.append(Outgoing(to: address, push))
            if withVector { sends.append(Outgoing(to: address, vector)) }
        }
    }

    /// Spreads a revocation list (from `drizzle-keys revoke`) and enforces it here at once. Like an
    /// event, it is pushed at once to `fanout` members, and each pushes it on when first heard.
    public mutating func publish(
        _ list: RevocationList, now: Instant, using generator: inout some RandomNumberGenerator
    ) -> [Effect] {
        var sends: [Outgoing] = []
        var effects = enforce(list, sends: &sends, now: now)
        guard case .revocationsUpdated = effects.last else { return effects + pack(sends, now: now) }
        let (rumor, _) = gossip.publish(kind: RumorKind.revocationList, payload: list.encoded)
        effects.append(.learned(rumor))
        eagerPush(rumor, except: nil, sends: &sends, using: &generator)
        return effects + pack(sends, now: now)
    }

    /// This node's certificate, trusted CAs and revocation-list version.
    public var trustStatus: TrustStatus {
        TrustStatus(
            serial: certificate.serial, notAfter: certificate.notAfter,
            revocationVersion: link.opener.trust.revocations?.version ?? 0,
            authorities: Array(link.opener.trust.authorities.keys))
    }

    /// The newest `TrustStatus` heard from each node (this one included once announced), with the
    /// rumor sequence it came in.
    public private(set) var trustStatuses: [NodeID: (sequence: UInt64, status: TrustStatus)] = [:]
    /// Addresses greeted with `greet(_:now:)`, and the node that answered from each (nil until one did).
    public private(set) var greetings: [String: NodeID?] = [:]

    /// Announces this node's `trustStatus` to the cluster as a rumor.
    public mutating func announceTrust(now: Instant) -> [Effect] {
        let (rumor, _) = gossip.publish(kind: RumorKind.trustStatus, payload: trustStatus.encoded)
        keepNewestTrustStatus(trustStatus, in: rumor.id)
        return [.learned(rumor)]
    }

    /// Records `status` if `id` is the newest status rumor from its origin, and lets gossip forget
    /// the older one (or this one, when it is the older): one status rumor per node is held, not
    /// one per announcement, so a long-running cluster's rumor store and digests stay bounded.
    private mutating func keepNewestTrustStatus(_ status: TrustStatus, in id: RumorID) {
        if let held = trustStatuses[id.origin] {
            guard id.sequence > held.sequence else {
                gossip.forget(id)
                return
            }
            gossip.forget(RumorID(origin: id.origin, sequence: held.sequence))
        }
        trustStatuses[id.origin] = (id.sequence, status)
    }

    /// Why a new identity was refused.
    public enum IdentityError: Error, Equatable, Sendable, CustomStringConvertible {
        case otherNode(NodeID)
        case keyMismatch

        public var description: String {
            switch self {
            case .otherNode(let id):
                "the new certificate is for node \(id), not this one: issue it with `drizzle-keys rotate`, which keeps the id"
            case .keyMismatch: "the new certificate does not certify the new key"
            }
        }
    }

    /// Switches to a rotated key and certificate without leaving: the node id, epoch and sequence
    /// numbers stay; the certificate rides on the next envelopes to every peer, and the new serial
    /// is announced with a higher incarnation.
    public mutating func replaceIdentity(signer: Signer, certificate: Certificate) throws(IdentityError) {
        guard certificate.nodeID(suite: suite) == me else { throw .otherNode(certificate.nodeID(suite: suite)) }
        guard certificate.publicKey == signer.publicKey else { throw .keyMismatch }
        link.replaceIdentity(signer: signer, certificate: certificate)
        membership.announce(address: membership.selfMember.address, serial: certificate.serial)
    }

    /// The certificate this node sends with.
    public var certificate: Certificate { link.sealer.certificate }

    /// Takes a new trust bundle and revocation list (reloaded from the key folder): trusts every
    /// authority in `authorities` and only those, and applies and spreads `revocations` when it is
    /// newer than the one held.
    public mutating func updateTrust(
        authorities: [Certificate], revocations: RevocationList?, now: Instant,
        using generator: inout some RandomNumberGenerator
    ) -> [Effect] {
        var trust = link.opener.trust
        for authority in authorities { try? trust.trust(authority, suite: suite) }
        let kept = Set(authorities.map(\.issuer))
        for id in trust.authorities.keys where !kept.contains(id) { trust.distrust(id) }
        link.opener.trust = trust
        guard let revocations, revocations.version > (trust.revocations?.version ?? 0) else { return [] }
        return publish(revocations, now: now, using: &generator)
    }

    // MARK: Inputs

    public mutating func tick(
        now: Instant, using generator: inout some RandomNumberGenerator, store: inout some PieceStore
    ) -> [Effect] {
        var sends: [Outgoing] = []
        var effects: [Effect] = []
        clock.tick(at: now)
        for output in membership.tick(now: now, using: &generator) {
            switch output {
            case .send(let address, let message): sends.append(Outgoing(to: address, message.frame))
            case .changed(let member, let previous):
                effects.append(.memberChanged(member, from: previous))
                noteChange(member, from: previous, sends: &sends, effects: &effects, now: now)
            }
        }
        handle(ring.tick(now: now), sends: &sends, effects: &effects, now: now)
        handle(replication.tick(now: now, ring: ring, store: store), sends: &sends, effects: &effects, now: now)
        if nextGossipAt <= now {
            nextGossipAt = now.advanced(byNanoseconds: gossipIntervalNanoseconds)
            // A view, not a copy: the member list is long and gossip picks only `fanout` of it.
            let peers = membership.activeMembers.lazy.map(\.id)
            let outputs = gossip.tick(peers: peers, clusterSize: membership.viewSize, using: &generator)
            effects += handle(outputs, sends: &sends, now: now)
        }
        if nextSizeCycleAt <= now {
            // A due size exchange waits for the next probe and goes to the member probed, in the
            // same envelope (SWIM's shuffled round-robin is a fine random peer, and the exchange
            // then costs its frame, not a signed datagram of its own; the answer rides on the ack).
            let active = membership.activeMembers
            let probed = sends.first { $0.frame.type == FrameType.ping }.flatMap { ping in
                active.first { $0.address == ping.address }
            }
            if active.isEmpty || probed != nil {
                nextSizeCycleAt = now.advanced(byNanoseconds: sizeCycleNanoseconds)
                let peers = [me] + (probed.map { [$0.id] } ?? [])
                size.observeView(size: membership.viewSize)
                route(size.tick(peers: peers, using: &generator), into: &sends)
            }
        }
        if nextVectorAt <= now {
            nextVectorAt = now.advanced(byNanoseconds: vectorIntervalNanoseconds)
            vectorRounds += 1
            let active = membership.activeMembers
            let busy = bus.pendingCount > 0 || bus.clock != lastVectorClock || !bus.inStep
            if !active.isEmpty, busy {
                lastVectorClock = bus.clock
                idleVectorDue = false
                // To every member this round's gossip pushes to, in the same datagrams, so clocks
                // spread as fast as the events do (stability needs every member's clock past an
                // event's time) — while the vector fits a datagram (a few hundred members; beyond,
                // a vector is kilobytes over TCP); otherwise, or when nothing was pushed, to one
                // random member.
                var partners: [String] = []
                let frame = compactVectorFrame(isReply: false)
                if Transport.of(frame, datagramCapacity: link.datagramFrameCapacity) == .datagram {
                    for send in sends where send.frame.type == FrameType.rumors && !partners.contains(send.address) {
                        partners.append(send.address)
                    }
                }
                if partners.isEmpty { partners = [active[Int.random(in: 0..<active.count, using: &generator)].address] }
                for partner in partners { sends.append(vectorSend(to: partner, frame)) }
            } else if vectorRounds % max(1, idleVectorEvery) == 0 {
                idleVectorDue = true
            }
        }
        // An idle bus's exchange waits for the next probe and rides in the ping's envelope, its
        // answer in the ack's, as the size exchange does: a frame, not two signed datagrams.
        if idleVectorDue, let ping = sends.first(where: { $0.frame.type == FrameType.ping }) {
            idleVectorDue = false
            lastVectorClock = bus.clock
            sends.append(vectorSend(to: ping.address, compactVectorFrame(isReply: false)))
        }
        effects += bus.tick(now: now).map(Effect.delivered)
        forgetOldEvents()
        return effects + pack(stamped(sends, now: now), now: now)
    }

    /// Takes in an envelope that arrived from `address`: a datagram, or over a stream
    /// (`reliable`, which may be longer than a datagram).
    public mutating func receive(
        _ bytes: [UInt8], from address: String, reliable: Bool, now: Instant,
        using generator: inout some RandomNumberGenerator, store: inout some PieceStore
    ) -> [Effect] {
        let view = membership
        let received = link.receive(bytes, from: address, reliable: reliable, at: now) { view.member($0)?.address }
        var effects: [Effect] = received.replies.map { .send(to: received.replyTo, bytes: $0, reliable: false) }
        guard let envelope = received.envelope else { return effects }
        let sender = envelope.header.sender
        if greetings[address] != nil { greetings[address] = .some(sender) }
        bus.heard(from: sender)
        var sends: [Outgoing] = []
        for frame in envelope.frames {
            // Each frame goes to the component that owns its type (FrameType's table); a type no
            // component owns, or bytes its owner cannot decode, are ignored.
            switch FrameType.owner(of: frame.type) {
            case .membership:
                guard let message = MembershipMessage(frame: frame) else { continue }
                for output in membership.receive(message, from: sender, address: address, now: now, using: &generator) {
                    switch output {
                    case .send(let address, let message): sends.append(Outgoing(to: address, message.frame))
                    case .changed(let member, let previous):
                        effects.append(.memberChanged(member, from: previous))
                        noteChange(member, from: previous, sends: &sends, effects: &effects, now: now)
                    }
                }
            case .ring:
                guard let message = RingMessage(frame: frame) else { continue }
                // Answers go to where the sender listens: a TCP arrival's source port is ephemeral.
                let replyTo = membership.member(sender)?.address ?? address
                handle(
                    ring.receive(message, from: sender, address: replyTo, now: now), sends: &sends, effects: &effects,
                    now: now)
            case .data:
                guard let message = DataMessage(frame: frame) else { continue }
                if message.isReply, message.request & Replication.tokenBit == 0 {
                    effects.append(.dataReply(message, from: sender))
                } else {
                    // Replies go to the sender's advertised address (a TCP arrival's source port is ephemeral).
                    let peer = RingPeer(id: sender, address: membership.member(sender)?.address ?? address)
                    let outputs = replication.serve(message, from: peer, ring: ring, store: &store, suite: suite)
                    handle(outputs, sends: &sends, effects: &effects, now: now)
                }
            case .gossip:
                guard let message = GossipMessage(frame: frame) else { continue }
                let outputs = gossip.receive(message, from: sender, using: &generator)
                effects += handle(outputs, sends: &sends, now: now)
                if message.isPush {
                    for case .learned(let rumor, _) in outputs
                    where rumor.kind == RumorKind.event || rumor.kind == RumorKind.revocationList {
                        eagerPush(rumor, except: sender, sends: &sends, using: &generator)
                    }
                }
            case .size:
                guard let message = SizeMessage(frame: frame) else { continue }
                route(size.receive(message, from: sender, using: &generator), into: &sends)
            case .clock:
                guard let message = ClockMessage(frame: frame) else { continue }
                if case .probe = message, let answer = clock.answer(message, at: now) {
                    sends.append(Outgoing(to: address, answer.frame))
                } else {
                    clock.receive(message, from: sender, at: now)
                }
            case .heartbeatVector:
                guard let vector = HeartbeatVector(frame: frame) else { continue }
                let peer = membership.member(sender)?.address ?? address
                switch vector.body {
                case .compact(let compact):
                    if let delivered = bus.merge(compact, now: now) {
                        effects += delivered.map(Effect.delivered)
                        if !vector.isReply { sends.append(vectorSend(to: peer, compactVectorFrame(isReply: true))) }
                        sends += requestGaps(from: peer, now: now)
                    } else if !vector.isReply {
                        // Different layouts (an id or an epoch one side has not seen): trade full vectors.
                        sends.append(vectorSend(to: peer, fullVectorFrame(wantsFull: true)))
                    }
                case .full(let entries):
                    effects += bus.merge(entries.map { ($0.key, $0.value) }, now: now).map(Effect.delivered)
                    if vector.wantsFull || !vector.isReply {
                        sends.append(vectorSend(to: peer, fullVectorFrame(wantsFull: false)))
                    }
                    sends += requestGaps(from: peer, now: now)
                }
            case .eventRequest:
                guard let request = EventRequest(frame: frame) else { continue }
                sends += answer(request, to: membership.member(sender)?.address ?? address)
            case .link, nil:
                // Certificate requests are the link's (already served); unknown types are ignored.
                continue
            }
        }
        return effects + pack(stamped(sends, now: now), now: now)
    }

    // MARK: Internals

    /// A member that died or left, or comes back (a new process), no longer holds our certificate.
    /// The ring follows membership: a failed node leaves the successor list and fingers at once;
    /// a live one is considered as successor.
    private mutating func noteChange(
        _ member: Member, from previous: MemberState?, sends: inout [Outgoing], effects: inout [Effect],
        now: Instant
    ) {
        if !member.state.isActive || previous == nil || previous?.isActive == false {
            link.resendCertificate(to: member.address)
        }
        bus.memberChanged(member.id, active: member.state.isActive, left: member.state == .left, now: now)
        if member.state.isActive {
            if member.state == .alive {
                let peer = RingPeer(id: member.id, address: member.address)
                handle(ring.consider(peer), sends: &sends, effects: &effects, now: now)
            }
        } else {
            handle(ring.remove(member.id, now: now), sends: &sends, effects: &effects, now: now)
            replication.forget(member.id)
        }
    }

    private mutating func handle(
        _ outputs: [ChordRing.Output], sends: inout [Outgoing], effects: inout [Effect], now: Instant
    ) {
        for output in outputs {
            switch output {
            case .send(let address, let message):
                // Ring RPCs travel over TCP in the runtime, like data.
                sends.append(Outgoing(to: address, message.frame))
            case .lookupFinished(let token, let result):
                if token & Replication.tokenBit != 0 {
                    let next = replication.lookupFinished(token: token, result, ring: ring)
                    handle(next, sends: &sends, effects: &effects, now: now)
                } else {
                    effects.append(.lookupFinished(token: token, result))
                }
            case .predecessorChanged, .successorsChanged:
                break
            }
        }
    }

    private mutating func handle(
        _ outputs: [Replication.Output], sends: inout [Outgoing], effects: inout [Effect], now: Instant
    ) {
        for output in outputs {
            switch output {
            case .send(let peer, let message):
                sends.append(Outgoing(to: peer.address, message.frame))
            case .lookup(let key, let token):
                handle(ring.lookup(key, token: token, now: now), sends: &sends, effects: &effects, now: now)
            }
        }
    }

    private func route(_ outputs: [SizeOutput], into sends: inout [Outgoing]) {
        for case .send(let peer, let message) in outputs {
            if let address = membership.member(peer)?.address { sends.append(Outgoing(to: address, message.frame)) }
        }
    }

    private static func membershipSend(_ output: Membership.Output) -> Outgoing? {
        guard case .send(let address, let message) = output else { return nil }
        return Outgoing(to: address, message.frame)
    }

    private mutating func handle(_ outputs: [Gossip.Output], sends: inout [Outgoing], now: Instant) -> [Effect] {
        var effects: [Effect] = []
        for output in outputs {
            switch output {
            case .send(let peer, let message, _):
                if let address = membership.member(peer)?.address { sends.append(Outgoing(to: address, message.frame)) }
            case .learned(let rumor, _):
                effects.append(.learned(rumor))
                if rumor.kind == RumorKind.revocationList, let list = try? RevocationList(decoding: rumor.payload) {
                    effects += enforce(list, sends: &sends, now: now)
                } else if rumor.kind == RumorKind.event, let event = BusEvent(decoding: rumor.payload) {
                    hold(event, in: rumor.id)
                    effects += bus.receive(event).map(Effect.delivered)
                } else if rumor.kind == RumorKind.trustStatus, let status = TrustStatus(decoding: rumor.payload) {
                    keepNewestTrustStatus(status, in: rumor.id)
                }
            }
        }
        return effects
    }

    /// Applies a newer revocation list: drops the revoked certificates from the trust store and
    /// expels every member it names, for good. An expelled member is dead to everything that follows
    /// membership, as a failed one is: the bus stops waiting for its heartbeat (after the same
    /// settle time), the ring drops it from successor lists and fingers.
    private mutating func enforce(_ list: RevocationList, sends: inout [Outgoing], now: Instant) -> [Effect] {
        let revokedIDs = Set(list.publicKeys.map { suite.nodeID(of: $0) })
            .union(link.opener.trust.nodes(holding: list.publicKeys, suite: suite))
        do {
            try link.opener.trust.apply(list, suite: suite)
        } catch {
            return []
        }
        var effects: [Effect] = []
        for member in membership.members where revokedIDs.contains(member.id) || list.serials.contains(member.serial) {
            for case .changed(let changed, let previous) in membership.ban(member.id, now: now) {
                effects.append(.memberChanged(changed, from: previous))
                noteChange(changed, from: previous, sends: &sends, effects: &effects, now: now)
            }
        }
        effects.append(.revocationsUpdated(list))
        return effects
    }

    /// A vector goes as a datagram when it fits one (a lost one is made good by the next round),
    /// over TCP when it does not (full vectors of large clusters): `Transport.of` decides.
    private func vectorSend(to address: String, _ frame: Frame) -> Outgoing { Outgoing(to: address, frame) }

    private mutating func compactVectorFrame(isReply: Bool) -> Frame {
        HeartbeatVector(body: .compact(bus.compactVector()), isReply: isReply).frame
    }

    /// The full vector, always as an answer (it gets none, unless it asks for the peer's full one).
    private func fullVectorFrame(wantsFull: Bool) -> Frame {
        HeartbeatVector(
            body: .full(Dictionary(bus.vectorEntries, uniquingKeysWith: { $1 })), isReply: true, wantsFull: wantsFull
        ).frame
    }

    /// Adds a clock probe (t1) beside every ping: clock samples ride on SWIM's probes.
    private mutating func stamped(_ sends: [Outgoing], now: Instant) -> [Outgoing] {
        guard sends.contains(where: { $0.frame.type == FrameType.ping }) else { return sends }
        var result: [Outgoing] = []
        result.reserveCapacity(sends.count + 1)
        for send in sends {
            result.append(send)
            if send.frame.type == FrameType.ping { result.append(Outgoing(to: send.address, clock.probe(at: now).frame)) }
        }
        return result
    }

    /// Forgets the oldest event rumors beyond `eventRetention` (a tenth at a time).
    private mutating func forgetOldEvents() {
        guard eventRumors.count > eventRetention + eventRetention / 10 else { return }
        let old = eventRumors.prefix(eventRumors.count - eventRetention)
        let dropped = Set(old.map(\.id))
        for entry in old where eventSlots[entry.slot] == entry.id { eventSlots[entry.slot] = nil }
        eventRumors.removeFirst(old.count)
        gossip.forget { dropped.contains($0.id) }
    }

    private mutating func hold(_ event: BusEvent, in rumor: RumorID) {
        let slot = EventSlot(origin: event.origin, epoch: event.epoch, sequence: event.sequence)
        eventRumors.append((rumor, slot))
        eventSlots[slot] = rumor
    }

    /// After merging a peer's vector: ask that peer for the events it says exist that are missing
    /// here (pull repair; it answers with those it holds).
    private mutating func requestGaps(from peer: String, now: Instant) -> [Outgoing] {
        let ranges = bus.gaps(now: now, limit: EventRequest.maximumEvents)
        guard !ranges.isEmpty else { return [] }
        return [Outgoing(to: peer, EventRequest(ranges: ranges).frame)]
    }

    /// The held events a peer asked for, as a gossip repair (nothing when none is held).
    private func answer(_ request: EventRequest, to peer: String) -> [Outgoing] {
        var rumors: [Rumor] = []
        for range in request.ranges {
            for sequence in range.first...range.last {
                let slot = EventSlot(origin: range.origin, epoch: range.epoch, sequence: sequence)
                if let id = eventSlots[slot], let rumor = gossip.rumor(id) { rumors.append(rumor) }
            }
        }
        guard !rumors.isEmpty else { return [] }
        return [Outgoing(to: peer, GossipMessage.repair(rumors).frame)]
    }

    /// Packs frames for the same address and transport into as few envelopes as fit (piggybacking),
    /// in order, and seals them.
    private mutating func pack(_ sends: [Outgoing], now: Instant) -> [Effect] {
        var effects: [Effect] = []
        var batches: [(address: String, reliable: Bool, frames: [Frame], bytes: Int)] = []
        let capacity = link.datagramFrameCapacity
        for send in sends where !send.address.isEmpty {
            let (address, frame) = (send.address, send.frame)
            let reliable = Transport.of(frame, datagramCapacity: capacity) == .stream
            if let index = batches.lastIndex(where: { $0.address == address && $0.reliable == reliable }),
                reliable || batches[index].bytes + frame.encodedLength <= capacity
            {
                batches[index].frames.append(frame)
                batches[index].bytes += frame.encodedLength
            } else {
                batches.append((address, reliable, [frame], frame.encodedLength))
            }
        }
        for batch in batches {
            if let bytes = link.seal(batch.frames, to: batch.address, reliable: batch.reliable, at: now) {
                effects.append(.send(to: batch.address, bytes: bytes, reliable: batch.reliable))
            }
        }
        return effects
    }
}
