/// How the ring is maintained.
public struct RingConfiguration: Hashable, Sendable {
    /// Length of the successor list, and the replication factor r: each key lives on its owner
    /// and the next r − 1 nodes.
    public var successorCount: Int
    public var stabilizeIntervalNanoseconds: Int64
    /// While stabilization rounds keep finding the neighbours unchanged, their interval doubles up
    /// to this (every `stabilizeQuietRounds` quiet rounds); any change in the ring, or an unanswered round, brings it
    /// back to `stabilizeIntervalNanoseconds`. Equal to it (the default): no back-off, Chord as
    /// written. Nodes that also run SWIM use a back-off, since membership reports joins and deaths
    /// to the ring at once and stabilization only has to confirm them.
    public var stabilizeMaximumIntervalNanoseconds: Int64
    public var stabilizeQuietRounds: Int
    /// One finger is refreshed this often (trivial ones — those the successor covers — are free).
    public var fixFingerIntervalNanoseconds: Int64
    /// While refreshes keep finding the fingers already held, the interval doubles up to this
    /// (every `fixFingerQuietRefreshes` such refreshes); any change in the fingers or the
    /// neighbours brings it back to `fixFingerIntervalNanoseconds`.
    public var fixFingerMaximumIntervalNanoseconds: Int64
    public var fixFingerQuietRefreshes: Int
    /// A ring request unanswered this long counts as failed.
    public var requestTimeoutNanoseconds: Int64
    /// A lookup gives up after this many unanswered requests.
    public var lookupAttempts: Int
    /// Stabilization requests the successor may leave unanswered in a row before it is dropped.
    public var successorMisses: Int
    /// Replica maintenance (see `Replication`): how often owners check their successors' copies,
    /// how often held keys are offered to their owners at most, and how often everything is
    /// offered again whatever changed.
    public var maintenanceIntervalNanoseconds: Int64
    public var globalIntervalNanoseconds: Int64
    public var fullCheckIntervalNanoseconds: Int64

    public init(
        successorCount: Int = 3, stabilizeIntervalNanoseconds: Int64 = 500_000_000,
        stabilizeMaximumIntervalNanoseconds: Int64? = nil, stabilizeQuietRounds: Int = 4,
        fixFingerIntervalNanoseconds: Int64 = 100_000_000, fixFingerMaximumIntervalNanoseconds: Int64 = 1_000_000_000,
        fixFingerQuietRefreshes: Int = 16,
        requestTimeoutNanoseconds: Int64 = 1_000_000_000,
        lookupAttempts: Int = 5, successorMisses: Int = 3, maintenanceIntervalNanoseconds: Int64 = 1_000_000_000,
        globalIntervalNanoseconds: Int64 = 5_000_000_000, fullCheckIntervalNanoseconds: Int64 = 30_000_000_000
    ) {
        self.successorCount = max(1, successorCount)
        self.stabilizeIntervalNanoseconds = max(1, stabilizeIntervalNanoseconds)
        self.stabilizeMaximumIntervalNanoseconds = max(
            self.stabilizeIntervalNanoseconds, stabilizeMaximumIntervalNanoseconds ?? stabilizeIntervalNanoseconds)
        self.fixFingerIntervalNanoseconds = max(1, fixFingerIntervalNanoseconds)
        self.fixFingerMaximumIntervalNanoseconds = max(self.fixFingerIntervalNanoseconds, fixFingerMaximumIntervalNanoseconds)
        self.stabilizeQuietRounds = max(1, stabilizeQuietRounds)
        self.fixFingerQuietRefreshes = max(1, fixFingerQuietRefreshes)
        self.requestTimeoutNanoseconds = max(1, requestTimeoutNanoseconds)
        self.lookupAttempts = max(1, lookupAttempts)
        self.successorMisses = max(1, successorMisses)
        self.maintenanceIntervalNanoseconds = max(1, maintenanceIntervalNanoseconds)
        self.globalIntervalNanoseconds = max(1, globalIntervalNanoseconds)
        self.fullCheckIntervalNanoseconds = max(1, fullCheckIntervalNanoseconds)
    }
}

/// The answer to a lookup.
public struct LookupResult: Hashable, Sendable {
    public var key: NodeID
    /// The node responsible for `key`, then its successors: the r replicas, owner first.
    public var replicas: [RingPeer]
    /// The owner's predecessor when the answer names it (then every key in `(predecessor, owner]`
    /// belongs to the owner); nil when the owner answered itself.
    public var predecessor: RingPeer?
    /// Remote nodes asked (0 when this node knew the answer).
    public var hops: Int
    /// Requests that went unanswered on the way.
    public var timeouts: Int

