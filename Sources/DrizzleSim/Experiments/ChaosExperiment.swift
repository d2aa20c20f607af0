public import DrizzleCore
import DrizzleCrypto

/// `drizzle sim chaos`: the chaos test of `scripts/chaos` on the simulator, so that what it finds
/// can be reproduced from a seed and measured at any size.
///
/// Every node runs the real `NodeCore`. The cluster starts converged and warms up; then, while one
/// event is published every `publishIntervalSeconds` through a random node that is up, the
/// schedule of the multi-host chaos runs (seconds after the chaos starts): a node of the first
/// half crashes at 5 and restarts at 10; the halves are cut apart at 15; a node of each half
/// crashes and restarts (20/25, 30/35 — the second one rejoins through a seed across the cut); the
/// cut heals at 45; two more crash/restart cycles (50/55, 60/65); publishing stops at 75. A node
/// restarts as after `kill -9`: fresh state, same identity, a higher epoch, joining through a seed.
///
/// It reports from when after the chaos every node lists every node as alive for the rest of the
/// observation (membership reconverged and stays so), how many times a node was declared dead
/// after the chaos (every node is up then: flapping), and whether every pair of nodes delivered the events both delivered in
/// the same order, with how many events the nodes that never crashed delivered.
public struct ChaosExperiment: Sendable {
    public var nodes = 12
    public var lossRates = [0.0, 0.05, 0.1, 0.2]
    public var seed: UInt64 = 1
    public var signed = true
    /// One-way latency, uniform in `latencyMilliseconds ± jitterMilliseconds` (the multi-host
    /// test's impairment: 50 ± 10 ms).
    public var latencyMilliseconds = 50.0
    public var jitterMilliseconds = 10.0
    public var publishIntervalSeconds = 0.1
    /// Give up on reconvergence this long after the chaos.
    public var observeSeconds = 120.0
    /// The multi-host test's membership settings: 500 ms probes, 250 ms probe timeout.
    public var membership: MembershipConfiguration = {
        var settings = MembershipConfiguration()
        settings.probeIntervalNanoseconds = 500_000_000
        settings.probeTimeoutNanoseconds = 250_000_000
        return settings
    }()

    public init() {}

    public struct Row: Sendable {
        public var loss: Double
        /// Seconds after the chaos from which every node listed every node alive until the end of
        /// the observation, or nil when they did not all agree at its end.
        public var reconverged: Double?
        /// Dead declarations, after the chaos, of nodes that were up (every one of them was).
        public var falseDeaths: Int
        public var published: Int
        /// Fewest and most events delivered by a node that never crashed.
        public var deliveredLow: Int
        public var deliveredHigh: Int
        /// Events some node (in any life) delivered.
        public var deliveredAnywhere: Int
        /// Pairs of node lives, and those that disagree on the order of the events both delivered.
        public var pairs: Int
        public var disagreeingPairs: Int
        public var datagrams: Int
    }

    static let tick: Int64 = 50_000_000
    static let start = Instant(unixSeconds: 1_767_225_600)
    static let warmupSeconds = 10.0
    static let chaosSeconds = 75.0

    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> [Row] {
        var rows: [Row] = []
        var random = SimRandom(seed: seed, stream: "identities")
        if signed {
            let directory = SimIdentities.signed(count: nodes, random: &random, now: Self.start)
            for loss in lossRates {
                rows.append(single(loss: loss, directory: directory, suite: SodiumSuite()))
                progress(rows.count, lossRates.count)
            }
        } else {
            let directory = SimIdentities.unsigned(count: nodes, random: &random, now: Self.start)
            for loss in lossRates {
                rows.append(single(loss: loss, directory: directory, suite: NullSuite()))
                progress(rows.count, lossRates.count)
            }
        }
        return rows
    }

