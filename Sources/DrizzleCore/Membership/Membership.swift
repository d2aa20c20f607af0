/// Settings of the failure detector (defaults as memberlist's LAN profile, scaled to BitDrizzle).
public struct MembershipConfiguration: Hashable, Sendable {
    public var probeIntervalNanoseconds: Int64 = 1_000_000_000
    public var probeTimeoutNanoseconds: Int64 = 500_000_000
    /// Members asked to probe indirectly when a direct probe goes unanswered (SWIM's k).
    public var indirectChecks = 3
    /// Suspicion lasts `suspicionMultiplier · max(1, log10 n) · probe interval` at least.
    public var suspicionMultiplier = 4
    /// With Lifeguard, a fresh suspicion lasts up to this many times the minimum.
    public var suspicionMaximumMultiplier = 6
    public var retransmitMultiplier = 4
    /// Dead and left members are forgotten this long after their last change.
    public var reapNanoseconds: Int64 = 30_000_000_000
    /// Every gossip interval, pending updates go to `gossipFanout` random members (memberlist's
    /// gossip loop), so updates spread faster than probes alone would carry them.
    public var gossipIntervalNanoseconds: Int64 = 200_000_000
    public var gossipFanout = 3
    /// Full state exchange with one random member this often (0: never).
    public var syncIntervalNanoseconds: Int64 = 30_000_000_000
    /// This often, a full state exchange is offered to one random member declared dead (not one
    /// that left), as Serf's reconnect: after a partition heals, each side has declared the other
    /// dead and probes only its own, so without this the halves would never meet again (0: never).
    public var reconnectIntervalNanoseconds: Int64 = 10_000_000_000
    /// Dead members are tried for this long (Serf's reconnect_timeout), also after they are reaped.
    public var reconnectTimeoutNanoseconds: Int64 = 86_400_000_000_000
    public var lifeguard = true
    /// The most bytes of updates piggybacked on one message.
    public var piggybackBudgetBytes = 1000

    public init() {}
}

/// SWIM (Das, Gupta, Motivala 2002) with Lifeguard (Dadgar et al. 2018), sans-IO, for one node.
///
/// Every probe interval the node pings the next member of a shuffled round-robin order; without
/// an ack within the probe timeout it asks `indirectChecks` others to ping it; without any ack by
/// the end of the interval it suspects the member. A suspected member refutes by raising its
/// incarnation; otherwise it is declared dead when its suspicion times out. Updates ride on every
/// message (`BroadcastQueue`). Lifeguard: local health slows a struggling node's own probing,
/// nacks tell a prober its relays were fine, and suspicions time out faster with independent
/// confirmations.
public struct Membership: Sendable {
    /// What the shell should do.
    public enum Output: Hashable, Sendable {
        case send(to: String, message: MembershipMessage)
        /// A member's state changed in this node's view (for logs, the ring, experiments).
        case changed(Member, from: MemberState?)
    }

    private struct Probe: Sendable {
        var target: NodeID
        var sequence: UInt32
        var indirectAt: Instant
        var endsAt: Instant
        var acked = false
        var indirectSent = false
        var expectedNacks = 0
        var nacks = 0
    }

    private struct Relay: Sendable {
        var requester: String
        var originalSequence: UInt32
        var nackAt: Instant
    }

    public let me: NodeID
    public private(set) var address: String
    public private(set) var serial: UInt64
    public private(set) var incarnation: UInt64
    public var configuration: MembershipConfiguration
    public private(set) var health = LocalHealth()
    public private(set) var leaving = false

