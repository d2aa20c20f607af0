public import DrizzleCore
import DrizzleCrypto

/// `drizzle sim rumor`: Demers et al. 1987's rumor-mongering experiment on the real gossip core.
///
/// The paper's model: synchronous cycles; each infective site contacts one random other site per
/// cycle; counter — lose interest after k counted contacts; coin — with probability 1/k at each.
/// Here every node runs `Gossip` behind the signed envelope on the simulator; one rumor starts at
/// one node; a run ends when no node is still spreading it (and, with anti-entropy, once every
/// node has it). Per k the experiment reports residue s (fraction of nodes without the rumor when
/// no node is spreading it any more — with anti-entropy on, its repairs up to then count too), traffic m (rumor-carrying messages per node), t_ave and t_last
/// (the mean and the last cycle in which a node learned it), averaged over the runs.
public struct RumorExperiment: Sendable {
    public var nodes = 1000
    public var runs = 50
    public var feedback = RumorPolicy.Feedback.feedback
    public var stop = RumorPolicy.Stop.counter
    public var ks = [1, 2, 3, 4, 5]
    public var mode = RumorPolicy.Mode.push
    public var seed: UInt64 = 1
    /// Rounds between anti-entropy exchanges; 0 (the paper's model) turns it off.
    public var antiEntropyEveryRounds = 0
    public var lossRate = 0.0
    /// Sign and verify every datagram (false: `--no-crypto`).
    public var signed = true
    /// Safety bound on rounds per run.
    public var maximumRounds = 10_000

    public init() {}

    /// True when the run is the paper's model (n = 1000, push, no loss, no anti-entropy), so its figures compare.
    public var isPaperModel: Bool { nodes == 1000 && mode == .push && lossRate == 0 && antiEntropyEveryRounds == 0 }

    /// One row of the result.
    public struct Row: Sendable {
        public var k: Int
        public var residue: Double
        public var traffic: Double
        public var meanCycle: Double
        public var lastCycle: Double
        /// Fraction of nodes that had the rumor at the end (after anti-entropy, when on).
        public var coverage: Double
        public var paper: PaperFigures?
    }

    /// Demers et al.'s figures for n = 1000, push.
    public struct PaperFigures: Sendable {
        public var residue: Double
        public var traffic: Double
        public var meanCycle: Double
        public var lastCycle: Double
    }

    /// Table 1 (feedback, counter) and Table 2 (blind, coin) of the paper, by k.
    public static func paperFigures(feedback: RumorPolicy.Feedback, stop: RumorPolicy.Stop, k: Int) -> PaperFigures? {
        let table: [Int: PaperFigures]
        switch (feedback, stop) {
        case (.feedback, .counter):
            table = [
                1: PaperFigures(residue: 0.18, traffic: 1.7, meanCycle: 11.0, lastCycle: 16.8),
                2: PaperFigures(residue: 0.037, traffic: 3.3, meanCycle: 12.1, lastCycle: 16.9),
                3: PaperFigures(residue: 0.011, traffic: 4.5, meanCycle: 12.5, lastCycle: 17.4),
                4: PaperFigures(residue: 0.0036, traffic: 5.6, meanCycle: 12.7, lastCycle: 17.5),
                5: PaperFigures(residue: 0.0012, traffic: 6.7, meanCycle: 12.8, lastCycle: 17.7),
            ]
        case (.blind, .coin):
            table = [
                1: PaperFigures(residue: 0.96, traffic: 0.04, meanCycle: 19, lastCycle: 38),
                2: PaperFigures(residue: 0.20, traffic: 1.6, meanCycle: 17, lastCycle: 33),
                3: PaperFigures(residue: 0.060, traffic: 2.8, meanCycle: 15, lastCycle: 32),
                4: PaperFigures(residue: 0.021, traffic: 3.9, meanCycle: 14.1, lastCycle: 32),
                5: PaperFigures(residue: 0.008, traffic: 4.9, meanCycle: 13.8, lastCycle: 32),
            ]
        default:
            return nil
        }
        return table[k]
    }

    /// The whole result, with what it took.
    public struct Result: Sendable {
        public var rows: [Row]
        public var nodeRounds: Int
        public var datagrams: Int
        public var largestDatagram: Int
        public var sealFailures: Int
        public var drops: UInt64
        /// Drops because a datagram overtook the one carrying its sender's certificate.
        public var unknownSenderDrops: UInt64
    }

    static let roundNanoseconds: Int64 = 1_000_000_000
    /// Virtual start: 2026-01-01T00:00:00Z.
    static let start = Instant(unixSeconds: 1_767_225_600)

