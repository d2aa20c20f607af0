/// The epoch bookkeeping both size estimators share (Jelasity et al. 2005, "restarting"): which
/// epoch a node is in and how far, whether it takes part, and the results of past epochs.
///
/// An epoch lasts `epochCycles` cycles on each node's own count. The first node whose count runs
/// out starts the next epoch; every message carries the epoch and the sender's cycle in it, and a
/// node that sees a newer epoch closes its own and moves there at the sender's cycle, so epochs
/// spread like a rumor. A node that learns of an epoch after its join window waits for the next.
///
/// A cluster that grows much during an epoch (a fresh cluster forming, many nodes joining at once)
/// would otherwise show the result of the few nodes that took part for up to two epochs: the
/// newcomers wait out the running epoch, then a whole one. So a node that started the running epoch
/// itself, and whose view has grown by more than `growthRestartFactor` since, starts the next one at
/// once (at most once a cycle); the newcomers enter it within their join window. A node that
/// entered the epoch from a peer's message does not judge: its own view fills as it joins, which
/// is no news about the cluster. Only an epoch that ran
/// (nearly) all its cycles leaves a result: an epoch cut short leaves none, and the estimate says
/// it is converging.
struct EpochClock: Sendable {
    /// What the start of a tick asks the estimator to do.
    enum Step {
        case keepGoing
        /// This founding node starts the first epoch.
        case startFirst
        /// The epoch's cycles ran out: close it and start the next.
        case startNext
    }

    let epochCycles: Int
    let joinWindowCycles: Int
    /// How much the view must grow during an epoch for a node to start the next one early.
    static let growthRestartFactor = 1.25
    /// True for a node that starts the cluster's first epoch itself rather than learn one.
    let founding: Bool

    private(set) var epoch: UInt64 = 0
    /// Cycles completed in the current epoch.
    private(set) var cycle = 0
    private(set) var participating = false
    /// Ticks run in the node's lifetime (ages are measured in them).
    private(set) var ticks = 0
    /// The tick at which the current epoch's last cycle ran.
    private var finalTick: Int?
    /// The newest result of an epoch this node took part in, and the tick it became final.
    private(set) var completed: SizeEstimate?
    private var completedTick = 0
    /// The newest result learned from a peer, and the tick it was learned.
    private var learned: SizeEstimate?
    private var learnedTick = 0
    /// The view's size (members alive, itself included) the running epoch is judged against: the
    /// larger of the view when this node started the epoch and the largest view of the epoch before
    /// (so that a member falsely declared dead and back, or one restarting, is no growth); nil when
    /// this node entered the epoch from a peer's message.
    private var viewAtEntry: Int?
    /// The largest view seen during the running epoch.
    private var largestView = 1

    init(epochCycles: Int, joinWindowCycles: Int, founding: Bool) {
        self.epochCycles = epochCycles
        self.joinWindowCycles = joinWindowCycles
        self.founding = founding
    }

    /// The number of the epoch after this one (saturating: an epoch number comes from the wire).
    var nextEpoch: UInt64 { epoch == .max ? .max : epoch + 1 }

    /// True when the current epoch has run all its cycles (its value is the epoch's result).
    var isFinal: Bool { participating && cycle >= epochCycles }

    /// `viewSize`: the members alive now, this node included.
    mutating func beginTick(viewSize: Int) -> Step {
        ticks += 1
        largestView = max(largestView, viewSize)
        if epoch == 0 { return founding ? .startFirst : .keepGoing }
        if cycle >= epochCycles { return .startNext }
        if cycle >= 1, let viewAtEntry, Double(viewSize) > Double(viewAtEntry) * Self.growthRestartFactor {
            return .startNext
        }
        return .keepGoing
    }

    mutating func endTick() {
        guard epoch != 0 else { return }
        cycle += 1
        if cycle == epochCycles { finalTick = ticks }
    }

    /// Records the current epoch's result (when the node took part, holds one, and the epoch ran
    /// all its cycles but perhaps one: nodes count cycles each on their own).
    mutating func close(running: SizeEstimate?) {
        defer { finalTick = nil }
        guard participating, cycle >= epochCycles - 1, let running else { return }
        completed = SizeEstimate(
            size: running.size, epoch: epoch, ageCycles: 0, instances: running.instances, source: .epoch)
        completedTick = finalTick ?? ticks
    }