    private var view: [NodeID: Member] = [:] { didSet { active = nil } }
    /// `activeMembers`, kept between changes of the view (nodes ask for it several times a round).
    private var active: [Member]?
    private var suspicions: [NodeID: Suspicion] = [:]
    private var banned: Set<NodeID> = []
    private var broadcasts: BroadcastQueue
    private var probeOrder: [NodeID] = []
    private var probeIndex = 0
    private var probe: Probe?
    private var relays: [UInt32: Relay] = [:]
    private var nextSequence: UInt32 = 0
    private var nextProbeAt: Instant
    private var nextSyncAt: Instant
    private var nextReconnectAt: Instant
    /// Dead members reaped from the view, still tried by reconnect until the timeout.
    private var failed: [NodeID: (address: String, since: Instant)] = [:]
    private var nextGossipAt: Instant
    /// Seeds to ask again until one answers the join with the full state.
    private var pendingSeeds: [String] = []
    /// How long until the join is asked again while no member is known: a twentieth of the probe
    /// interval at first, doubling up to the interval. Nodes started together then find a seed
    /// that was not listening yet within 50 ms, not a whole probe interval (a join sent before the
    /// seed's socket was open is simply lost).
    private var joinRetryNanoseconds: Int64 = 0
    /// Members that joined (entered the view alive, or came back from dead or left) while the
    /// current message was applied: `receive` pushes them on at once (`pushJoins`).
    private var joined: [MemberUpdate] = []
    /// Strangers (authenticated senders missing from the view) asked for a sync, and when.
    private var strangersAsked: [NodeID: Instant] = [:]

    /// Suspicions this node raised from its own failed probes, by member (for experiments:
    /// false suspicions of healthy members).
    public private(set) var suspicionsRaised: [NodeID: Int] = [:]
    /// Times this node refuted a suspicion of itself.
    public private(set) var refutations = 0

    public init(
        me: NodeID, address: String, serial: UInt64, incarnation: UInt64 = 0,
        configuration: MembershipConfiguration = MembershipConfiguration(), now: Instant
    ) {
        self.me = me
        self.address = address
        self.serial = serial
        self.incarnation = incarnation
        self.configuration = configuration
        broadcasts = BroadcastQueue(limit: .memberlist(multiplier: configuration.retransmitMultiplier))
        nextProbeAt = now.advanced(byNanoseconds: configuration.probeIntervalNanoseconds)
        nextSyncAt = now.advanced(byNanoseconds: configuration.syncIntervalNanoseconds)
        nextReconnectAt = now.advanced(byNanoseconds: configuration.reconnectIntervalNanoseconds)
        nextGossipAt = now.advanced(byNanoseconds: configuration.gossipIntervalNanoseconds)
    }

    // MARK: Queries

    /// This node as its peers see it.
    public var selfMember: Member {
        Member(id: me, address: address, incarnation: incarnation, state: leaving ? .left : .alive, serial: serial,
            since: Instant(nanoseconds: 0))
    }

    /// Every member this node knows of (itself excluded), including dead and left ones not yet reaped.
    public var members: [Member] { view.values.sorted { $0.id < $1.id } }

    public func member(_ id: NodeID) -> Member? { view[id] }

    /// Alive and suspect members, itself excluded.
    public var activeMembers: [Member] { active ?? view.values.filter { $0.state.isActive }.sorted { $0.id < $1.id } }

    /// The size of the cluster as this view counts it (itself included).
    public var viewSize: Int { active.map { $0.count + 1 } ?? view.values.reduce(1) { $0 + ($1.state.isActive ? 1 : 0) } }

    /// True while this node asked seeds to let it in and none has answered with the full state.
    public var isJoining: Bool { !pendingSeeds.isEmpty }

    /// Membership updates waiting to be piggybacked.
    public var pendingUpdates: Int { broadcasts.count }

    /// True when `id` was expelled (revoked) and may never come back.
    public func isBanned(_ id: NodeID) -> Bool { banned.contains(id) }

    // MARK: Commands

    /// Asks each seed address to let this node in; asks again from `now` on until one answers.
    public mutating func join(seeds: [String], now: Instant) -> [Output] {
        leaving = false
        pendingSeeds = seeds.filter { $0 != address }
        joinRetryNanoseconds = max(1, configuration.probeIntervalNanoseconds / 20)
        if activeMembers.isEmpty, probe == nil {
            nextProbeAt = min(nextProbeAt, now.advanced(byNanoseconds: joinRetryNanoseconds))
            joinRetryNanoseconds *= 2
        }
        let hello = MemberUpdate(selfMember, reporter: me)
        return pendingSeeds.map { .send(to: $0, message: .join(updates: [hello])) }
    }

