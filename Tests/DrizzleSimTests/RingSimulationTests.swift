import DrizzleCore
import DrizzleSim
import Testing

/// A ring of `RingSimNode`s that grows by real joins, with the truth to check it against.
private final class GrowingRing {
    static let start = Instant(unixSeconds: 1_767_225_600)
    static let roundNanoseconds: Int64 = 100_000_000

    let simulator: Simulator<RingSimNode>
    let ids: [NodeID]
    private(set) var live: [Int]
    private var workload: SimRandom
    private var nextToken: UInt64 = 0

    /// `count` nodes with random ids; node 0 starts the ring and node i joins at second i through a
    /// random node among those that joined before it. Nothing else is told to anyone: no
    /// `consider`, no warm start.
    init(count: Int, seed: UInt64) {
        var identities = SimRandom(seed: seed, stream: "identities")
        var ids: [NodeID] = []
        while ids.count < count {
            let id = NodeID(high: identities.next(), low: identities.next())
            if !ids.contains(id) { ids.append(id) }
        }
        self.ids = ids
        live = Array(0..<count)
        workload = SimRandom(seed: seed, stream: "workload")
        let nodes = (0..<count).map {
            RingSimNode(position: $0, ids: ids, configuration: RingConfiguration(), now: Self.start)
        }
        simulator = Simulator(
            nodes: nodes, network: NetworkModel(latency: .lan), roundNanoseconds: Self.roundNanoseconds, seed: seed,
            start: Self.start)
        for index in 1..<count {
            let entry = Int(workload.next() % UInt64(index))
            simulator.schedule(at: Self.start.advanced(byNanoseconds: Int64(index) * 1_000_000_000)) { simulator in
                simulator.act(on: index) { node, now, _, effects in node.join(via: entry, at: now, effects: &effects) }
            }
        }
    }

    /// Live ids in ring order.
    var sortedLive: [NodeID] { live.map { ids[$0] }.sorted() }

    /// The live node that owns `key`: the first at or after it.
    func owner(of key: NodeID) -> NodeID {
        let sorted = sortedLive
        return sorted.first { $0 >= key } ?? sorted[0]
    }

    /// Live nodes whose successor list (r = 3) or predecessor is not the true one among live nodes.
    func misplaced() -> [Int] {
        let sorted = sortedLive
        let position = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($0.element, $0.offset) })
        let n = sorted.count
        return live.filter { index in
            let ring = simulator.nodes[index].ring
            guard let at = position[ring.me.id] else { return true }
            let successors = (1...min(3, n - 1)).map { sorted[(at + $0) % n] }
            return ring.successors.map(\.id) != successors || ring.predecessor?.id != sorted[(at + n - 1) % n]
        }
    }

    /// Runs until every live node has the true neighbours, or `seconds` pass; the seconds taken.
    func runUntilConverged(within seconds: Int) -> Int? {
        let first = simulator.rounds
        simulator.run(rounds: first + seconds * 10) { [self] _ in misplaced().isEmpty }
        return misplaced().isEmpty ? (simulator.rounds - first + 9) / 10 : nil
    }

    func run(seconds: Int) { simulator.run(rounds: simulator.rounds + seconds * 10) }

    func crash(_ count: Int, random: inout SimRandom) -> [Int] {
        var victims: [Int] = []
        for _ in 0..<count {
            let pick = Int(random.next() % UInt64(live.count))
            victims.append(live.remove(at: pick))
        }
        for victim in victims { simulator.crash(victim) }
        return victims
    }

    /// `perNode` lookups of random keys from every live node, all at once; returns
    /// (wrong owners, failed or unanswered lookups, lookups).
    func lookups(perNode: Int, within seconds: Int = 30) -> (wrong: Int, failed: Int, total: Int) {
        for index in simulator.nodes.indices { simulator.nodes[index].clearFinished() }
        var keys: [UInt64: NodeID] = [:]
        for origin in live {
            for _ in 0..<perNode {
                let key = NodeID(high: workload.next(), low: workload.next())
                let token = nextToken
                nextToken += 1
                keys[token] = key
                simulator.act(on: origin) { node, now, _, effects in
                    node.lookup(key, token: token, at: now, effects: &effects)
                }
            }
        }
        let total = keys.count
        let live = self.live
        simulator.run(rounds: simulator.rounds + seconds * 10) { simulator in
            live.reduce(0) { $0 + simulator.nodes[$1].finished.count } >= total
        }
        var wrong = 0
        var answered = 0
        for index in live {
            for lookup in simulator.nodes[index].finished {
                guard case .success(let result) = lookup.result, let key = keys[lookup.token] else { continue }
                answered += 1
                if result.owner.id != owner(of: key) { wrong += 1 }
            }
        }
        return (wrong, total - answered, total)
    }
}