    public var owner: RingPeer

    /// Nil when `replicas` is empty: a result names at least its owner.
    public init?(key: NodeID, replicas: [RingPeer], predecessor: RingPeer?, hops: Int, timeouts: Int) {
        guard let owner = replicas.first else { return nil }
        self.owner = owner
        self.key = key
        self.replicas = replicas
        self.predecessor = predecessor
        self.hops = hops
        self.timeouts = timeouts
    }
}

/// Why a lookup failed.
public enum LookupFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Every route tried went unanswered.
    case unreachable(attempts: Int)

    public var description: String {
        switch self {
        case .unreachable(let attempts):
            "the lookup got no answer after \(attempts) attempt\(attempts == 1 ? "" : "s"); the ring may be repairing — try again"
        }
    }
}

/// One node's Chord state (Stoica et al. 2001) over the 128-bit id space, sans-IO: successor
/// list, predecessor, finger table, periodic stabilize / fix-fingers / check-predecessor, and
/// iterative lookups that report their hops. Messages go out as `Output.send`; the shell
/// carries them (datagrams in the runtime, the event queue in the simulator).
public struct ChordRing: Sendable {
    public enum Output: Sendable, Equatable {
        case send(to: String, RingMessage)
        /// A lookup started with `lookup(_:token:now:)` ended.
        case lookupFinished(token: UInt64, Result<LookupResult, LookupFailure>)
        /// The predecessor changed: keys in `(new, old]`-style ranges may have changed hands.
        case predecessorChanged(from: RingPeer?, to: RingPeer?)
        /// The successor list changed (replicas may need copies).
        case successorsChanged([RingPeer])
    }

    enum Purpose: Hashable, Sendable {
        case client(UInt64)
        case join
        case finger(Int)
    }

    struct PendingLookup: Sendable {
        var key: NodeID
        var purpose: Purpose
        var hops = 0
        var timeouts = 0
        /// Who the current request went to (its id is unknown for a join's entry node).
        var awaiting: (address: String, id: NodeID?)
        var fallbacks: [RingPeer]
        var deadline: Instant
        /// Nodes that did not answer this lookup.
        var failed: Set<NodeID> = []
    }

    public let me: RingPeer
    public let configuration: RingConfiguration
    /// Nearest first; empty while the node is alone.
    public private(set) var successors: [RingPeer] = []
    public private(set) var predecessor: RingPeer?
    public private(set) var fingers: FingerTable
    private var lookups: [UInt64: PendingLookup] = [:]
    private var nextRequest: UInt64 = 1
    private var stabilizing: (nonce: UInt64, peer: NodeID, deadline: Instant)?
    private var successorMissCount = 0
    private var predecessorHeardAt: Instant
    private var nextStabilizeAt: Instant
    private var nextFixFingerAt: Instant
    /// The current fix-fingers interval (see `fixFingerMaximumIntervalNanoseconds`), and how many
    /// refreshes in a row found the finger unchanged.
    public private(set) var fixFingerInterval: Int64
    private var unchangedRefreshes = 0
    /// The current stabilization interval (see `stabilizeMaximumIntervalNanoseconds`), and how
    /// many answered rounds in a row changed nothing.
    public private(set) var stabilizeInterval: Int64
    private var quietStabilizations = 0
    /// Where a join that got no answer is retried.
    private var entry: String?
    /// Lookups answered by this node for others (for metrics).
    public private(set) var answered = 0

    public init(me: RingPeer, configuration: RingConfiguration = RingConfiguration(), now: Instant) {
        self.me = me
        self.configuration = configuration
        fingers = FingerTable(me: me.id)
        predecessorHeardAt = now
        nextStabilizeAt = now
        nextFixFingerAt = now
        fixFingerInterval = configuration.fixFingerIntervalNanoseconds
        stabilizeInterval = configuration.stabilizeIntervalNanoseconds
    }

    /// The first successor, or this node when it is alone.
    public var successor: RingPeer { successors.first ?? me }

    /// True while this node knows no other.
    public var isAlone: Bool { successors.isEmpty && predecessor == nil }

    /// Lookups in flight.
    public var pendingLookups: Int { lookups.count }

    // MARK: Commands

