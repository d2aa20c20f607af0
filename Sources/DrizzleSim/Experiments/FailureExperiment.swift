public import DrizzleCore
import DrizzleCrypto

/// `drizzle sim failure`: one node crashes in a converged cluster; how fast SWIM notices and how
/// many healthy nodes it wrongly suspects or kills, by loss rate, with and without Lifeguard.
///
/// Every node runs the real `NodeCore` (membership, gossip, envelope). The cluster starts
/// converged (each node adopts the full member list), runs `warmupSeconds`, then one node,
/// chosen by the seed, crashes. The run ends when every live node has declared it dead, or after
/// `observeSeconds`.
public struct FailureExperiment: Sendable {
    public var nodes = 1000
    public var lossRates = [0.0, 0.05, 0.1, 0.2]
    public var lifeguardSettings = [true, false]
    public var seed: UInt64 = 1
    public var signed = true
    public var warmupSeconds = 10.0
    public var observeSeconds = 120.0
    public var membership = MembershipConfiguration()

    public init() {}

    public struct Row: Sendable {
        public var loss: Double
        public var lifeguard: Bool
        /// Seconds from the crash until the first node suspected the crashed node.
        public var firstDetection: Double?
        /// Seconds from the crash until every live node had declared it dead.
        public var fullDissemination: Double?
        /// Suspicions of healthy members raised by failed probes (each raised once, then spread).
        public var falseSuspicions: Int
        /// Healthy members declared dead by at least one node.
        public var falseDeaths: Int
        public var datagrams: Int
    }

    static let tick: Int64 = 100_000_000
    static let start = Instant(unixSeconds: 1_767_225_600)

    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> [Row] {
        var rows: [Row] = []
        var random = SimRandom(seed: seed, stream: "identities")
        let total = lossRates.count * lifeguardSettings.count
        if signed {
            let directory = SimIdentities.signed(count: nodes, random: &random, now: Self.start)
            for loss in lossRates {
                for lifeguard in lifeguardSettings {
                    rows.append(single(loss: loss, lifeguard: lifeguard, directory: directory, suite: SodiumSuite()))
                    progress(rows.count, total)
                }
            }
        } else {
            let directory = SimIdentities.unsigned(count: nodes, random: &random, now: Self.start)
            for loss in lossRates {
                for lifeguard in lifeguardSettings {
                    rows.append(single(loss: loss, lifeguard: lifeguard, directory: directory, suite: NullSuite()))
                    progress(rows.count, total)
                }
            }
        }
        return rows
    }

    func single<Signer: MessageSigner, Suite: CryptoSuite>(
        loss: Double, lifeguard: Bool, directory: SimDirectory<Signer>, suite: Suite
    ) -> Row {
        var settings = membership
        settings.lifeguard = lifeguard
        let everyone = (0..<directory.count).map { index in
            MemberUpdate(
                id: directory.ids[index], incarnation: 0, state: .alive,
                address: NodeSimNode<Signer, Suite>.address(of: index), serial: directory.certificates[index].serial,
                reporter: directory.ids[index])
        }
        let nodes = (0..<directory.count).map { index in
            var node = NodeSimNode(
                position: index, directory: directory, suite: suite, membership: settings, now: Self.start)
            node.core.adopt(everyone, now: Self.start)
            return node
        }
        let runSeed = seed &+ UInt64(loss * 1000) &* 7_919 &+ (lifeguard ? 1 : 0)
        let simulator = Simulator(
            nodes: nodes, network: NetworkModel(latency: .lan, lossRate: loss), roundNanoseconds: Self.tick,
            seed: runSeed, start: Self.start)
        var faults = SimRandom(seed: runSeed, stream: "faults")
        let victim = Int(faults.next() % UInt64(directory.count))
        let victimID = directory.ids[victim]
        let warmupRounds = Int(warmupSeconds * 1e9) / Int(Self.tick)
        simulator.run(rounds: warmupRounds)
        simulator.crash(victim)
        let crashedAt = simulator.now
        let observeRounds = Int(observeSeconds * 1e9) / Int(Self.tick)
        simulator.run(rounds: warmupRounds + observeRounds) { sim in
            sim.nodes.indices.allSatisfy { index in
                index == victim || sim.nodes[index].changes.contains { $0.member.id == victimID && $0.member.state == .dead }
            }
        }
        var firstSuspicion: Instant?
        var lastDeath: Instant?
        var everyoneKnows = true
        var falseSuspicions = 0
        var falselyDead: Set<NodeID> = []
        for (index, node) in simulator.nodes.enumerated() where index != victim {
            var death: Instant?
            for change in node.changes {
                if change.member.id == victimID {
                    if change.member.state == .suspect || change.member.state == .dead, change.at >= crashedAt {
                        firstSuspicion = min(firstSuspicion ?? change.at, change.at)
                    }
                    if change.member.state == .dead, death == nil { death = change.at }
                } else if change.member.state == .dead {
                    falselyDead.insert(change.member.id)
                }
            }
            falseSuspicions += node.core.membership.suspicionsRaised.filter { $0.key != victimID }.values.reduce(0, +)
            if let death { lastDeath = max(lastDeath ?? death, death) } else { everyoneKnows = false }
        }
        func seconds(_ instant: Instant?) -> Double? {
            instant.map { Double($0.nanoseconds - crashedAt.nanoseconds) / 1e9 }
        }
        return Row(
            loss: loss, lifeguard: lifeguard, firstDetection: seconds(firstSuspicion),
            fullDissemination: everyoneKnows ? seconds(lastDeath) : nil, falseSuspicions: falseSuspicions,
            falseDeaths: falselyDead.count, datagrams: simulator.messagesSent)
    }
}