@Suite("Simulator: the Chord ring on the real core")
struct RingSimulationTests {
    @Test("64 nodes joining one by one through random members converge; lookups from every node find the true owner")
    func joinsConverge() throws {
        let ring = GrowingRing(count: 64, seed: 11)
        ring.run(seconds: 64)
        let seconds = try #require(ring.runUntilConverged(within: 120), "misplaced: \(ring.misplaced())")
        #expect(seconds < 120)
        // Fix-fingers fills the tables (one finger per 100 ms).
        ring.run(seconds: 20)
        #expect(ring.simulator.nodes.allSatisfy { $0.ring.fingers.filled > 100 })
        let (wrong, failed, total) = ring.lookups(perNode: 8)
        #expect(total == 512)
        #expect(wrong == 0)
        #expect(failed == 0)
        #expect(ring.simulator.nodes.allSatisfy { $0.undecodable == 0 })
        // A quiet ring refreshes its fingers less and less often, down to one a second.
        let maximum = RingConfiguration().fixFingerMaximumIntervalNanoseconds
        #expect(ring.simulator.nodes.contains { $0.ring.fixFingerInterval < maximum })
        ring.run(seconds: 60)
        #expect(ring.simulator.nodes.allSatisfy { $0.ring.fixFingerInterval == maximum })
    }

    @Test("a quarter of the nodes crash: stabilization repairs the ring; lookups find the true owner among survivors")
    func crashesRepair() throws {
        let ring = GrowingRing(count: 64, seed: 12)
        ring.run(seconds: 64)
        _ = try #require(ring.runUntilConverged(within: 120), "misplaced: \(ring.misplaced())")
        ring.run(seconds: 20)

        var faults = SimRandom(seed: 12, stream: "faults")
        let victims = ring.crash(16, random: &faults)
        #expect(ring.live.count == 48)
        // Right after the crash, some survivors still point at crashed neighbours.
        #expect(!ring.misplaced().isEmpty)
        let seconds = try #require(ring.runUntilConverged(within: 120), "misplaced: \(ring.misplaced())")
        #expect(seconds < 120)
        // Let fix-fingers replace the fingers that named crashed nodes, then look up.
        ring.run(seconds: 20)
        for index in ring.live {
            let fingers = ring.simulator.nodes[index].ring.fingers.distinct.map(\.peer.id)
            #expect(!fingers.contains { victims.map { ring.ids[$0] }.contains($0) })
        }
        let (wrong, failed, total) = ring.lookups(perNode: 8)
        #expect(total == 384)
        #expect(wrong == 0)
        #expect(failed == 0)
    }

    @Test("1,000 nodes: mean lookup hops within 10% of ½·log2 N, every owner right")
    func hopsAtThousand() throws {
        var setup = LookupExperiment()
        setup.sizes = [1000]
        setup.lookups = 2000
        let row = try #require(setup.run().first)
        #expect(row.wrongAnswers == 0)
        #expect(row.failedLookups == 0)
        #expect(row.wrongFingers == 0)
        #expect(row.passes < setup.maximumPasses, "the finger tables never settled")
        #expect(abs(row.ratio - 1) < 0.1, "mean \(row.meanHops) hops against ½·log2 N = \(row.halfLog2N)")
        #expect(row.p99Hops <= 2 * Int(row.halfLog2N.rounded(.up)))
    }

    @Test("the lookup experiment gives the same figures for the same seed")
    func replay() {
        var setup = LookupExperiment()
        setup.sizes = [100]
        setup.lookups = 500
        setup.seed = 42
        let first = setup.run()
        #expect(first == setup.run())
        setup.seed = 43
        #expect(first != setup.run())
    }
}