    /// Joins the ring through the node at `address`: looks up this node's own id there and takes
    /// the answer's owner and its successors as successor list. Retried until answered.
    public mutating func join(via address: String, now: Instant) -> [Output] {
        entry = address
        return startRemote(key: me.id, purpose: .join, to: (address, nil), fallbacks: [], now: now)
    }

    /// Leaves the ring's state behind (after a graceful leave): the node is alone again.
    public mutating func reset() {
        successors = []
        predecessor = nil
        fingers = FingerTable(me: me.id)
        lookups = [:]
        stabilizing = nil
        entry = nil
    }

    /// Starts an iterative lookup of `key`; its end arrives as `.lookupFinished(token:…)`, at once
    /// when this node knows the owner.
    public mutating func lookup(_ key: NodeID, token: UInt64, now: Instant) -> [Output] {
        startLookup(key: key, purpose: .client(token), now: now)
    }

    /// The answer this node gives for `key` from its own tables: done with the replicas, or the
    /// nodes to ask next, the closest preceding finger first (see `closestPreceding`).
    public func answer(for key: NodeID) -> (done: Bool, peers: [RingPeer]) {
        if let predecessor, key.isIn(after: predecessor.id, upTo: me.id) {
            return (true, [me] + successors.prefix(configuration.successorCount - 1))
        }
        guard let successor = successors.first else { return (true, [me]) }
        if key.isIn(after: me.id, upTo: successor.id) { return (true, replicasFromSuccessor) }
        let closer = closestPreceding(key, count: 3)
        return closer.isEmpty ? (true, replicasFromSuccessor) : (false, closer)
    }

    /// The replicas of a key this node's successor owns: the successor list, and this node
    /// itself when the list is short because the ring has no more nodes (with r = 3 on three
    /// nodes, every node holds every key).
    private var replicasFromSuccessor: [RingPeer] {
        successors.count < configuration.successorCount ? successors + [me] : successors
    }

    /// A node that membership reports alive: taken as successor when it sits between this node
    /// and its successor (stabilization then confirms it). Speeds up joins; Chord alone would get
    /// there over several stabilization rounds.
    public mutating func consider(_ peer: RingPeer) -> [Output] {
        guard peer.id != me.id, !successors.contains(where: { $0.id == peer.id }) else { return [] }
        if let first = successors.first, !peer.id.isStrictly(after: me.id, before: first.id) {
            // Still a better entry further down the list?
            guard successors.count < configuration.successorCount
                || successors.contains(where: { peer.id.isStrictly(after: me.id, before: $0.id) })
            else { return [] }
        }
        return setSuccessors(successors + [peer])
    }

    /// The ring changed: refresh fingers and stabilize at the full rate again (from the next round
    /// on, at most the maximum interval away).
    private mutating func fingersChanged() {
        unchangedRefreshes = 0
        fixFingerInterval = configuration.fixFingerIntervalNanoseconds
        stabilizeAtFullRate()
    }

    private mutating func stabilizeAtFullRate() {
        quietStabilizations = 0
        stabilizeInterval = configuration.stabilizeIntervalNanoseconds
    }

    /// Forgets a node membership declared dead or gone: repairs the successor list, predecessor
    /// and fingers at once.
    public mutating func remove(_ id: NodeID, now: Instant) -> [Output] {
        var outputs: [Output] = []
        fingersChanged()
        fingers.remove(id)
        for lookup in lookups.filter({ $0.value.awaiting.id == id }).keys.sorted() { outputs += retry(lookup, now: now) }
        if predecessor?.id == id {
            outputs.append(.predecessorChanged(from: predecessor, to: nil))
            predecessor = nil
        }
        if successors.contains(where: { $0.id == id }) {
            var remaining = successors.filter { $0.id != id }
            if remaining.isEmpty {
                // Fall back on the nearest finger, else the predecessor: the ring heals from there.
                let candidates = fingers.distinct.map(\.peer) + (predecessor.map { [$0] } ?? [])
                if let nearest = candidates.min(by: { me.id.distance(to: $0.id) < me.id.distance(to: $1.id) }) {
                    remaining = [nearest]
                }
            }
            outputs += setSuccessors(remaining)
            if stabilizing?.peer == id { stabilizing = nil }
        }
        return outputs
    }

    /// Takes a converged ring's neighbours as given (the simulator's warm start for large rings).
    public mutating func adopt(successors: [RingPeer], predecessor: RingPeer?, now: Instant) {
        self.successors = Array(successors.filter { $0.id != me.id }.prefix(configuration.successorCount))
        self.predecessor = predecessor
        predecessorHeardAt = now
    }

