/// Network-size estimation by push-sum (Kempe, Dobra and Gehrke 2003, "Gossip-based computation
/// of aggregate information"), for one node, sans-IO — the alternative to `PushPullAverage`.
///
/// Each node holds a pair (sum s, weight w) per instance. Counting is the paper's sum: every node
/// brings s = 1 and only the initiator brings w = 1, so Σs = N and Σw = 1. Each cycle a node keeps
/// half of (s, w) and pushes the other half to a random peer, which adds it; s/w at every node
/// tends to Σs/Σw = N, so the estimate is s / w. (The other initialisation — s = 1 at the initiator
/// only, w = 1 everywhere — gives s/w → 1/N and an estimate w / s.)
///
/// Epochs, instances and initiator choice are as in `PushPullAverage`. A node joins an instance
/// when it first hears of it, bringing its s = 1 then; a node waiting for the next epoch relays
/// shares without bringing its own 1. A lost push loses mass: with `retries` > 0 each push asks
/// for an acknowledgement and is sent again (same number) until acknowledged; the receiver applies
/// it once. A push given up on is counted in `abandonedExchanges`.
public struct PushSum: SizeEstimator {
    public typealias Output = SizeOutput

    public let me: NodeID
    public let settings: SizeSettings
    private var clock: EpochClock
    private var slots: [InstanceShare?]
    /// Pending: the shares sent (held until acknowledged); answered: nothing to remember but the fact.
    private var ledger = ExchangeLedger<[InstanceShare?], Bool>()
    private var peerCount = 1
    /// The members alive in this node's view, itself included (`observeView(size:)`).
    private var viewSize = 1

    /// Pushes acknowledged (with retries) or sent (without).
    public private(set) var pushesSent = 0

    /// - Parameter founding: as for `PushPullAverage`.
    public init(me: NodeID, settings: SizeSettings = SizeSettings(), founding: Bool) {
        self.me = me
        self.settings = settings
        clock = EpochClock(
            epochCycles: settings.epochCycles, joinWindowCycles: settings.joinWindowCycles, founding: founding)
        slots = Array(repeating: nil, count: settings.instances)
    }

    public var epoch: UInt64 { clock.epoch }
    public var isParticipating: Bool { clock.participating }
    public var abandonedExchanges: Int { ledger.abandoned }
    public var estimate: SizeEstimate? { clock.estimate(running: runningEstimate) }

    public var runningEstimate: SizeEstimate? {
        guard clock.participating else { return nil }
        let sizes = slots.compactMap { slot -> Double? in
            guard let slot, slot.weight > 0, slot.sum > 0, (slot.sum / slot.weight).isFinite else { return nil }
            return slot.sum / slot.weight
        }
        guard let size = settings.combine(sizes) else { return nil }
        return SizeEstimate(size: size, epoch: clock.epoch, ageCycles: clock.cycle, instances: sizes.count, source: .converging)
    }

    public func averagingValue(inSlot slot: Int) -> InstanceValue? {
        guard slots.indices.contains(slot), let share = slots[slot] else { return nil }
        return InstanceValue(instance: share.instance, value: share.sum > 0 ? share.weight / share.sum : 0)
    }

    /// The (sum, weight) this node holds in `slot`.
    public func share(inSlot slot: Int) -> InstanceShare? { slots.indices.contains(slot) ? slots[slot] : nil }

    public mutating func observeView(size: Int) { viewSize = max(1, size) }

