public import DrizzleCore
import DrizzleCrypto

/// `drizzle sim clock`: how far apart the nodes' clocks are over time, with and without
/// `ClockSync`, when every clock starts off by up to `offsetSeconds` and runs up to `driftPPM`
/// fast or slow.
///
/// Every node runs the real `NodeCore`; clock samples ride on its SWIM probes (one a second per
/// node). Each node gets an offset uniform in ±`offsetSeconds` and a drift uniform in
/// ±`driftPPM` from the seed's `clocks` stream; links take 0.5–1.5 ms (`.lan`). At each sample
/// time the experiment reads, at one true instant, every node's synchronised clock
/// (`core.time(at:)` of its raw reading) and its raw clock, and reports the largest pairwise
/// difference of each: the synchronised clocks and the raw clocks of the same nodes.
///
/// The cluster starts converged (every node adopts the full member list, as in
/// `FailureExperiment`). The bus is idle (its heartbeat-vector exchange is slowed to once a
/// minute: it carries no events here and would otherwise dominate the run time).
public struct ClockExperiment: Sendable {
    /// Which clocks to report.
    public enum Comparison: String, Hashable, Sendable, CaseIterable {
        /// Synchronised clocks only.
        case on
        /// Raw clocks only (the nodes run `ClockSync` in mode `off`).
        case off
        /// Both, from one run: the synchronised clocks and the raw clocks of the same nodes.
        case both
    }

    public var nodes = 1000
    public var driftPPM = 100.0
    public var offsetSeconds = 1.0
    public var minutes = 60.0
    public var comparison = Comparison.both
    /// `average` or `reference` (a node chosen by the seed is the reference, stratum 0).
    public var mode = ClockSync.Mode.average
    public var seed: UInt64 = 1
    public var signed = true
    public var lossRate = 0.0
    /// Simulator round: every node's timers (probes, gossip, clock updates) run at round boundaries.
    public var roundNanoseconds: Int64 = 100_000_000
    /// The clock's settings apart from mode and reference (the shipped defaults unless a test
    /// or a tuning run changes them).
    public var clock = ClockSync.Configuration()
    public var membership = MembershipConfiguration()
    /// Synchronised skew below which the cluster counts as converged.
    public var convergedBelowNanoseconds: Int64 = 1_000_000

    public init() {}

    public struct Row: Sendable, Hashable {
        /// Seconds since the start.
        public var seconds: Double
        /// Largest pairwise difference of the synchronised clocks (nil with `comparison == .off`).
        public var syncedSkewNanoseconds: Int64?
        /// Largest pairwise difference of the raw clocks (nil with `comparison == .on`).
        public var rawSkewNanoseconds: Int64?
        /// Largest distance of a synchronised clock from the reference's (reference mode only).
        public var referenceOffsetNanoseconds: Int64?
    }

    public struct Result: Sendable {
        public var rows: [Row]
        /// First sample time from which the synchronised skew stayed below
        /// `convergedBelowNanoseconds` to the end (nil: never, or not synchronising).
        public var convergedAtSeconds: Double?
        /// Largest synchronised skew at or after convergence.
        public var worstAfterConvergenceNanoseconds: Int64?
        /// Mean synchronised skew at or after convergence.
        public var meanAfterConvergenceNanoseconds: Double?
        /// The reference node's index (reference mode).
        public var reference: Int?
        /// The synchronised clocks' common rate against true time at the end, in ppm (averaging
        /// settles on a rate near the mean drift, reference mode on the reference's).
        public var clusterRatePPM: Double?
        /// Each node's estimated drift against its true drift relative to the cluster's clock,
        /// at the end: median and largest absolute error in ppm (synchronising runs).
        public var driftErrorMedianPPM: Double?
        public var driftErrorMaximumPPM: Double?
        /// Highest stratum in reference mode at the end (255: some node never reached the reference).
        public var highestStratum: UInt8?
        public var nodeRounds: Int
        public var datagrams: Int
        public var datagramsLost: Int
        public var clockExchanges: Int
    }

    static let start = Instant(unixSeconds: 1_767_225_600)