    /// Announces a graceful leave to a few members; the update then spreads by piggybacking.
    public mutating func leave(using generator: inout some RandomNumberGenerator) -> [Output] {
        leaving = true
        incarnation += 1
        let update = MemberUpdate(selfMember, reporter: me)
        broadcasts.enqueue(update)
        let targets = activeMembers.shuffled(using: &generator).prefix(max(3, configuration.indirectChecks)).map(\.address)
        // A node that leaves while its join is still unanswered tells the seeds it asked: they may
        // have let it in already, and would otherwise hold it as a member until they find it dead.
        let seeds = pendingSeeds.filter { !targets.contains($0) }
        pendingSeeds = []
        return (targets + seeds).map { .send(to: $0, message: .sync(members: [update], isReply: true)) }
    }

    /// Expels a member for good (its certificate was revoked): declared dead at once, never re-admitted.
    public mutating func ban(_ id: NodeID, now: Instant) -> [Output] {
        banned.insert(id)
        guard let member = view[id], member.state.isActive else { return [] }
        return declare(id, state: .dead, incarnation: member.incarnation, reporter: me, now: now)
    }

    /// Takes members into the view without announcing them (state restored from disk, or a
    /// simulation that starts from a converged cluster). Precedence rules apply as for messages.
    public mutating func adopt(_ updates: [MemberUpdate], now: Instant) {
        let queued = broadcasts
        _ = apply(updates, now: now)
        broadcasts = queued
        joined = []
    }

    /// Changes the address this node announces (e.g. after learning its advertised address).
    public mutating func announce(address newAddress: String, serial newSerial: UInt64) {
        address = newAddress
        serial = newSerial
        incarnation += 1
        broadcasts.enqueue(MemberUpdate(selfMember, reporter: me))
    }

    // MARK: Time

    /// Runs due probes, indirect probes, suspicion timeouts, relays' nacks, reaping and syncs.
    public mutating func tick(now: Instant, using generator: inout some RandomNumberGenerator) -> [Output] {
        var outputs: [Output] = []
        // Relays whose target stayed silent tell the requester so (Lifeguard).
        // Sorted iteration everywhere outputs are produced: a run must depend only on its seed.
        for sequence in relays.keys.sorted() {
            guard let relay = relays[sequence], relay.nackAt <= now else { continue }
            relays[sequence] = nil
            if configuration.lifeguard {
                outputs.append(.send(to: relay.requester, message: .nack(sequence: relay.originalSequence)))
            }
        }
        if var current = probe {
            if !current.acked, !current.indirectSent, current.indirectAt <= now {
                current.indirectSent = true
                outputs += indirectProbe(&current, using: &generator)
            }
            if current.endsAt <= now {
                outputs += finishProbe(current, now: now)
                probe = nil
            } else {
                probe = current
            }
        }
        for id in suspicions.keys.sorted() {
            guard let suspicion = suspicions[id], suspicion.deadline <= now else { continue }
            suspicions[id] = nil
            if let member = view[id], member.state == .suspect {
                outputs += declare(id, state: .dead, incarnation: member.incarnation, reporter: me, now: now)
            }
        }
        if active?.count != view.count {
            for (id, member) in view where !member.state.isActive
                && member.since.advanced(byNanoseconds: configuration.reapNanoseconds) <= now && !banned.contains(id)
            {
                view[id] = nil
                if member.state == .dead { failed[id] = (member.address, member.since) }
            }
        }
        if active == nil { active = activeMembers }
        if probe == nil, nextProbeAt <= now, !leaving {
            if !pendingSeeds.isEmpty {
                // No seed has answered the join with the full state yet: ask again, once per probe
                // interval (probing what we know goes on meanwhile), sooner while no one is known.
                if !activeMembers.isEmpty { outputs += startProbe(now: now, using: &generator) }
                var wait = configuration.probeIntervalNanoseconds
                if activeMembers.isEmpty, joinRetryNanoseconds < wait {
                    wait = joinRetryNanoseconds
                    joinRetryNanoseconds *= 2
                }
                nextProbeAt = now.advanced(byNanoseconds: wait)
                let hello = MemberUpdate(selfMember, reporter: me)
                outputs += pendingSeeds.map { .send(to: $0, message: .join(updates: [hello])) }
            } else {
                outputs += startProbe(now: now, using: &generator)
            }
        }
        if configuration.gossipIntervalNanoseconds > 0, nextGossipAt <= now {
            nextGossipAt = now.advanced(byNanoseconds: configuration.gossipIntervalNanoseconds)
            if broadcasts.count > 0 {
                for partner in activeMembers.shuffled(using: &generator).prefix(configuration.gossipFanout) {
                    let updates = piggyback()
                    if updates.isEmpty { break }
                    outputs.append(.send(to: partner.address, message: .gossip(updates: updates)))
                }
            }
        }
        if configuration.syncIntervalNanoseconds > 0, nextSyncAt <= now {
            nextSyncAt = now.advanced(byNanoseconds: configuration.syncIntervalNanoseconds)
            if let partner = activeMembers.randomElement(using: &generator) {
                outputs.append(.send(to: partner.address, message: .sync(members: fullState(), isReply: false)))
            }
        }
        if configuration.reconnectIntervalNanoseconds > 0, nextReconnectAt <= now {
            nextReconnectAt = now.advanced(byNanoseconds: configuration.reconnectIntervalNanoseconds)
            outputs += reconnect(now: now, using: &generator)
        }
        return outputs
    }

