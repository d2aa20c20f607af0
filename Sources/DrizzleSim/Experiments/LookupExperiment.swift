public import DrizzleCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `drizzle sim lookup`: Chord lookup path length against ring size (Stoica et al. 2001, §6.3,
/// Figure 10: the mean path length is about ½·log2 N).
///
/// For each size N the experiment places N nodes at random 128-bit ids (the `identities/<N>`
/// stream) and runs the real `ChordRing` on each, with `RingMessage` frames as the simulated
/// datagrams (`RingSimNode`). Warm start: every node adopts the successor list and predecessor
/// that stabilization converges to (`ChordRing.adopt`), and nothing else; the finger tables
/// start empty and are filled by the protocol's own fix-fingers, through real lookups, until a
/// whole fix-fingers pass over every node changes no finger. Then `lookups` lookups of random
/// keys start at random nodes (the `workload/<N>` stream) and travel through the real message
/// exchange. Each answer's owner is checked against the true successor of the key, found from
/// the sorted ids.
///
/// A lookup's hops are the remote nodes it asked (`LookupResult.hops`): 0 when the node that
/// starts it already knows the owner.
public struct LookupExperiment: Sendable {
    /// Ring sizes to measure.
    public var sizes = [100, 1000, 10_000]
    /// Lookups per size.
    public var lookups = 10_000
    public var seed: UInt64 = 1
    /// The ring's settings. The default keeps the shipped intervals except fix-fingers, which
    /// runs once per 100 ms simulator round (one finger per round).
    public var configuration = RingConfiguration(fixFingerIntervalNanoseconds: LookupExperiment.roundNanoseconds)
    /// Fix-fingers passes to wait at most for the finger tables to settle.
    public var maximumPasses = 8

    public init() {}

    /// The measurements for one ring size.
    public struct Row: Sendable, Hashable {
        public var nodes: Int
        public var lookups: Int
        public var meanHops: Double
        /// 99th percentile (nearest rank).
        public var p99Hops: Int
        public var maxHops: Int
        /// ½·log2 N, the paper's figure.
        public var halfLog2N: Double
        /// Lookups whose owner is not the true successor of the key (must be 0).
        public var wrongAnswers: Int
        /// Lookups that ended unanswered (must be 0: no node fails in this experiment).
        public var failedLookups: Int
        /// Requests that went unanswered during the measured lookups.
        public var timeouts: Int
        /// Finger entries that, once the tables settled, were empty or not the true successor of
        /// their start (must be 0).
        public var wrongFingers: Int
        /// Fix-fingers passes until a pass changed no finger on any node (the last pass included).
        public var passes: Int
        /// Simulator rounds (of 100 ms) spent filling the finger tables.
        public var warmupRounds: Int
        /// Datagrams sent, warm-up included.
        public var datagrams: Int
        /// Hop counts: `hopCounts[h]` lookups took `h` hops.
        public var hopCounts: [Int]

        /// Mean hops over ½·log2 N.
        public var ratio: Double { halfLog2N > 0 ? meanHops / halfLog2N : 0 }
    }

    public static let roundNanoseconds: Int64 = 100_000_000
    /// Virtual start: 2026-01-01T00:00:00Z.
    static let start = Instant(unixSeconds: 1_767_225_600)

    /// Runs every size in turn; `progress` receives (phases done, phases): two per size, warm-up
    /// and lookups.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> [Row] {
        var rows: [Row] = []
        for (index, size) in sizes.enumerated() {
            rows.append(
                single(nodes: size) { phase in progress(2 * index + phase, 2 * sizes.count) })
        }
        return rows
    }

    /// `count` distinct random ids.
    static func identities(_ count: Int, random: inout SimRandom) -> [NodeID] {
        var seen: Set<NodeID> = []
        var ids: [NodeID] = []
        ids.reserveCapacity(count)
        while ids.count < count {
            let id = NodeID(high: random.next(), low: random.next())
            if seen.insert(id).inserted { ids.append(id) }
        }
        return ids
    }

    /// The sorted ids with the index of the node holding each, for finding true owners.
    struct Truth {
        let sorted: [(id: NodeID, index: Int)]

        init(_ ids: [NodeID]) {
            sorted = ids.enumerated().map { ($0.element, $0.offset) }.sorted { $0.id < $1.id }
        }

        /// Position in `sorted` of the first node at or after `key`, wrapping past the top.
        func successorPosition(of key: NodeID) -> Int {
            var low = 0
            var high = sorted.count
            while low < high {
                let middle = (low + high) / 2
                if sorted[middle].id < key { low = middle + 1 } else { high = middle }
            }
            return low == sorted.count ? 0 : low
        }

        /// The node that owns `key`: the first at or after it.
        func owner(of key: NodeID) -> NodeID { sorted[successorPosition(of: key)].id }
    }

    private func single(nodes count: Int, progress: (Int) -> Void) -> Row {
        var identityRandom = SimRandom(seed: seed, stream: "identities/\(count)")
        let ids = Self.identities(count, random: &identityRandom)
        let truth = Truth(ids)
        var shells = (0..<count).map {
            RingSimNode(position: $0, ids: ids, configuration: configuration, now: Self.start)
        }
        // Warm start: the successor lists and predecessors stabilization converges to.
        let r = configuration.successorCount
        for (position, entry) in truth.sorted.enumerated() {
            let successors = (1...min(r, max(1, count - 1))).map { offset in
                shells[entry.index].peer(truth.sorted[(position + offset) % count].index)
            }
            let predecessor = shells[entry.index].peer(truth.sorted[(position + count - 1) % count].index)
            shells[entry.index].ring.adopt(
                successors: count > 1 ? successors : [], predecessor: count > 1 ? predecessor : nil, now: Self.start)
        }
        let simulator = Simulator(
            nodes: shells, network: NetworkModel(latency: .lan), roundNanoseconds: Self.roundNanoseconds, seed: seed,
            start: Self.start)
        shells = []

        // Fix-fingers refreshes one finger the successor does not cover per round, so a pass
        // over a node's table takes as many rounds as it has such fingers.
        let widest = simulator.nodes.map { node in
            let ring = node.ring
            return (0..<FingerTable.size).count {
                !ring.fingers.start($0).isIn(after: ring.me.id, upTo: ring.successor.id)
            }
        }.max()
        let passRounds = 1 + (widest ?? 0)
        var previous = fingerprints(simulator.nodes)
        var passes = 0
        while passes < maximumPasses {
            passes += 1
            simulator.run(rounds: simulator.rounds + passRounds)
            let current = fingerprints(simulator.nodes)
            if current == previous { break }
            previous = current
        }
        let warmupRounds = simulator.rounds
        let wrongFingers = simulator.nodes.reduce(0) { $0 + wrongEntries($1.ring, truth: truth) }
        progress(1)

        // The measured lookups, all started at once from random nodes.
        for index in simulator.nodes.indices { simulator.nodes[index].clearFinished() }
        var workload = SimRandom(seed: seed, stream: "workload/\(count)")
        var keys: [NodeID] = []
        keys.reserveCapacity(lookups)
        for token in 0..<lookups {
            let origin = Int(workload.next() % UInt64(count))
            let key = NodeID(high: workload.next(), low: workload.next())
            keys.append(key)
            simulator.act(on: origin) { node, now, _, effects in
                node.lookup(key, token: UInt64(token), at: now, effects: &effects)
            }
        }
        // Every lookup ends within its attempts' timeouts; leave a generous margin.
        let limit = Int(
            (configuration.requestTimeoutNanoseconds * Int64(configuration.lookupAttempts + 2)) / Self.roundNanoseconds)
        simulator.run(rounds: simulator.rounds + max(10, limit)) { simulator in
            simulator.nodes.reduce(0) { $0 + $1.finished.count } >= lookups
        }

        var hops: [Int] = []
        hops.reserveCapacity(lookups)
        var wrong = 0
        var failed = 0
        var timeouts = 0
        var answered = Set<UInt64>()
        for node in simulator.nodes {
            for lookup in node.finished {
                answered.insert(lookup.token)
                switch lookup.result {
                case .success(let result):
                    hops.append(result.hops)
                    timeouts += result.timeouts
                    if result.owner.id != truth.owner(of: keys[Int(lookup.token)]) { wrong += 1 }
                case .failure:
                    failed += 1
                }
            }
        }
        failed += lookups - answered.count
        progress(2)

        hops.sort()
        let mean = hops.isEmpty ? 0 : Double(hops.reduce(0, +)) / Double(hops.count)
        let p99 = hops.isEmpty ? 0 : hops[max(0, Int((0.99 * Double(hops.count)).rounded(.up)) - 1)]
        var histogram = Array(repeating: 0, count: (hops.last ?? 0) + 1)
        for value in hops { histogram[value] += 1 }
        return Row(
            nodes: count, lookups: lookups, meanHops: mean, p99Hops: p99, maxHops: hops.last ?? 0,
            halfLog2N: 0.5 * log2(Double(count)), wrongAnswers: wrong, failedLookups: failed, timeouts: timeouts,
            wrongFingers: wrongFingers, passes: passes, warmupRounds: warmupRounds, datagrams: simulator.messagesSent,
            hopCounts: histogram)
    }

    /// One number per node that changes when any of its finger entries does.
    private func fingerprints(_ nodes: [RingSimNode]) -> [UInt64] {
        nodes.map { node in
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for entry in node.ring.fingers.entries {
                let id = entry?.id ?? NodeID(high: 0, low: 0)
                for word in [id.high, id.low, entry == nil ? 0 : 1] {
                    hash = (hash ^ word) &* 0x100_0000_01B3
                    hash ^= hash >> 29
                }
            }
            return hash
        }
    }

    /// Finger entries of `ring` that are empty or not the true successor of their start (an
    /// entry whose true successor is the node itself stays empty by design).
    private func wrongEntries(_ ring: ChordRing, truth: Truth) -> Int {
        var wrong = 0
        for (index, entry) in ring.fingers.entries.enumerated() {
            let owner = truth.owner(of: ring.fingers.start(index))
            if owner == ring.me.id {
                if entry != nil { wrong += 1 }
            } else if entry?.id != owner {
                wrong += 1
            }
        }
        return wrong
    }
}