    /// Moves to `epoch` at `cycle` (the sender's, when learned from a message). Returns whether the
    /// node takes part in it.
    /// `viewSize`: this node's view when it starts the epoch itself; nil when it enters it from a
    /// peer's message.
    mutating func enter(_ epoch: UInt64, atCycle cycle: Int, viewSize: Int?) -> Bool {
        self.epoch = epoch
        self.cycle = max(0, cycle)
        viewAtEntry = viewSize.map { max(1, $0, largestView) }
        largestView = max(1, viewSize ?? 1)
        participating = self.cycle <= joinWindowCycles
        finalTick = nil
        return participating
    }

    /// Keeps a peer's result when it is newer than anything this node has.
    mutating func learn(_ hint: SizeHint?) {
        guard let hint, hint.epoch > (completed?.epoch ?? 0), hint.epoch > (learned?.epoch ?? 0) else { return }
        learned = SizeEstimate(size: hint.size, epoch: hint.epoch, ageCycles: 0, instances: 0, source: .peer)
        learnedTick = ticks
    }

    /// The node's best answer given the running estimate of the current epoch.
    func estimate(running: SizeEstimate?) -> SizeEstimate? {
        if isFinal, var result = running {
            result.source = .epoch
            result.ageCycles = ticks - (finalTick ?? ticks)
            return result
        }
        var own = completed
        own?.ageCycles = ticks - completedTick
        var peer = learned
        peer?.ageCycles = ticks - learnedTick
        switch (own, peer) {
        case (let own?, let peer?): return peer.epoch > own.epoch ? peer : own
        case (let own?, nil): return own
        case (nil, let peer?): return peer
        case (nil, nil): return running
        }
    }

    /// What this node passes on in its messages: its newest epoch result (its own or learned).
    func hint(running: SizeEstimate?) -> SizeHint? {
        guard let best = estimate(running: running), best.source != .converging, best.size >= 1 else { return nil }
        return SizeHint(size: best.size, epoch: best.epoch)
    }

    /// The header of a message sent now.
    func header(exchange: UInt32, running: SizeEstimate?) -> SizeHeader {
        SizeHeader(
            epoch: epoch, cycle: UInt32(clamping: cycle), exchange: exchange, hint: hint(running: running))
    }
}

/// Exchanges a node started and is waiting on, and exchanges it answered recently (so a repeat is
/// answered from memory instead of being applied twice).
struct ExchangeLedger<Sent: Sendable, Answer: Sendable>: Sendable {
    struct Pending: Sendable {
        var exchange: UInt32
        var peer: NodeID
        var sent: Sent
        /// Times sent again so far.
        var resent: Int
    }

    private struct Key: Hashable, Sendable {
        var peer: NodeID
        var exchange: UInt32
    }

    /// Oldest first (an array: retransmission order must not depend on hashing).
    private(set) var pending: [Pending] = []
    private var answered: [Key: (answer: Answer, tick: Int)] = [:]
    private var nextExchange: UInt32 = 1
    /// Exchanges given up after every retry.
    private(set) var abandoned = 0

    /// Records a new exchange with `peer` and returns its number.
    mutating func open(with peer: NodeID, sent: Sent, tracked: Bool) -> UInt32 {
        let exchange = nextExchange
        nextExchange = nextExchange == .max ? 1 : nextExchange + 1
        if tracked { pending.append(Pending(exchange: exchange, peer: peer, sent: sent, resent: 0)) }
        return exchange
    }

    /// Removes and returns the pending exchange `exchange` with `peer`.
    mutating func close(_ exchange: UInt32, with peer: NodeID) -> Pending? {
        guard let index = pending.firstIndex(where: { $0.exchange == exchange && $0.peer == peer }) else { return nil }
        return pending.remove(at: index)
    }

    /// The exchanges to send again now; those already resent `retries` times are abandoned.
    mutating func due(retries: Int) -> [Pending] {
        var again: [Pending] = []
        pending.removeAll { entry in
            guard entry.resent < retries else {
                abandoned += 1
                return true
            }
            return false
        }
        for index in pending.indices {
            pending[index].resent += 1
            again.append(pending[index])
        }
        return again
    }

    /// The answer already given to `exchange` from `peer`, if it is remembered.
    func answer(to exchange: UInt32, from peer: NodeID) -> Answer? {
        answered[Key(peer: peer, exchange: exchange)]?.answer
    }

    mutating func remember(_ answer: Answer, to exchange: UInt32, from peer: NodeID, at tick: Int) {
        answered[Key(peer: peer, exchange: exchange)] = (answer, tick)
    }

    /// Forgets answers older than `keepTicks` ticks (longer than any retry could arrive).
    mutating func forgetAnswers(before tick: Int) {
        answered = answered.filter { $0.value.tick >= tick }
    }

    /// A new epoch: nothing of the old one is pending or worth answering again.
    mutating func reset() {
        pending.removeAll()
        answered.removeAll()
    }
}