    /// Offers a full state exchange to one random dead member: if it is alive after all (a healed
    /// partition), it learns it was declared dead, refutes, and answers with its side's state.
    private mutating func reconnect(now: Instant, using generator: inout some RandomNumberGenerator) -> [Output] {
        let timeout = configuration.reconnectTimeoutNanoseconds
        failed = failed.filter { id, entry in
            view[id] == nil && !banned.contains(id) && entry.since.advanced(byNanoseconds: timeout) > now
        }
        var candidates = view.values.filter { $0.state == .dead && !banned.contains($0.id) && !$0.address.isEmpty }
            .map { (id: $0.id, address: $0.address) }
        candidates += failed.map { (id: $0.key, address: $0.value.address) }
        guard !candidates.isEmpty else { return [] }
        candidates.sort { $0.id < $1.id }
        let target = candidates[Int.random(in: 0..<candidates.count, using: &generator)]
        return [.send(to: target.address, message: .sync(members: fullState(), isReply: false))]
    }

    // MARK: Messages

    /// Handles a message from the authenticated sender `sender` that arrived from `address`.
    public mutating func receive(
        _ message: MembershipMessage, from sender: NodeID, address senderAddress: String, now: Instant,
        using generator: inout some RandomNumberGenerator
    ) -> [Output] {
        guard !banned.contains(sender) else { return [] }
        joined = []
        var outputs: [Output] = []
        // A member we have never heard of talks to us (its alive update passed us by while it
        // joined), or one we declared dead (a partition healed): exchange full state with it now
        // rather than at the next periodic sync.
        if sender != me, view[sender] == nil || view[sender]?.state == .dead {
            switch message {
            case .join, .sync: break
            default:
                if strangersAsked[sender].map({ $0.advanced(byNanoseconds: configuration.probeIntervalNanoseconds) <= now }) ?? true {
                    strangersAsked[sender] = now
                    if strangersAsked.count > 1024 { strangersAsked = [sender: now] }
                    // A member we declared dead has an announced address; a message over TCP
                    // comes from an ephemeral port that nobody listens on.
                    let replyTo = view[sender].map(\.address).flatMap { $0.isEmpty ? nil : $0 } ?? senderAddress
                    outputs.append(.send(to: replyTo, message: .sync(members: fullState(), isReply: false)))
                }
            }
        }
        switch message {
        case .ping(let sequence, let target, let updates):
            outputs += apply(updates, now: now)
            if target == me {
                outputs.append(.send(to: senderAddress, message: .ack(sequence: sequence, updates: piggyback())))
            }
        case .ack(let sequence, let updates):
            outputs += apply(updates, now: now)
            if let relay = relays.removeValue(forKey: sequence) {
                outputs.append(.send(to: relay.requester, message: .ack(sequence: relay.originalSequence, updates: piggyback())))
            } else if var current = probe, current.sequence == sequence, !current.acked {
                current.acked = true
                probe = current
                health.improve()
            }
        case .pingRequest(let sequence, let target, let targetAddress, let updates):
            outputs += apply(updates, now: now)
            let relayed = takeSequence()
            relays[relayed] = Relay(
                requester: senderAddress, originalSequence: sequence,
                nackAt: now.advanced(byNanoseconds: configuration.probeTimeoutNanoseconds * 8 / 10))
            outputs.append(.send(to: targetAddress, message: .ping(sequence: relayed, target: target, updates: piggyback())))
        case .nack(let sequence):
            if var current = probe, current.sequence == sequence {
                current.nacks += 1
                probe = current
            }
        case .join(let updates):
            outputs += apply(updates, now: now)
            let replyTo = Self.announcedAddress(of: sender, in: updates) ?? senderAddress
            outputs.append(.send(to: replyTo, message: .sync(members: fullState(), isReply: true)))
        case .gossip(let updates):
            outputs += apply(updates, now: now)
        case .sync(let members, let isReply):
            outputs += apply(Self.softened(members, me: me, knowing: view), now: now)
            // A full state answered our join: stop asking the seeds.
            if isReply { pendingSeeds = [] }
            if !isReply {
                let replyTo = Self.announcedAddress(of: sender, in: members) ?? senderAddress
                outputs.append(.send(to: replyTo, message: .sync(members: fullState(), isReply: true)))
            }
            // A full state is the bulk path (a joiner learning everyone): nothing in it is news to
            // push on.
            joined = []
        }
        return outputs + pushJoins(except: sender, using: &generator)
    }