    /// When the skews are read, in seconds: every second for 20 s, every 5 s to 2 minutes, then
    /// every 10 s.
    public static func sampleSeconds(upTo total: Double) -> [Double] {
        var times: [Double] = []
        var time = 0.0
        while time <= total + 1e-9 {
            times.append(time)
            time += time < 20 ? 1 : time < 120 ? 5 : 10
        }
        if let last = times.last, last < total { times.append(total) }
        return times
    }

    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        var random = SimRandom(seed: seed, stream: "identities")
        if signed {
            let directory = SimIdentities.signed(count: nodes, random: &random, now: Self.start)
            return single(directory: directory, suite: SodiumSuite(), progress: progress)
        } else {
            let directory = SimIdentities.unsigned(count: nodes, random: &random, now: Self.start)
            return single(directory: directory, suite: NullSuite(), progress: progress)
        }
    }

    private func single<Signer: MessageSigner, Suite: CryptoSuite>(
        directory: SimDirectory<Signer>, suite: Suite, progress: (Int, Int) -> Void
    ) -> Result {
        let count = directory.count
        var clocks = SimRandom(seed: seed, stream: "clocks")
        let errors = (0..<count).map { _ in
            ClockError(
                offsetNanoseconds: Int64(((clocks.unit() * 2 - 1) * offsetSeconds * 1e9).rounded()),
                driftPPM: (clocks.unit() * 2 - 1) * driftPPM)
        }
        var faults = SimRandom(seed: seed, stream: "faults")
        let reference = mode == .reference ? Int(faults.next() % UInt64(count)) : nil
        let synchronising = comparison != .off && mode != .off
        let everyone = (0..<count).map { index in
            MemberUpdate(
                id: directory.ids[index], incarnation: 0, state: .alive,
                address: NodeSimNode<Signer, Suite>.address(of: index), serial: directory.certificates[index].serial,
                reporter: directory.ids[index])
        }
        let nodes = (0..<count).map { index in
            var settings = clock
            settings.mode = synchronising ? mode : .off
            settings.isReference = index == reference
            let local = Self.start.advanced(byNanoseconds: errors[index].offsetNanoseconds)
            var node = NodeSimNode(
                position: index, directory: directory, suite: suite, membership: membership, clock: settings,
                vectorIntervalNanoseconds: 60_000_000_000, now: local)
            node.recordsChanges = false
            node.core.adopt(everyone, now: local)
            return node
        }
        let simulator = Simulator(
            nodes: nodes, network: NetworkModel(latency: .lan, lossRate: lossRate), roundNanoseconds: roundNanoseconds,
            seed: seed, start: Self.start)
        for (index, error) in errors.enumerated() { simulator.clockErrors[index] = error }

        let times = Self.sampleSeconds(upTo: minutes * 60)
        var rows: [Row] = []
        for (step, seconds) in times.enumerated() {
            let round = Int((seconds * 1e9 / Double(roundNanoseconds)).rounded())
            simulator.run(rounds: round)
            rows.append(measure(simulator, at: seconds, reference: reference))
            progress(step + 1, times.count)
        }

        var result = Result(
            rows: rows, reference: reference, nodeRounds: simulator.rounds * count, datagrams: simulator.messagesSent,
            datagramsLost: simulator.messagesLost,
            clockExchanges: simulator.nodes.reduce(0) { $0 + $1.core.clock.exchanges })
        guard synchronising else { return result }
        let skews = rows.map { $0.syncedSkewNanoseconds ?? .max }
        if let lastBad = skews.lastIndex(where: { $0 >= convergedBelowNanoseconds }) {
            if lastBad + 1 < rows.count { result.convergedAtSeconds = rows[lastBad + 1].seconds }
        } else {
            result.convergedAtSeconds = rows.first?.seconds
        }
        if let converged = result.convergedAtSeconds {
            let after = rows.filter { $0.seconds >= converged }.compactMap(\.syncedSkewNanoseconds)
            result.worstAfterConvergenceNanoseconds = after.max()
            result.meanAfterConvergenceNanoseconds = Double(after.reduce(0, +)) / Double(max(1, after.count))
        }
        // Drift: each node's estimate against its true rate error; the cluster's own clock runs at
        // a common rate (the reference's, or wherever averaging settled), taken as the median.
        var differences: [Double] = []
        for index in 0..<count where index != reference {
            let estimate = simulator.nodes[index].core.clock.estimate(at: simulator.localTime(of: index))
            differences.append(estimate.driftPPM - errors[index].driftPPM)
        }
        if !differences.isEmpty {
            let common = differences.sorted()[differences.count / 2]
            let spread = differences.map { abs($0 - common) }.sorted()
            result.clusterRatePPM = -common
            result.driftErrorMedianPPM = spread[spread.count / 2]
            result.driftErrorMaximumPPM = spread.last
        }
        if mode == .reference {
            result.highestStratum = simulator.nodes.map(\.core.clock.stratum).max()
        }
        return result
    }

    private func measure<Signer, Suite>(
        _ simulator: Simulator<NodeSimNode<Signer, Suite>>, at seconds: Double, reference: Int?
    ) -> Row {
        let truth = simulator.now.nanoseconds
        var syncedLow = Int64.max
        var syncedHigh = Int64.min
        var rawLow = Int64.max
        var rawHigh = Int64.min
        var fromReference: Int64 = 0
        let referenceTime = reference.map {
            simulator.nodes[$0].core.time(at: simulator.localTime(of: $0)).nanoseconds &- truth
        }
        for index in simulator.nodes.indices {
            let raw = simulator.localTime(of: index)
            let synced = simulator.nodes[index].core.time(at: raw).nanoseconds &- truth
            let rawOffset = raw.nanoseconds &- truth
            syncedLow = min(syncedLow, synced)
            syncedHigh = max(syncedHigh, synced)
            rawLow = min(rawLow, rawOffset)
            rawHigh = max(rawHigh, rawOffset)
            if let referenceTime { fromReference = max(fromReference, abs(synced &- referenceTime)) }
        }
        let synchronising = comparison != .off && mode != .off
        return Row(
            seconds: seconds, syncedSkewNanoseconds: synchronising ? syncedHigh &- syncedLow : nil,
            rawSkewNanoseconds: comparison != .on ? rawHigh &- rawLow : nil,
            referenceOffsetNanoseconds: synchronising && reference != nil ? fromReference : nil)
    }
}