    // MARK: Inputs

    public mutating func receive(_ message: RingMessage, from sender: NodeID, address: String, now: Instant) -> [Output] {
        switch message {
        case .findNext(let lookup, let key):
            answered += 1
            let (done, peers) = answer(for: key)
            return [.send(to: address, .next(lookup: lookup, key: key, done: done, peers: peers))]
        case .next(let lookup, let key, let done, let peers):
            return advance(lookup, key: key, done: done, peers: peers, from: sender, address: address, now: now)
        case .neighborsRequest(let nonce):
            return [.send(to: address, .neighbors(nonce: nonce, predecessor: predecessor, successors: successors))]
        case .neighbors(let nonce, let reported, let theirSuccessors):
            guard let pending = stabilizing, pending.nonce == nonce, pending.peer == sender else { return [] }
            stabilizing = nil
            // The successor changed while the request was out: the next round asks the new one.
            guard let successor = successors.first, successor.id == sender else { return [] }
            successorMissCount = 0
            var list = [successor] + theirSuccessors
            if let reported, reported.id.isStrictly(after: me.id, before: successor.id) { list.insert(reported, at: 0) }
            var outputs = setSuccessors(list)
            if outputs.isEmpty {
                quietStabilizations += 1
                if quietStabilizations >= configuration.stabilizeQuietRounds {
                    quietStabilizations = 0
                    stabilizeInterval = min(configuration.stabilizeMaximumIntervalNanoseconds, stabilizeInterval * 2)
                }
            }
            outputs.append(.send(to: self.successor.address, .notify(address: me.address)))
            return outputs
        case .notify(let claimed):
            guard sender != me.id else { return [] }
            let peer = RingPeer(id: sender, address: claimed)
            var outputs: [Output] = []
            if predecessor?.id == sender {
                predecessorHeardAt = now
                if predecessor?.address != claimed { predecessor = peer }
            } else if predecessor == nil || sender.isStrictly(after: predecessor?.id ?? me.id, before: me.id) {
                outputs.append(.predecessorChanged(from: predecessor, to: peer))
                predecessor = peer
                predecessorHeardAt = now
                stabilizeAtFullRate()
            }
            if successors.isEmpty { outputs += setSuccessors([peer]) }
            return outputs
        }
    }

    public mutating func tick(now: Instant) -> [Output] {
        var outputs: [Output] = []
        // Requests that went unanswered.
        // In request order, so a seed replays exactly.
        for id in lookups.filter({ $0.value.deadline <= now }).keys.sorted() {
            outputs += retry(id, now: now)
        }
        if let pending = stabilizing, pending.deadline <= now {
            stabilizing = nil
            successorMissCount += 1
            stabilizeAtFullRate()
            if successorMissCount >= configuration.successorMisses {
                successorMissCount = 0
                outputs += remove(pending.peer, now: now)
            }
        }
        if nextStabilizeAt <= now {
            nextStabilizeAt = now.advanced(byNanoseconds: stabilizeInterval)
            outputs += stabilize(now: now)
            // Check-predecessor: a live predecessor notifies every stabilization round (its rounds
            // may be as far apart as the maximum interval).
            if let predecessor,
                predecessorHeardAt.advanced(byNanoseconds: 6 * configuration.stabilizeMaximumIntervalNanoseconds) <= now
            {
                self.predecessor = nil
                outputs.append(.predecessorChanged(from: predecessor, to: nil))
            }
        }
        if nextFixFingerAt <= now {
            nextFixFingerAt = now.advanced(byNanoseconds: fixFingerInterval)
            outputs += fixNextFinger(now: now)
        }
        return outputs
    }

    // MARK: Maintenance

    private mutating func stabilize(now: Instant) -> [Output] {
        if successors.isEmpty, let predecessor { return setSuccessors([predecessor]) }
        if successors.isEmpty, let entry, !lookups.values.contains(where: { $0.purpose == .join }) {
            return startRemote(key: me.id, purpose: .join, to: (entry, nil), fallbacks: [], now: now)
        }
        guard let successor = successors.first, stabilizing == nil else { return [] }
        let nonce = takeRequestID()
        stabilizing = (nonce, successor.id, now.advanced(byNanoseconds: configuration.requestTimeoutNanoseconds))
        return [.send(to: successor.address, .neighborsRequest(nonce: nonce))]
    }

