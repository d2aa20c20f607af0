/// Network-size estimation by push-pull averaging (Jelasity, Montresor and Babaoglu 2005,
/// "Gossip-based aggregation in large dynamic networks"), for one node, sans-IO.
///
/// In each epoch every instance has one initiator holding 1 while every other node holds 0. Each
/// cycle a node sends its values to a random peer; the peer averages and answers with its values
/// from before, and the caller averages too, so the sum over the cluster (the mass) stays 1 and
/// every value tends to 1/N: the estimate is 1/value. The variance across nodes falls by about
/// 1/(2√e) ≈ 0.303 per cycle. Epochs restart every `epochCycles` cycles so the estimate follows
/// churn (see `EpochClock`); instances run side by side and their estimates are combined.
///
/// Exchanges move *deltas*: the callee adds half the difference to its value and answers with the
/// value it had; the caller adds minus that half-difference to whatever it holds when the answer
/// arrives. Mass is conserved even when a node takes part in several exchanges at once. A caller
/// updates only on an answer, and sends an unanswered request again (same number) up to
/// `retries` times; the callee answers a repeat from memory. Only an exchange whose every answer
/// is lost changes the mass; it is counted in `abandonedExchanges` and the next epoch repairs it.
public struct PushPullAverage: SizeEstimator {
    public typealias Output = SizeOutput

    public let me: NodeID
    public let settings: SizeSettings
    private var clock: EpochClock
    /// Per slot: the instance this node follows and its value (nil: none yet, i.e. 0 in all of them).
    private var slots: [InstanceValue?]
    /// Pending: the values sent; answered: the reply given.
    private var ledger = ExchangeLedger<[InstanceValue?], [InstanceValue?]>()
    private var peerCount = 1
    /// The members alive in this node's view, itself included (`observeView(size:)`).
    private var viewSize = 1

    /// Exchanges this node completed as the caller (answer received and applied).
    public private(set) var exchangesCompleted = 0

    /// - Parameter founding: true for a node of the cluster's first generation, which starts the
    ///   first epoch on its first tick; a node joining later learns the epoch from its peers.
    public init(me: NodeID, settings: SizeSettings = SizeSettings(), founding: Bool) {
        self.me = me
        self.settings = settings
        clock = EpochClock(
            epochCycles: settings.epochCycles, joinWindowCycles: settings.joinWindowCycles, founding: founding)
        slots = Array(repeating: nil, count: settings.instances)
    }

    public var epoch: UInt64 { clock.epoch }
    public var isParticipating: Bool { clock.participating }
    /// Cycles completed in the current epoch.
    public var cycleInEpoch: Int { clock.cycle }
    public var abandonedExchanges: Int { ledger.abandoned }
    public var estimate: SizeEstimate? { clock.estimate(running: runningEstimate) }

    public var runningEstimate: SizeEstimate? {
        guard clock.participating else { return nil }
        let sizes = slots.compactMap { slot -> Double? in
            guard let slot, slot.value > 0, (1 / slot.value).isFinite else { return nil }
            return 1 / slot.value
        }
        guard let size = settings.combine(sizes) else { return nil }
        return SizeEstimate(size: size, epoch: clock.epoch, ageCycles: clock.cycle, instances: sizes.count, source: .converging)
    }