    func single<Signer: MessageSigner, Suite: CryptoSuite>(
        loss: Double, directory: SimDirectory<Signer>, suite: Suite
    ) -> Row {
        typealias Node = NodeSimNode<Signer, Suite>
        let count = directory.count
        let everyone = (0..<count).map { index in
            MemberUpdate(
                id: directory.ids[index], incarnation: 0, state: .alive, address: Node.address(of: index),
                serial: directory.certificates[index].serial, reporter: directory.ids[index])
        }
        var epochs = Array(repeating: UInt32(1), count: count)
        func fresh(_ index: Int, at now: Instant) -> Node {
            var node = Node(
                position: index, directory: directory, suite: suite, membership: membership, epoch: epochs[index], now: now)
            node.recordsDeliveries = true
            return node
        }
        let nodes = (0..<count).map { index in
            var node = fresh(index, at: Self.start)
            node.core.adopt(everyone, now: Self.start)
            return node
        }
        let runSeed = seed &+ UInt64(loss * 1000) &* 7_919
        let jitter = Int64(jitterMilliseconds * 1e6)
        let latency = Int64(latencyMilliseconds * 1e6)
        let simulator = Simulator(
            nodes: nodes,
            network: NetworkModel(latency: .uniform(low: max(0, latency - jitter), high: latency + jitter), lossRate: loss),
            roundNanoseconds: Self.tick, seed: runSeed, start: Self.start)
        var faults = SimRandom(seed: runSeed, stream: "faults")
        let half = count / 2
        func pick(_ range: Range<Int>, avoiding seeds: Set<Int>) -> Int {
            let choices = range.filter { !seeds.contains($0) }
            return choices.isEmpty ? range.lowerBound : choices[Int(faults.next() % UInt64(choices.count))]
        }
        // Node 0 is the seed everyone rejoins through (as h1-0 in the multi-host test); it never crashes.
        let seeds: Set<Int> = [0]
        let victims = [
            pick(0..<half, avoiding: seeds), pick(0..<half, avoiding: seeds), pick(half..<count, avoiding: seeds),
            pick(0..<half, avoiding: seeds), pick(half..<count, avoiding: seeds),
        ]
        let crashes: [(at: Double, victim: Int)] = [(5, victims[0]), (20, victims[1]), (30, victims[2]), (50, victims[3]), (60, victims[4])]

        simulator.run(rounds: Int(Self.warmupSeconds * 1e9) / Int(Self.tick))
        let chaosStart = simulator.now
        func instant(_ seconds: Double) -> Instant { chaosStart.advanced(byNanoseconds: Int64(seconds * 1e9)) }
        var lives: [(node: Int, deliveries: [OrderKey])] = []
        var crashedEver: Set<Int> = []
        for (at, victim) in crashes {
            crashedEver.insert(victim)
            simulator.schedule(at: instant(at)) { sim in
                lives.append((victim, sim.nodes[victim].deliveries.map(\.event.key)))
                sim.crash(victim)
            }
            simulator.schedule(at: instant(at + 5)) { sim in
                epochs[victim] += 1
                sim.restart(victim, as: fresh(victim, at: sim.localTime(of: victim)))
                sim.act(on: victim) { node, now, _, effects in
                    node.perform(node.core.join(seeds: [Node.address(of: 0)], now: now), at: now, into: &effects)
                }
            }
        }
        simulator.schedule(at: instant(15)) { sim in
            sim.network.partition(Dictionary(uniqueKeysWithValues: (half..<count).map { ($0, 1) }))
        }
        simulator.schedule(at: instant(45)) { sim in sim.network.heal() }
        var published = 0
        var publishing = SimRandom(seed: runSeed, stream: "publish")
        let publishRounds = Int(Self.chaosSeconds / publishIntervalSeconds)
        for round in 0..<publishRounds {
            simulator.schedule(at: instant(Double(round) * publishIntervalSeconds)) { sim in
                let up = sim.nodes.indices.filter { !sim.down.contains($0) }
                guard !up.isEmpty else { return }
                let publisher = up[Int(publishing.next() % UInt64(up.count))]
                sim.act(on: publisher) { node, now, random, effects in
                    let payload = [UInt8(truncatingIfNeeded: round)]
                    if let sends = try? node.core.publish(topic: "chaos", payload: payload, now: now, using: &random) {
                        published += 1
                        node.perform(sends, at: now, into: &effects)
                    }
                }
            }
        }
        let chaosEnd = Self.warmupSeconds + Self.chaosSeconds
        simulator.run(rounds: Int(chaosEnd * 1e9) / Int(Self.tick))
        let ids = Set(directory.ids)
        func converged(_ sim: Simulator<Node>) -> Bool {
            sim.nodes.allSatisfy { node in
                let alive = Set(node.core.membership.activeMembers.filter { $0.state == .alive }.map(\.id))
                return alive.count == count - 1 && alive.union([node.core.membership.me]) == ids
            }
        }
        let endedAt = simulator.now
        // Watch the whole observation: agreement must last, not merely happen once.
        var agreedSince: Instant? = converged(simulator) ? endedAt : nil
        for _ in 0..<(Int(observeSeconds * 1e9) / Int(Self.tick)) {
            simulator.run(rounds: simulator.rounds + 1)
            if converged(simulator) {
                agreedSince = agreedSince ?? simulator.now
            } else {
                agreedSince = nil
            }
        }
        let reconverged = agreedSince.map { Double($0.nanoseconds - endedAt.nanoseconds) / 1e9 }
        // Let the bus settle before comparing orders.
        simulator.run(rounds: simulator.rounds + Int(20e9) / Int(Self.tick))

        // After the chaos every node is up: any death declared then is false.
        let falseDeaths = simulator.nodes.reduce(0) { total, node in
            total + node.changes.filter { $0.member.state == .dead && $0.at >= endedAt }.count
        }
        for index in simulator.nodes.indices { lives.append((index, simulator.nodes[index].deliveries.map(\.event.key))) }
        var disagreeing = 0
        var pairs = 0
        for a in lives.indices {
            let setA = Set(lives[a].deliveries)
            for b in lives.indices where b > a {
                pairs += 1
                let setB = Set(lives[b].deliveries)
                let left = lives[a].deliveries.filter { setB.contains($0) }
                let right = lives[b].deliveries.filter { setA.contains($0) }
                if left != right { disagreeing += 1 }
            }
        }
        let steady = simulator.nodes.indices.filter { !crashedEver.contains($0) }.map { simulator.nodes[$0].deliveries.count }
        return Row(
            loss: loss, reconverged: reconverged, falseDeaths: falseDeaths, published: published,
            deliveredLow: steady.min() ?? 0, deliveredHigh: steady.max() ?? 0,
            deliveredAnywhere: Set(lives.flatMap(\.deliveries)).count, pairs: pairs,
            disagreeingPairs: disagreeing, datagrams: simulator.messagesSent)
    }
}