    /// Runs every k for every run. `progress` receives (done, total) after each run.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        var result = Result(
            rows: [], nodeRounds: 0, datagrams: 0, largestDatagram: 0, sealFailures: 0, drops: 0, unknownSenderDrops: 0)
        var identityRandom = SimRandom(seed: seed, stream: "identities")
        let total = ks.count * runs
        var done = 0
        if signed {
            let directory = SimIdentities.signed(count: nodes, random: &identityRandom, now: Self.start)
            for k in ks {
                result.rows.append(rowFor(k: k, directory: directory, suite: SodiumSuite(), into: &result) {
                    done += 1
                    progress(done, total)
                })
            }
        } else {
            let directory = SimIdentities.unsigned(count: nodes, random: &identityRandom, now: Self.start)
            for k in ks {
                result.rows.append(rowFor(k: k, directory: directory, suite: NullSuite(), into: &result) {
                    done += 1
                    progress(done, total)
                })
            }
        }
        return result
    }

    private func rowFor<Signer: MessageSigner, Suite: CryptoSuite>(
        k: Int, directory: SimDirectory<Signer>, suite: Suite, into result: inout Result, afterRun: () -> Void
    ) -> Row {
        var residue = 0.0
        var traffic = 0.0
        var meanCycle = 0.0
        var lastCycle = 0.0
        var coverage = 0.0
        for run in 0..<runs {
            let outcome = single(k: k, run: run, directory: directory, suite: suite)
            residue += outcome.residue
            traffic += outcome.traffic
            meanCycle += outcome.meanCycle
            lastCycle += outcome.lastCycle
            coverage += outcome.coverage
            result.nodeRounds += outcome.nodeRounds
            result.datagrams += outcome.datagrams
            result.largestDatagram = max(result.largestDatagram, outcome.largestDatagram)
            result.sealFailures += outcome.sealFailures
            result.drops += outcome.drops
            result.unknownSenderDrops += outcome.unknownSenderDrops
            afterRun()
        }
        let count = Double(max(1, runs))
        return Row(
            k: k, residue: residue / count, traffic: traffic / count, meanCycle: meanCycle / count,
            lastCycle: lastCycle / count, coverage: coverage / count,
            paper: isPaperModel ? Self.paperFigures(feedback: feedback, stop: stop, k: k) : nil)
    }

    struct Outcome {
        var residue: Double
        var traffic: Double
        var meanCycle: Double
        var lastCycle: Double
        var coverage: Double
        var nodeRounds: Int
        var datagrams: Int
        var largestDatagram: Int
        var sealFailures: Int
        var drops: UInt64
        var unknownSenderDrops: UInt64
    }

    func single<Signer: MessageSigner, Suite: CryptoSuite>(
        k: Int, run: Int, directory: SimDirectory<Signer>, suite: Suite
    ) -> Outcome {
        let policy = RumorPolicy(feedback: feedback, stop: stop, k: k, mode: mode, fanout: 1)
        let nodes = (0..<directory.count).map {
            GossipSimNode(
                position: $0, directory: directory, suite: suite, policy: policy,
                antiEntropyEveryRounds: antiEntropyEveryRounds)
        }
        let runSeed = seed &+ UInt64(k) &* 1_000_003 &+ UInt64(run) &* 7_919
        let simulator = Simulator(
            nodes: nodes, network: NetworkModel(latency: .lan, lossRate: lossRate),
            roundNanoseconds: Self.roundNanoseconds, seed: runSeed, start: Self.start)
        var originRandom = SimRandom(seed: runSeed, stream: "workload")
        let origin = Int(originRandom.next() % UInt64(directory.count))
        var rumorID = RumorID(origin: directory.ids[origin], sequence: 0)
        simulator.act(on: origin) { node, now, _, _ in
            rumorID = node.publish(payload: Array("BitDrizzle".utf8), at: now).id
        }
        // Phase 1: rumor mongering until no node is spreading.
        simulator.run(rounds: maximumRounds) { sim in sim.nodes.allSatisfy { $0.gossip.hotCount == 0 } }
        let learned = simulator.nodes.compactMap { $0.learnedAt[rumorID] }
        let residue = 1 - Double(learned.count) / Double(directory.count)
        let cycles = learned.map { Double(($0.nanoseconds - Self.start.nanoseconds) / Self.roundNanoseconds) }
        var traffic = Double(simulator.nodes.reduce(0) { $0 + $1.gossip.rumorMessagesSent }) / Double(directory.count)
        // Phase 2: anti-entropy removes the residue.
        if antiEntropyEveryRounds > 0 {
            simulator.run(rounds: simulator.rounds + maximumRounds) { sim in sim.nodes.allSatisfy { $0.gossip.knows(rumorID) } }
            traffic = Double(simulator.nodes.reduce(0) { $0 + $1.gossip.rumorMessagesSent }) / Double(directory.count)
        }
        let coverage = Double(simulator.nodes.filter { $0.gossip.knows(rumorID) }.count) / Double(directory.count)
        return Outcome(
            residue: residue, traffic: traffic,
            meanCycle: cycles.isEmpty ? 0 : cycles.reduce(0, +) / Double(cycles.count),
            lastCycle: cycles.max() ?? 0, coverage: coverage, nodeRounds: simulator.rounds * directory.count,
            datagrams: simulator.messagesSent,
            largestDatagram: simulator.nodes.map(\.largestDatagram).max() ?? 0,
            sealFailures: simulator.nodes.reduce(0) { $0 + $1.sealFailures },
            drops: simulator.nodes.reduce(0) { $0 + $1.drops.total },
            unknownSenderDrops: simulator.nodes.reduce(0) { $0 + $1.drops[.unknownSender] })
    }
}