    public mutating func tick<Peers: RandomAccessCollection<NodeID>>(
        peers: Peers, using generator: inout some RandomNumberGenerator
    ) -> [Output] {
        peerCount = max(1, peers.count)
        switch clock.beginTick(viewSize: viewSize) {
        case .keepGoing: break
        case .startFirst: enter(1, atCycle: 0, started: true, using: &generator)
        case .startNext:
            clock.close(running: runningEstimate)
            enter(clock.nextEpoch, atCycle: 0, started: true, using: &generator)
        }
        defer { clock.endTick() }
        ledger.forgetAnswers(before: clock.ticks - settings.retries - 2)
        var outputs: [Output] = []
        guard clock.epoch != 0 else {
            // Not in any epoch yet: an empty share asks a peer to acknowledge with its epoch.
            if let peer = peers.randomPeer(excluding: me, using: &generator) {
                let header = clock.header(exchange: 0, running: nil)
                outputs.append(.send(to: peer, message: .share(header, wantsAcknowledgement: true, shares: [])))
            }
            return outputs
        }
        let running = runningEstimate
        let acknowledged = settings.retries > 0
        for again in ledger.due(retries: settings.retries) {
            let header = clock.header(exchange: again.exchange, running: running)
            outputs.append(.send(to: again.peer, message: .share(header, wantsAcknowledgement: true, shares: again.sent)))
        }
        guard slots.contains(where: { $0 != nil }), let peer = peers.randomPeer(excluding: me, using: &generator)
        else { return outputs }
        var halves: [InstanceShare?] = []
        halves.reserveCapacity(slots.count)
        for slot in slots.indices {
            guard var share = slots[slot] else {
                halves.append(nil)
                continue
            }
            share.sum /= 2
            share.weight /= 2
            slots[slot] = share
            halves.append(share)
        }
        let exchange = ledger.open(with: peer, sent: halves, tracked: acknowledged)
        pushesSent += 1
        let header = clock.header(exchange: exchange, running: running)
        outputs.append(.send(to: peer, message: .share(header, wantsAcknowledgement: acknowledged, shares: halves)))
        return outputs
    }

    public mutating func receive(
        _ message: SizeMessage, from peer: NodeID, using generator: inout some RandomNumberGenerator
    ) -> [Output] {
        let header = message.header
        observe(header, using: &generator)
        switch message {
        case .share(_, let wantsAcknowledgement, let shares):
            // Shares from an older epoch (or a node in none) carry moot mass; the acknowledgement
            // tells the sender which epoch is running.
            if header.epoch != 0, header.epoch == clock.epoch, ledger.answer(to: header.exchange, from: peer) == nil {
                add(shares)
                if wantsAcknowledgement { ledger.remember(true, to: header.exchange, from: peer, at: clock.ticks) }
            }
            guard wantsAcknowledgement else { return [] }
            let reply = clock.header(exchange: header.exchange, running: runningEstimate)
            return [.send(to: peer, message: .acknowledge(reply))]
        case .acknowledge:
            if header.epoch == clock.epoch { _ = ledger.close(header.exchange, with: peer) }
            return []
        case .request, .reply:
            return []
        }
    }

    // MARK: Internals

    private mutating func observe(_ header: SizeHeader, using generator: inout some RandomNumberGenerator) {
        clock.learn(header.hint)
        guard header.epoch > clock.epoch else { return }
        if clock.epoch != 0 { clock.close(running: runningEstimate) }
        enter(header.epoch, atCycle: Int(header.cycle), started: false, using: &generator)
    }

    private mutating func enter(
        _ epoch: UInt64, atCycle cycle: Int, started: Bool, using generator: inout some RandomNumberGenerator
    ) {
        ledger.reset()
        let participating = clock.enter(epoch, atCycle: cycle, viewSize: started ? viewSize : nil)
        for slot in slots.indices {
            let candidate = participating && cycle == 0 && isCandidate(using: &generator)
            slots[slot] = candidate ? InstanceShare(instance: me, sum: 1, weight: 1) : nil
        }
    }

    private func isCandidate(using generator: inout some RandomNumberGenerator) -> Bool {
        switch settings.initiation {
        case .everyNode:
            return true
        case .probability(let expected):
            let size = max(1, clock.estimate(running: nil)?.size ?? Double(peerCount))
            let probability = min(1, max(0, expected) / size)
            return Double.random(in: 0..<1, using: &generator) < probability
        }
    }

    /// Adds arriving shares: to the instance followed, or to a better one this node now follows
    /// (bringing its own s = 1 when it takes part in the epoch); shares of a worse instance are moot.
    private mutating func add(_ shares: [InstanceShare?]) {
        for slot in 0..<min(shares.count, slots.count) {
            guard let share = shares[slot] else { continue }
            if let current = slots[slot], current.instance == share.instance {
                slots[slot]?.sum += share.sum
                slots[slot]?.weight += share.weight
            } else if slots[slot] == nil
                || SizeSettings.precedes(share.instance, slots[slot]?.instance ?? share.instance, epoch: clock.epoch, slot: slot)
            {
                let own = clock.participating ? 1.0 : 0
                slots[slot] = InstanceShare(instance: share.instance, sum: own + share.sum, weight: share.weight)
            }
        }
    }
}
