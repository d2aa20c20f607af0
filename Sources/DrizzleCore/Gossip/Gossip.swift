/// Rumor mongering with anti-entropy for one node, sans-IO (Demers et al. 1987).
///
/// Each round (`tick`) the node contacts `fanout` random peers and, by the policy's mode, pushes
/// its hot rumors, pulls theirs, or both. A rumor stays hot until the policy's stop rule (counter
/// or coin, with or without feedback) or the transmit limit says otherwise. Every
/// `antiEntropyEveryRounds` rounds the node also compares digests with one random peer and
/// repairs what either side lacks, which removes the residue rumor mongering leaves behind.
///
/// Time, randomness and peers are passed in; the result of every call is a list of outputs.
public struct Gossip: Sendable {
    /// What the node should do after a call.
    public enum Output: Hashable, Sendable {
        /// Send `message` to `peer`; `reliable` messages (anti-entropy) go over TCP in the runtime.
        case send(to: NodeID, message: GossipMessage, reliable: Bool)
        /// A rumor this node did not know arrived (or was published here).
        case learned(Rumor, from: NodeID?)
    }

    private struct Entry: Sendable {
        var rumor: Rumor
        var hot: Bool
        var transmits: Int
        var counted: Int
        var order: UInt64
    }

    public let me: NodeID
    public var policy: RumorPolicy
    /// Rounds between anti-entropy exchanges; 0 turns anti-entropy off.
    public var antiEntropyEveryRounds: Int
    /// The most bytes of rumors one message may carry (so its datagram stays within the limit).
    public var rumorBudgetBytes: Int

    private var entries: [RumorID: Entry] = [:]
    private var hot: Set<RumorID> = []
    /// The hot rumors in selection order, kept between messages (a message takes a few; rebuilding
    /// the order from thousands of hot rumors for every message dominated large simulations). Holds
    /// one current item per hot rumor, plus stale ones (cooled, forgotten) dropped when they surface.
    private var queue = HotHeap()
    /// How many hot rumors have each encoded size: the smallest bounds when a message is full.
    private var hotSizes: [Int: Int] = [:]
    private var nextSequence: UInt64 = 0
    private var insertions: UInt64 = 0
    private var clusterSize = 1
    /// Rounds run so far.
    public private(set) var round = 0
    /// Messages sent that carried at least one rumor (the paper's traffic m, summed).
    public private(set) var rumorMessagesSent = 0

    /// - Parameter firstSequence: the sequence number of this node's first rumor. A node that
    ///   restarts must not reuse the numbers of its previous life — its peers still hold those
    ///   rumors and would take the new ones for duplicates — so `NodeCore` starts each life at
    ///   `epoch << 32`.
    public init(
        me: NodeID, policy: RumorPolicy, antiEntropyEveryRounds: Int = 0, rumorBudgetBytes: Int = 900,
        firstSequence: UInt64 = 0
    ) {
        self.me = me
        nextSequence = firstSequence
        self.policy = policy
        self.antiEntropyEveryRounds = max(0, antiEntropyEveryRounds)
        self.rumorBudgetBytes = max(Rumor.overhead, rumorBudgetBytes)
    }

    /// How many rumors this node knows, and how many it is still spreading.
    public var knownCount: Int { entries.count }
    public var hotCount: Int { hot.count }

    /// True when this node knows the rumor.
    public func knows(_ id: RumorID) -> Bool { entries[id] != nil }

    /// The rumor `id`, while this node still holds it.
    public func rumor(_ id: RumorID) -> Rumor? { entries[id]?.rumor }

    /// Every rumor this node knows.
    public var rumors: [Rumor] { entries.values.sorted { $0.order < $1.order }.map(\.rumor) }

    /// Starts a new rumor at this node; it is hot at once.
    public mutating func publish(kind: UInt8, payload: [UInt8]) -> (Rumor, [Output]) {
        let rumor = Rumor(id: RumorID(origin: me, sequence: nextSequence), kind: kind, payload: payload)
        nextSequence += 1
        learn(rumor, hot: true)
        return (rumor, [.learned(rumor, from: nil)])
    }

