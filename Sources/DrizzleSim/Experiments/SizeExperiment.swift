public import DrizzleCore
import DrizzleCrypto

/// `drizzle sim size`: network-size estimation by gossip (Jelasity, Montresor and Babaoglu 2005;
/// push-sum after Kempe et al. 2003 for comparison) on the real core behind the real envelope.
///
/// One simulator round is one cycle. After each cycle the experiment reads every live node's
/// `estimate` and reports their mean, the largest relative error |estimate − N| / N over live nodes
/// (a node with no estimate counts as 1, i.e. 100% off), and the variance-reduction factor: the
/// variance across participating nodes of instance 0's averaging value (the winning instance;
/// nodes not holding it count as 0) divided by the variance one cycle earlier. Before an epoch's
/// first cycle one node holds 1 and the rest 0, so that variance is (1/n)(1 − 1/n).
///
/// Churn: at cycle `churnCycle` of every epoch after the first (0: at the boundary, before the
/// epoch's first cycle), a fraction `churn` of the live nodes crash and as many fresh nodes with
/// new identities start (identities are allocated up front; the live set is what nodes gossip with).
public struct SizeExperiment: Sendable {
    public enum Algorithm: String, Hashable, Sendable, CaseIterable {
        case pushPull = "push-pull"
        case pushSum = "push-sum"
    }

    public var nodes = 1000
    public var cycles = 40
    public var lossRate = 0.0
    public var churn = 0.0
    public var churnCycle = 0
    public var algorithm = Algorithm.pushPull
    public var settings = SizeSettings()
    public var seed: UInt64 = 1
    /// Sign and verify every datagram (false: `--no-crypto`).
    public var signed = true
    /// Every node runs its cycle at the same instant each round (false: each at its own fixed,
    /// random phase within the round, as unsynchronised timers would).
    public var lockstep = false

    public init() {}

    /// The measurements after one cycle.
    public struct Row: Sendable, Hashable {
        public var cycle: Int
        /// The true size: live nodes.
        public var liveNodes: Int
        /// Mean of the live nodes' estimates (nil when none has one).
        public var meanEstimate: Double?
        public var maxRelativeError: Double
        /// Variance of the averaging values over its value a cycle earlier (nil when undefined).
        public var varianceFactor: Double?
        /// Live nodes with no estimate at all.
        public var withoutEstimate: Int
        /// The newest epoch among live nodes.
        public var epoch: UInt64
    }

    public struct Result: Sendable {
        public var rows: [Row]
        public var nodeCycles: Int
        public var datagrams: Int
        /// Datagrams lost to the loss rate or sent to crashed nodes.
        public var datagramsLost: Int
        public var largestDatagram: Int
        public var sealFailures: Int
        public var drops: UInt64
        public var unknownSenderDrops: UInt64
        /// Exchanges (push-pull) or pushes (push-sum) given up after every retry.
        public var abandonedExchanges: Int
        /// Nodes replaced by churn over the run.
        public var replaced: Int
    }

    static let roundNanoseconds: Int64 = 1_000_000_000
    /// Virtual start: 2026-01-01T00:00:00Z.
    static let start = Instant(unixSeconds: 1_767_225_600)

    /// The cycles before which churn strikes.
    public var churnCycles: [Int] {
        guard churn > 0 else { return [] }
        let epochCycles = settings.epochCycles
        return stride(from: epochCycles + churnCycle + 1, through: cycles, by: epochCycles).map { $0 }
    }

    /// Nodes replaced at each churn event.
    public var replacedPerEvent: Int { churn > 0 ? min(nodes - 1, max(1, Int((churn * Double(nodes)).rounded()))) : 0 }