    /// Refreshes the next finger: entries the successor covers cost nothing; the first that does
    /// not is looked up.
    private mutating func fixNextFinger(now: Instant) -> [Output] {
        guard let successor = successors.first else { return [] }
        for _ in 0..<FingerTable.size {
            let index = fingers.next
            fingers.next = (index + 1) % FingerTable.size
            let start = fingers.start(index)
            if start.isIn(after: me.id, upTo: successor.id) {
                fingers.set(index, to: successor)
                continue
            }
            if lookups.values.contains(where: { $0.purpose == .finger(index) }) { return [] }
            return startLookup(key: start, purpose: .finger(index), now: now)
        }
        return []
    }

    private mutating func setSuccessors(_ candidates: [RingPeer]) -> [Output] {
        var seen: Set<NodeID> = [me.id]
        let ordered = candidates.filter { seen.insert($0.id).inserted }
            .sorted { me.id.distance(to: $0.id) < me.id.distance(to: $1.id) }
        let list = Array(ordered.prefix(configuration.successorCount))
        guard list != successors else { return [] }
        if list.first?.id != successors.first?.id {
            successorMissCount = 0
            stabilizing = nil
        }
        successors = list
        fingersChanged()
        return [.successorsChanged(list)]
    }

    // MARK: Lookups

    private mutating func takeRequestID() -> UInt64 {
        defer { nextRequest &+= 1 }
        return nextRequest
    }

    private mutating func startLookup(key: NodeID, purpose: Purpose, now: Instant) -> [Output] {
        let (done, peers) = answer(for: key)
        if done, let result = LookupResult(
            key: key, replicas: peers, predecessor: peers.first?.id == me.id ? predecessor : me, hops: 0, timeouts: 0)
        {
            return finish(purpose, .success(result))
        }
        guard let first = peers.first else { return finish(purpose, .failure(.unreachable(attempts: 0))) }
        // Last resort behind the closer nodes: the successors, slower but always making progress.
        let fallbacks = peers.dropFirst() + successors.filter { peer in !peers.contains { $0.id == peer.id } }
        return startRemote(key: key, purpose: purpose, to: (first.address, first.id), fallbacks: Array(fallbacks), now: now)
    }

    private mutating func startRemote(
        key: NodeID, purpose: Purpose, to target: (address: String, id: NodeID?), fallbacks: [RingPeer], now: Instant
    ) -> [Output] {
        let id = takeRequestID()
        lookups[id] = PendingLookup(
            key: key, purpose: purpose, awaiting: target, fallbacks: fallbacks,
            deadline: now.advanced(byNanoseconds: configuration.requestTimeoutNanoseconds))
        return [.send(to: target.address, .findNext(lookup: id, key: key))]
    }

    private mutating func advance(
        _ id: UInt64, key: NodeID, done: Bool, peers: [RingPeer], from sender: NodeID, address: String, now: Instant
    ) -> [Output] {
        guard var pending = lookups[id], pending.key == key,
            // A join's entry node is known by address only; its answer counts whoever signed it.
            pending.awaiting.id == sender || pending.awaiting.id == nil
        else { return [] }
        pending.hops += 1
        let answerer = RingPeer(id: sender, address: address)
        if done, let result = LookupResult(
            key: key, replicas: peers, predecessor: peers.first?.id == sender ? nil : answerer, hops: pending.hops,
            timeouts: pending.timeouts)
        {
            lookups[id] = nil
            return finish(pending.purpose, .success(result))
        }
        // Only nodes strictly closer to the key than the one that answered make progress.
        let closer = peers.filter { $0.id != me.id && $0.id.isStrictly(after: sender, before: key) }
        let fallbacks = closer.dropFirst() + pending.fallbacks.filter { $0.id.isStrictly(after: sender, before: key) }
        guard let next = closer.first ?? fallbacks.first else {
            lookups[id] = nil
            return finish(pending.purpose, .failure(.unreachable(attempts: pending.hops + pending.timeouts)))
        }
        pending.awaiting = (next.address, next.id)
        pending.fallbacks = Array(fallbacks.filter { $0.id != next.id })
        pending.deadline = now.advanced(byNanoseconds: configuration.requestTimeoutNanoseconds)
        lookups[id] = pending
        return [.send(to: next.address, .findNext(lookup: id, key: key))]
    }