    /// One gossip round. `peers` may contain this node (it is skipped); `clusterSize` feeds the
    /// transmit limit.
    public mutating func tick<Peers: RandomAccessCollection<NodeID>>(
        peers: Peers, clusterSize: Int, using generator: inout some RandomNumberGenerator
    ) -> [Output] {
        round += 1
        self.clusterSize = max(1, clusterSize)
        var outputs: [Output] = []
        let partners = Self.sample(peers, count: policy.fanout, excluding: me, using: &generator)
        for partner in partners {
            switch policy.mode {
            case .push:
                let selected = selectHot(excluding: [], using: &generator)
                if !selected.isEmpty {
                    outputs.append(.send(to: partner, message: .rumors(selected, wantsReply: false, isReply: false), reliable: false))
                }
            case .pull:
                outputs.append(.send(to: partner, message: .rumors([], wantsReply: true, isReply: false), reliable: false))
            case .pushPull:
                let selected = selectHot(excluding: [], using: &generator)
                outputs.append(.send(to: partner, message: .rumors(selected, wantsReply: true, isReply: false), reliable: false))
            }
        }
        if antiEntropyEveryRounds > 0, round % antiEntropyEveryRounds == 0,
            let partner = Self.sample(peers, count: 1, excluding: me, using: &generator).first
        {
            outputs.append(.send(to: partner, message: .digest(Digest(entries.keys), isReply: false), reliable: true))
        }
        return outputs
    }

    /// Handles a gossip message from `peer`.
    public mutating func receive(
        _ message: GossipMessage, from peer: NodeID, using generator: inout some RandomNumberGenerator
    ) -> [Output] {
        var outputs: [Output] = []
        switch message {
        case .rumors(let rumors, let wantsReply, _):
            var known: [RumorID] = []
            for rumor in rumors {
                if entries[rumor.id] != nil {
                    known.append(rumor.id)
                } else {
                    learn(rumor, hot: true)
                    outputs.append(.learned(rumor, from: peer))
                }
            }
            if policy.feedback == .feedback, !known.isEmpty {
                outputs.append(.send(to: peer, message: .feedback(known: known), reliable: false))
            }
            if wantsReply {
                let selected = selectHot(excluding: Set(rumors.map(\.id)), using: &generator)
                if !selected.isEmpty {
                    outputs.append(.send(to: peer, message: .rumors(selected, wantsReply: false, isReply: true), reliable: false))
                }
            }
        case .eager(let rumors):
            for rumor in rumors where entries[rumor.id] == nil {
                learn(rumor, hot: true)
                outputs.append(.learned(rumor, from: peer))
            }
        case .feedback(let known):
            guard policy.feedback == .feedback else { break }
            for id in known { countContact(id, recipientKnew: true, using: &generator) }
        case .digest(let digest, let isReply):
            let missing = entries.values.filter { !digest.contains($0.rumor.id) }.sorted { $0.order < $1.order }
                .map(\.rumor)
            if !missing.isEmpty { outputs.append(.send(to: peer, message: .repair(missing), reliable: true)) }
            if !isReply {
                outputs.append(.send(to: peer, message: .digest(Digest(entries.keys), isReply: true), reliable: true))
            }
        case .repair(let rumors):
            for rumor in rumors where entries[rumor.id] == nil {
                learn(rumor, hot: false)
                outputs.append(.learned(rumor, from: peer))
            }
        }
        return outputs
    }

    /// Forgets every rumor for which `isExpired` holds (retention is the owner's choice).
    public mutating func forget(where isExpired: (Rumor) -> Bool) {
        for (id, entry) in entries where isExpired(entry.rumor) {
            if entry.hot { removeHotSize(entry.rumor.encodedLength) }
            entries[id] = nil
            hot.remove(id)
        }
    }