    /// Runs the experiment; `progress` receives (cycles done, cycles).
    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        var identityRandom = SimRandom(seed: seed, stream: "identities")
        let identities = nodes + churnCycles.count * replacedPerEvent
        let settings = self.settings
        if signed {
            let directory = SimIdentities.signed(count: identities, random: &identityRandom, now: Self.start)
            switch algorithm {
            case .pushPull:
                return single(directory: directory, suite: SodiumSuite(), progress: progress) {
                    PushPullAverage(me: $0, settings: settings, founding: $1)
                }
            case .pushSum:
                return single(directory: directory, suite: SodiumSuite(), progress: progress) {
                    PushSum(me: $0, settings: settings, founding: $1)
                }
            }
        } else {
            let directory = SimIdentities.unsigned(count: identities, random: &identityRandom, now: Self.start)
            switch algorithm {
            case .pushPull:
                return single(directory: directory, suite: NullSuite(), progress: progress) {
                    PushPullAverage(me: $0, settings: settings, founding: $1)
                }
            case .pushSum:
                return single(directory: directory, suite: NullSuite(), progress: progress) {
                    PushSum(me: $0, settings: settings, founding: $1)
                }
            }
        }
    }

    private func single<Signer: MessageSigner, Suite: CryptoSuite, Estimator: SizeEstimator>(
        directory: SimDirectory<Signer>, suite: Suite, progress: (Int, Int) -> Void,
        make: (NodeID, Bool) -> Estimator
    ) -> Result {
        typealias Node = SizeSimNode<Signer, Suite, Estimator>
        let initial = min(nodes, directory.count)
        let peers = LivePeers(Array(directory.ids[0..<initial]))
        func node(_ position: Int, founding: Bool) -> Node {
            SizeSimNode(
                position: position, directory: directory, suite: suite, peers: peers,
                estimator: make(directory.ids[position], founding))
        }
        let simulator = Simulator(
            nodes: (0..<directory.count).map { node($0, founding: $0 < initial) },
            network: NetworkModel(latency: .lan, lossRate: lossRate), roundNanoseconds: Self.roundNanoseconds,
            seed: seed, start: Self.start)
        for spare in initial..<directory.count { simulator.crash(spare) }
        // Each node's timer phase within the round (1 µs .. round − 1 µs), fixed for its life.
        var phaseRandom = SimRandom(seed: seed, stream: "phases")
        let phases = (0..<directory.count).map { _ in
            1_000 + Int64(phaseRandom.next() % UInt64(Self.roundNanoseconds - 2_000))
        }
        if !lockstep {
            for index in simulator.nodes.indices { simulator.nodes[index].cyclesOnRound = false }
        }

        var live = Array(0..<initial)
        var nextSpare = initial
        var faults = SimRandom(seed: seed, stream: "faults")
        let churnAt = Set(churnCycles)
        var rows: [Row] = []
        var previous: (epoch: UInt64, variance: Double)?
        var nodeCycles = 0
        var replaced = 0
        for cycle in 1...max(1, cycles) {
            if churnAt.contains(cycle) {
                // Crash a random `replacedPerEvent` of the live nodes, start as many fresh ones.
                let count = min(replacedPerEvent, live.count - 1, directory.count - nextSpare)
                for index in 0..<max(0, count) {
                    let pick = index + Int(faults.next() % UInt64(live.count - index))
                    live.swapAt(index, pick)
                }
                let victims = Set(live.prefix(max(0, count)))
                for victim in victims.sorted() { simulator.crash(victim) }
                live.removeFirst(max(0, count))
                for _ in 0..<max(0, count) {
                    var fresh = node(nextSpare, founding: false)
                    fresh.cyclesOnRound = lockstep
                    simulator.restart(nextSpare, as: fresh)
                    live.append(nextSpare)
                    nextSpare += 1
                }
                live.sort()
                peers.ids = live.map { directory.ids[$0] }
                replaced += max(0, count)
            }
            if !lockstep {
                let roundStart = Self.start.advanced(byNanoseconds: Int64(cycle) * Self.roundNanoseconds)
                for index in live {
                    simulator.schedule(at: roundStart.advanced(byNanoseconds: phases[index])) { sim in
                        sim.act(on: index) { node, now, random, effects in
                            node.cycle(at: now, random: &random, effects: &effects)
                        }
                    }
                }
            }
            simulator.run(rounds: cycle)
            nodeCycles += live.count
            let (row, variance) = measure(cycle: cycle, live: live, nodes: simulator.nodes, previous: previous)
            rows.append(row)
            previous = variance.map { (row.epoch, $0) }
            progress(cycle, cycles)
        }
        return Result(
            rows: rows, nodeCycles: nodeCycles, datagrams: simulator.messagesSent,
            datagramsLost: simulator.messagesLost,
            largestDatagram: simulator.nodes.map(\.largestDatagram).max() ?? 0,
            sealFailures: simulator.nodes.reduce(0) { $0 + $1.sealFailures },
            drops: simulator.nodes.reduce(0) { $0 + $1.drops.total },
            unknownSenderDrops: simulator.nodes.reduce(0) { $0 + $1.drops[.unknownSender] },
            abandonedExchanges: simulator.nodes.reduce(0) { $0 + $1.estimator.abandonedExchanges },
            replaced: replaced)
    }

    /// One row, and the variance of this cycle's averaging values (nil when no instance runs).
    private func measure<Signer, Suite, Estimator>(
        cycle: Int, live: [Int], nodes: [SizeSimNode<Signer, Suite, Estimator>], previous: (epoch: UInt64, variance: Double)?
    ) -> (Row, Double?) {
        let truth = Double(live.count)
        var sum = 0.0
        var counted = 0
        var maxError = 0.0
        var epoch: UInt64 = 0
        for index in live {
            let estimator = nodes[index].estimator
            epoch = max(epoch, estimator.epoch)
            guard let estimate = estimator.estimate else {
                maxError = max(maxError, 1)
                continue
            }
            sum += estimate.size
            counted += 1
            maxError = max(maxError, abs(estimate.size - truth) / truth)
        }
        // The winning instance of slot 0 among the participants of the newest epoch.
        let participants = live.map { nodes[$0].estimator }.filter { $0.epoch == epoch && $0.isParticipating }
        var winner: NodeID?
        for estimator in participants {
            guard let value = estimator.averagingValue(inSlot: 0) else { continue }
            if let best = winner, !SizeSettings.precedes(value.instance, best, epoch: epoch, slot: 0) { continue }
            winner = value.instance
        }
        var variance: Double?
        var factor: Double?
        if let winner, !participants.isEmpty {
            let values = participants.map { estimator -> Double in
                guard let value = estimator.averagingValue(inSlot: 0), value.instance == winner else { return 0 }
                return value.value
            }
            let n = Double(values.count)
            let mean = values.reduce(0, +) / n
            let current = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
            variance = current
            let before: Double
            if let previous, previous.epoch == epoch {
                before = previous.variance
            } else {
                before = (1 / n) * (1 - 1 / n)
            }
            if before > 0 { factor = current / before }
        }
        let row = Row(
            cycle: cycle, liveNodes: live.count, meanEstimate: counted > 0 ? sum / Double(counted) : nil,
            maxRelativeError: maxError, varianceFactor: factor, withoutEstimate: live.count - counted, epoch: epoch)
        return (row, variance)
    }
}