    public func averagingValue(inSlot slot: Int) -> InstanceValue? {
        slots.indices.contains(slot) ? slots[slot] : nil
    }

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
            // Not in any epoch yet: ask a peer which one is running (it answers without averaging).
            if let peer = peers.randomPeer(excluding: me, using: &generator) {
                outputs.append(.send(to: peer, message: .request(clock.header(exchange: 0, running: nil), values: [])))
            }
            return outputs
        }
        guard clock.participating else { return outputs }
        let running = runningEstimate
        for again in ledger.due(retries: settings.retries) {
            outputs.append(
                .send(
                    to: again.peer,
                    message: .request(clock.header(exchange: again.exchange, running: running), values: again.sent)))
        }
        guard let peer = peers.randomPeer(excluding: me, using: &generator) else { return outputs }
        let exchange = ledger.open(with: peer, sent: slots, tracked: true)
        outputs.append(
            .send(to: peer, message: .request(clock.header(exchange: exchange, running: running), values: slots)))
        return outputs
    }

    public mutating func receive(
        _ message: SizeMessage, from peer: NodeID, using generator: inout some RandomNumberGenerator
    ) -> [Output] {
        let header = message.header
        observe(header, using: &generator)
        switch message {
        case .request(_, let values):
            return [.send(to: peer, message: answer(header, values: values, from: peer))]
        case .reply(_, let averaged, let values):
            guard header.epoch == clock.epoch, let pending = ledger.close(header.exchange, with: peer) else {
                return []
            }
            guard averaged else { return [] }
            apply(values, sent: pending.sent)
            exchangesCompleted += 1
            return []
        case .share, .acknowledge:
            return []
        }
    }

    // MARK: Internals

    /// Learns a peer's result, and moves to a newer epoch when the message comes from one.
    private mutating func observe(_ header: SizeHeader, using generator: inout some RandomNumberGenerator) {
        clock.learn(header.hint)
        guard header.epoch > clock.epoch else { return }
        if clock.epoch != 0 { clock.close(running: runningEstimate) }
        enter(header.epoch, atCycle: Int(header.cycle), started: false, using: &generator)
    }

    /// Starts `epoch`: fresh slots, and candidacy when the epoch is just starting.
    private mutating func enter(
        _ epoch: UInt64, atCycle cycle: Int, started: Bool, using generator: inout some RandomNumberGenerator
    ) {
        ledger.reset()
        let participating = clock.enter(epoch, atCycle: cycle, viewSize: started ? viewSize : nil)
        for slot in slots.indices {
            let candidate = participating && cycle == 0 && isCandidate(using: &generator)
            slots[slot] = candidate ? InstanceValue(instance: me, value: 1) : nil
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

    /// The callee's side: average with the caller's values (once per exchange) and answer.
    private mutating func answer(_ header: SizeHeader, values theirs: [InstanceValue?], from peer: NodeID) -> SizeMessage {
        let running = runningEstimate
        let replyHeader = clock.header(exchange: header.exchange, running: running)
        guard header.epoch != 0, header.epoch == clock.epoch, clock.participating else {
            return .reply(replyHeader, averaged: false, values: [])
        }
        if let previous = ledger.answer(to: header.exchange, from: peer) {
            return .reply(replyHeader, averaged: true, values: previous)
        }
        let count = min(theirs.count, slots.count)
        var before: [InstanceValue?] = []
        before.reserveCapacity(count)
        for slot in 0..<count {
            guard let winner = Self.winner(slots[slot], theirs[slot], epoch: clock.epoch, slot: slot) else {
                before.append(nil)
                continue
            }
            let mine = slots[slot]?.instance == winner ? slots[slot]?.value ?? 0 : 0
            let their = theirs[slot]?.instance == winner ? theirs[slot]?.value ?? 0 : 0
            slots[slot] = InstanceValue(instance: winner, value: mine + (their - mine) / 2)
            before.append(InstanceValue(instance: winner, value: mine))
        }
        if settings.retries > 0 { ledger.remember(before, to: header.exchange, from: peer, at: clock.ticks) }
        return .reply(replyHeader, averaged: true, values: before)
    }

    /// The caller's side: add minus the callee's half-difference, per slot, to what it holds now.
    private mutating func apply(_ answers: [InstanceValue?], sent: [InstanceValue?]) {
        for slot in 0..<min(answers.count, slots.count, sent.count) {
            guard let answer = answers[slot] else { continue }
            let winner = answer.instance
            let mine = sent[slot]?.instance == winner ? sent[slot]?.value ?? 0 : 0
            let delta = (answer.value - mine) / 2
            if let current = slots[slot] {
                if current.instance == winner {
                    slots[slot]?.value += delta
                } else if SizeSettings.precedes(winner, current.instance, epoch: clock.epoch, slot: slot) {
                    slots[slot] = InstanceValue(instance: winner, value: delta)
                }
                // Otherwise this node follows a better instance now; the loser's mass is moot.
            } else {
                slots[slot] = InstanceValue(instance: winner, value: delta)
            }
        }
    }

    /// The instance two holders settle on: the one with the lower ticket.
    static func winner(_ a: InstanceValue?, _ b: InstanceValue?, epoch: UInt64, slot: Int) -> NodeID? {
        switch (a, b) {
        case (nil, nil): return nil
        case (let a?, nil): return a.instance
        case (nil, let b?): return b.instance
        case (let a?, let b?):
            return SizeSettings.precedes(b.instance, a.instance, epoch: epoch, slot: slot) ? b.instance : a.instance
        }
    }
}