    private mutating func retry(_ id: UInt64, now: Instant) -> [Output] {
        guard var pending = lookups[id] else { return [] }
        // A node stayed silent: the ring is not quiet, whatever the fingers say. Like Chord's
        // implementations, stop routing through it; a later refresh puts it back if it was alive.
        fingersChanged()
        pending.timeouts += 1
        if let silent = pending.awaiting.id {
            pending.failed.insert(silent)
            fingers.remove(silent)
        }
        pending.fallbacks.removeAll { pending.failed.contains($0.id) }
        if pending.fallbacks.isEmpty {
            // Start again from this node's own tables, around the nodes that failed.
            let restart = closestPreceding(pending.key, count: 3, excluding: pending.failed)
                + successors.filter { !pending.failed.contains($0.id) }
            var seen: Set<NodeID> = []
            pending.fallbacks = restart.filter { seen.insert($0.id).inserted }
        }
        guard pending.timeouts < configuration.lookupAttempts, !pending.fallbacks.isEmpty else {
            lookups[id] = nil
            return finish(pending.purpose, .failure(.unreachable(attempts: pending.hops + pending.timeouts)))
        }
        let next = pending.fallbacks.removeFirst()
        pending.awaiting = (next.address, next.id)
        pending.deadline = now.advanced(byNanoseconds: configuration.requestTimeoutNanoseconds)
        lookups[id] = pending
        return [.send(to: next.address, .findNext(lookup: id, key: pending.key))]
    }

    private mutating func finish(_ purpose: Purpose, _ result: Result<LookupResult, LookupFailure>) -> [Output] {
        switch purpose {
        case .client(let token):
            return [.lookupFinished(token: token, result)]
        case .join:
            guard case .success(let found) = result else { return [] }
            // Merged with what membership taught meanwhile: the answer may predate nodes that
            // joined while it travelled, and dropping them would cost a stabilization round each.
            return setSuccessors(successors + found.replicas.filter { $0.id != me.id })
        case .finger(let index):
            guard case .success(let found) = result else { return [] }
            // This node itself owning the start means no other node precedes it there.
            let entry = found.owner.id == me.id ? nil : found.owner
            if fingers.entries[index] == entry {
                // Enough refreshes changed nothing: the ring is quiet, refresh less often.
                unchangedRefreshes += 1
                if unchangedRefreshes >= configuration.fixFingerQuietRefreshes {
                    unchangedRefreshes = 0
                    fixFingerInterval = min(configuration.fixFingerMaximumIntervalNanoseconds, fixFingerInterval * 2)
                }
            } else {
                fingers.set(index, to: entry)
                fingersChanged()
            }
            return []
        }
    }

    /// Up to `count` known nodes strictly between this node and `key`, to ask in turn. The first
    /// is Chord's `closest_preceding_finger`: scanning the finger table from the top, the first
    /// entry that lies before `key`. The next entries down follow as fallbacks for when it does
    /// not answer, then the successor list, closest to `key` first: it is routed through only when
    /// no finger precedes `key` (before fix-fingers has filled the table).
    ///
    /// Routing through the successor list as well would shorten paths below Chord's (its last
    /// steps jump up to r nodes at once): at 100 nodes the mean fell to 0.90 × ½·log2 N, where the
    /// paper's path length — the fingers followed — is about ½·log2 N (docs/experiments.md,
    /// "Lookup hops").
    private func closestPreceding(_ key: NodeID, count: Int, excluding failed: Set<NodeID> = []) -> [RingPeer] {
        guard count > 0 else { return [] }
        var chosen: [RingPeer] = []
        let entries = fingers.entries
        var previous: NodeID?
        var index = entries.count
        // From the top the scan stops after a few entries: those past `key` come first, then
        // the candidates, closest to `key` first.
        while index > 0, chosen.count < count {
            index -= 1
            // Consecutive entries mostly name the same node: skip the repeats cheaply.
            guard let id = entries[index]?.id, id != previous else { continue }
            previous = id
            guard id.isStrictly(after: me.id, before: key), !failed.contains(id),
                !chosen.contains(where: { $0.id == id }),
                let peer = entries[index]
            else { continue }
            chosen.append(peer)
        }
        if chosen.count < count {
            let nearer = successors.filter { peer in
                peer.id.isStrictly(after: me.id, before: key) && !failed.contains(peer.id)
                    && !chosen.contains(where: { $0.id == peer.id })
            }
            chosen += nearer.sorted { $0.id.distance(to: key) < $1.id.distance(to: key) }.prefix(count - chosen.count)
        }
        return chosen
    }
}