    /// Pushes the members that just joined at once to `gossipFanout` random others (not the sender),
    /// outside the gossip rounds, so every node that first hears of a join passes it on within
    /// milliseconds: the news floods in a few hops instead of one round (200 ms) per hop. Nodes
    /// started together had waited up to a round after the seed let the last one in before the
    /// others heard of it (bench/compare-serf, all alive). Only joins: they are rare, and the
    /// push costs `gossipFanout` datagrams per node per join; the updates stay queued for the rounds.
    private mutating func pushJoins(except sender: NodeID, using generator: inout some RandomNumberGenerator) -> [Output] {
        guard !joined.isEmpty, configuration.gossipFanout > 0 else { return [] }
        let news = joined
        joined = []
        let members = active ?? activeMembers
        active = members
        guard !members.isEmpty else { return [] }
        // Rejection sampling, as the rounds' partners: a join must not cost a pass over a large view.
        var partners: [Member] = []
        var attempts = 0
        while partners.count < configuration.gossipFanout, attempts < configuration.gossipFanout * 8 + 16 {
            attempts += 1
            let candidate = members[Int.random(in: 0..<members.count, using: &generator)]
            if candidate.id != sender, !news.contains(where: { $0.id == candidate.id }),
                !partners.contains(where: { $0.id == candidate.id })
            {
                partners.append(candidate)
            }
        }
        return partners.map { .send(to: $0.address, message: .gossip(updates: news)) }
    }

    /// A full state from another node says what it believes; its deaths are taken as suspicions
    /// (memberlist's mergeState does the same), so the member gets its chance to refute. Without
    /// this, after a partition healed, every reconnect sync carried one side's stale verdicts into
    /// the other wholesale, killing members that were fine, whose refutations then met the next
    /// sync's verdicts: on real hosts at 20% loss the cluster never settled. Deaths of members not
    /// in the view are left out (nothing to suspect); news about this node stays as it is (it refutes).
    static func softened(_ updates: [MemberUpdate], me: NodeID, knowing view: [NodeID: Member]) -> [MemberUpdate] {
        updates.compactMap { update in
            guard update.state == .dead, update.id != me else { return update }
            guard view[update.id] != nil else { return nil }
            var suspicion = update
            suspicion.state = .suspect
            return suspicion
        }
    }

    /// Joins and syncs travel over the reliable transport, whose source port is not the node's
    /// own: answers go to the address the sender announces for itself.
    private static func announcedAddress(of sender: NodeID, in updates: [MemberUpdate]) -> String? {
        updates.first { $0.id == sender && !$0.address.isEmpty }?.address
    }