    /// Forgets one rumor (a newer one replaced it).
    public mutating func forget(_ id: RumorID) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        if entry.hot { removeHotSize(entry.rumor.encodedLength) }
        hot.remove(id)
    }

    // MARK: Internals

    private mutating func learn(_ rumor: Rumor, hot isHot: Bool) {
        insertions += 1
        if let previous = entries[rumor.id], previous.hot { removeHotSize(previous.rumor.encodedLength) }
        entries[rumor.id] = Entry(rumor: rumor, hot: isHot, transmits: 0, counted: 0, order: insertions)
        if isHot {
            hot.insert(rumor.id)
            hotSizes[rumor.encodedLength, default: 0] += 1
            queue.push(.init(transmits: 0, order: insertions, id: rumor.id, size: rumor.encodedLength))
        } else {
            hot.remove(rumor.id)
        }
    }

    /// Hot rumors for one message: least transmitted first, then newest, up to the byte budget.
    /// Counts the transmission, applies the transmit limit, and the blind stop rule.
    private mutating func selectHot(
        excluding excluded: Set<RumorID>, using generator: inout some RandomNumberGenerator
    ) -> [Rumor] {
        guard !hot.isEmpty, let smallest = hotSizes.keys.min() else { return [] }
        // Candidates come off the persistent queue in order; those skipped (excluded, too big for
        // what is left) and those sent but still hot go back afterwards, so each is considered once
        // per message, exactly as if all hot rumors were sorted for it. `smallest` is over every hot
        // rumor, so the loop never stops while a candidate could still fit.
        var setAside: [HotHeap.Item] = []
        var selected: [Rumor] = []
        var bytes = 0
        let limit = policy.transmitLimit.limit(clusterSize: clusterSize)
        while bytes + smallest <= rumorBudgetBytes, let candidate = queue.popFirst() {
            guard let entry = entries[candidate.id], entry.hot, entry.order == candidate.order,
                entry.transmits == candidate.transmits
            else { continue }  // stale: cooled, forgotten or learned again since it was queued
            if excluded.contains(candidate.id) || bytes + candidate.size > rumorBudgetBytes {
                setAside.append(candidate)
                continue
            }
            bytes += candidate.size
            selected.append(entry.rumor)
            let id = candidate.id
            entries[id]?.transmits += 1
            if entry.transmits + 1 >= limit {
                coolDown(id)
            } else {
                setAside.append(.init(transmits: entry.transmits + 1, order: entry.order, id: id, size: candidate.size))
            }
            if policy.feedback == .blind { countContact(id, recipientKnew: false, using: &generator) }
        }
        for item in setAside where entries[item.id]?.hot == true { queue.push(item) }
        // Stale items are dropped as they surface; rebuild when they outnumber the live ones.
        if queue.items.count > 2 * hot.count + 64 { rebuildQueue() }
        if !selected.isEmpty { rumorMessagesSent += 1 }
        return selected
    }

    private mutating func rebuildQueue() {
        queue.items = hot.compactMap { id in
            entries[id].map { .init(transmits: $0.transmits, order: $0.order, id: id, size: $0.rumor.encodedLength) }
        }
        queue.heapify()
    }

    private mutating func removeHotSize(_ size: Int) {
        hotSizes[size, default: 0] -= 1
        if hotSizes[size] ?? 0 <= 0 { hotSizes[size] = nil }
    }

    private mutating func countContact(
        _ id: RumorID, recipientKnew: Bool, using generator: inout some RandomNumberGenerator
    ) {
        guard let entry = entries[id], entry.hot else { return }
        let verdict = policy.losesInterest(
            recipientKnew: recipientKnew, countedBefore: entry.counted, using: &generator)
        if verdict.counts { entries[id]?.counted += 1 }
        if verdict.stop, entry.transmits >= policy.minimumTransmits { coolDown(id) }
    }

    private mutating func coolDown(_ id: RumorID) {
        guard let entry = entries[id], entry.hot else { return }
        entries[id]?.hot = false
        hot.remove(id)
        removeHotSize(entry.rumor.encodedLength)
    }

    /// Up to `count` distinct random members of `peers`, never `excluded`.
    static func sample<Peers: RandomAccessCollection<NodeID>>(
        _ peers: Peers, count: Int, excluding excluded: NodeID, using generator: inout some RandomNumberGenerator
    ) -> [NodeID] {
        guard !peers.isEmpty else { return [] }
        var chosen: [NodeID] = []
        var attempts = 0
        // Rejection sampling: cheap for the small fanouts gossip uses, bounded for tiny clusters.
        while chosen.count < count, attempts < count * 8 + 16 {
            attempts += 1
            let offset = Int.random(in: 0..<peers.count, using: &generator)
            let candidate = peers[peers.index(peers.startIndex, offsetBy: offset)]
            if candidate != excluded, !chosen.contains(candidate) { chosen.append(candidate) }
        }
        return chosen
    }
}

/// Hot rumors by "least transmitted, then newest" (a binary min-heap on those keys).
private struct HotHeap {
    struct Item {
        var transmits: Int
        var order: UInt64
        var id: RumorID
        var size: Int

        func precedes(_ other: Item) -> Bool { (transmits, other.order) < (other.transmits, order) }
    }

    var items: [Item] = []

    mutating func heapify() {
        guard items.count > 1 else { return }
        for index in stride(from: items.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    mutating func push(_ item: Item) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { return }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> Item? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let first = items.removeLast()
        siftDown(0)
        return first
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < items.count, items[left].precedes(items[first]) { first = left }
            if right < items.count, items[right].precedes(items[first]) { first = right }
            if first == parent { return }
            items.swapAt(parent, first)
            parent = first
        }
    }
}