    // MARK: Probing

    private mutating func startProbe(now: Instant, using generator: inout some RandomNumberGenerator) -> [Output] {
        let multiplier = configuration.lifeguard ? health.multiplier : 1
        nextProbeAt = now.advanced(byNanoseconds: configuration.probeIntervalNanoseconds * multiplier)
        guard let target = nextTarget(using: &generator), let member = view[target] else { return [] }
        let sequence = takeSequence()
        probe = Probe(
            target: target, sequence: sequence,
            indirectAt: now.advanced(byNanoseconds: configuration.probeTimeoutNanoseconds * multiplier),
            endsAt: now.advanced(byNanoseconds: configuration.probeIntervalNanoseconds * multiplier))
        // Lifeguard's buddy system: a suspected member hears of it in the probe itself, so it can
        // refute at once instead of waiting for the rumor to reach it.
        var updates = piggyback()
        if member.state == .suspect {
            updates.removeAll { $0.id == target }
            updates.insert(MemberUpdate(member, reporter: me), at: 0)
        }
        return [.send(to: member.address, message: .ping(sequence: sequence, target: target, updates: updates))]
    }

    /// SWIM's randomized round-robin: every active member once per pass, in a fresh random order.
    private mutating func nextTarget(using generator: inout some RandomNumberGenerator) -> NodeID? {
        for _ in 0..<2 {
            while probeIndex < probeOrder.count {
                let candidate = probeOrder[probeIndex]
                probeIndex += 1
                if view[candidate]?.state.isActive == true { return candidate }
            }
            probeOrder = activeMembers.map(\.id).shuffled(using: &generator)
            probeIndex = 0
            if probeOrder.isEmpty { return nil }
        }
        return nil
    }

    private mutating func indirectProbe(_ current: inout Probe, using generator: inout some RandomNumberGenerator) -> [Output] {
        guard let target = view[current.target] else { return [] }
        let relays = activeMembers.filter { $0.id != current.target && $0.state == .alive }
            .shuffled(using: &generator).prefix(configuration.indirectChecks)
        current.expectedNacks = configuration.lifeguard ? relays.count : 0
        return relays.map {
            .send(
                to: $0.address,
                message: .pingRequest(sequence: current.sequence, target: target.id, address: target.address, updates: piggyback()))
        }
    }

    private mutating func finishProbe(_ finished: Probe, now: Instant) -> [Output] {
        guard !finished.acked else { return [] }
        // Lifeguard: a missed ack counts against our own health, and so does each relay that did
        // not even nack (our own messages are probably not getting through).
        if configuration.lifeguard {
            health.worsen(by: 1 + max(0, finished.expectedNacks - finished.nacks))
        }
        guard let member = view[finished.target], member.state.isActive else { return [] }
        if member.state == .suspect {
            // Our own failed probe independently confirms a suspicion we heard of (Lifeguard).
            if suspicions[member.id]?.confirm(by: me) == true {
                broadcasts.enqueue(MemberUpdate(member, reporter: me))
            }
            return []
        }
        suspicionsRaised[member.id, default: 0] += 1
        return declare(member.id, state: .suspect, incarnation: member.incarnation, reporter: me, now: now)
    }

    private mutating func takeSequence() -> UInt32 {
        nextSequence &+= 1
        return nextSequence
    }

    // MARK: Updates

    private mutating func piggyback() -> [MemberUpdate] {
        broadcasts.take(budget: configuration.piggybackBudgetBytes, clusterSize: viewSize)
    }

    private func fullState() -> [MemberUpdate] {
        [MemberUpdate(selfMember, reporter: me)]
            + view.values.sorted { $0.id < $1.id }.map { MemberUpdate($0, reporter: me) }
    }

    private mutating func apply(_ updates: [MemberUpdate], now: Instant) -> [Output] {
        var outputs: [Output] = []
        for update in updates { outputs += apply(update, now: now) }
        return outputs
    }

    /// SWIM's precedence rules: a higher incarnation wins; at equal incarnation suspect beats alive
    /// and dead beats both; dead and left are final until a higher incarnation.
    private mutating func apply(_ update: MemberUpdate, now: Instant) -> [Output] {
        if update.id == me { return updateAboutMe(update) }
        if banned.contains(update.id) { return [] }
        guard let current = view[update.id] else {
            // A member we never saw: only an alive (or suspect) announcement brings it in.
            guard update.state.isActive else { return [] }
            let member = Member(
                id: update.id, address: update.address, incarnation: update.incarnation, state: .alive,
                serial: update.serial, since: now)
            view[update.id] = member
            broadcasts.enqueue(MemberUpdate(member, reporter: update.reporter))
            if update.state == .alive { joined.append(MemberUpdate(member, reporter: update.reporter)) }
            var outputs: [Output] = [.changed(member, from: nil)]
            if update.state == .suspect {
                outputs += declare(update.id, state: .suspect, incarnation: update.incarnation, reporter: update.reporter, now: now)
            }
            return outputs
        }
        switch update.state {
        case .alive:
            guard update.incarnation > current.incarnation else { return [] }
            suspicions[update.id] = nil
            var member = current
            member.incarnation = update.incarnation
            member.address = update.address
            member.serial = update.serial
            member.state = .alive
            if current.state != .alive { member.since = now }
            view[update.id] = member
            broadcasts.enqueue(MemberUpdate(member, reporter: update.reporter))
            if !current.state.isActive { joined.append(MemberUpdate(member, reporter: update.reporter)) }
            return current.state == .alive ? [] : [.changed(member, from: current.state)]
        case .suspect:
            guard update.incarnation >= current.incarnation, current.state.isActive else { return [] }
            if current.state == .suspect, update.incarnation == current.incarnation {
                if suspicions[update.id]?.confirm(by: update.reporter) == true {
                    broadcasts.enqueue(update)
                }
                return []
            }
            return declare(update.id, state: .suspect, incarnation: update.incarnation, reporter: update.reporter, now: now)
        case .dead, .left:
            guard update.incarnation >= current.incarnation, current.state.isActive else { return [] }
            return declare(update.id, state: update.state, incarnation: update.incarnation, reporter: update.reporter, now: now)
        }
    }

    /// Someone says something about this node: refute suspicion, death or a leave (news from
    /// before a restart) by a higher incarnation, as memberlist does; an alive announcement with a
    /// higher incarnation than this node's (also from a previous life) is overtaken the same way.
    private mutating func updateAboutMe(_ update: MemberUpdate) -> [Output] {
        guard !leaving, update.incarnation >= incarnation else { return [] }
        if update.state == .alive && update.incarnation == incarnation { return [] }
        incarnation = update.incarnation + 1
        if update.state == .suspect || update.state == .dead {
            refutations += 1
            if configuration.lifeguard { health.worsen() }
        }
        broadcasts.enqueue(MemberUpdate(selfMember, reporter: me))
        return []
    }

    private mutating func declare(
        _ id: NodeID, state: MemberState, incarnation: UInt64, reporter: NodeID, now: Instant
    ) -> [Output] {
        guard var member = view[id] else { return [] }
        let previous = member.state
        member.state = state
        member.incarnation = incarnation
        member.since = now
        view[id] = member
        if state == .suspect {
            // memberlist's suspicionTimeout: the real log10, not its ceiling (which had made 16 and
            // 32 members wait 8 s instead of 4.8 s and 6 s; compare-serf showed it).
            let scale = max(1, Suspicion.log(Double(max(1, viewSize))) / Suspicion.log(10))
            let minimum = Int64(
                Double(configuration.probeIntervalNanoseconds) * Double(configuration.suspicionMultiplier) * scale)
            let maximum = configuration.lifeguard ? minimum * Int64(configuration.suspicionMaximumMultiplier) : minimum
            suspicions[id] = Suspicion(
                startedAt: now, reporter: reporter, minimumNanoseconds: minimum, maximumNanoseconds: maximum,
                expectedConfirmations: configuration.lifeguard ? max(0, configuration.suspicionMultiplier - 2) : 0)
        } else {
            suspicions[id] = nil
        }
        broadcasts.enqueue(MemberUpdate(member, reporter: reporter))
        return [.changed(member, from: previous)]
    }
}
