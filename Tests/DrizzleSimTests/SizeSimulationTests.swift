import DrizzleCore
import DrizzleSim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Simulator: network size by gossip on the real core")
struct SizeSimulationTests {
    func experiment(
        nodes: Int, cycles: Int, loss: Double = 0, churn: Double = 0, epochCycles: Int = 30, seed: UInt64 = 1
    ) -> SizeExperiment {
        var setup = SizeExperiment()
        setup.nodes = nodes
        setup.cycles = cycles
        setup.lossRate = loss
        setup.churn = churn
        setup.settings = SizeSettings(epochCycles: epochCycles)
        setup.seed = seed
        setup.signed = false
        return setup
    }

    @Test("1,000 nodes: after 30 cycles every node is within 0.1% of the true size")
    func convergence() throws {
        let rows = experiment(nodes: 1000, cycles: 30).run().rows
        let last = try #require(rows.last)
        #expect(last.withoutEstimate == 0)
        #expect(last.maxRelativeError < 0.001, "max relative error \(last.maxRelativeError)")
        // The error falls by orders of magnitude over the epoch.
        #expect(rows[9].maxRelativeError > 100 * last.maxRelativeError)
    }

    @Test("the variance across nodes falls by about 1/(2√e) ≈ 0.303 per cycle, as the paper predicts")
    func varianceFactor() {
        let rows = experiment(nodes: 500, cycles: 16).run().rows
        let factors = rows.compactMap(\.varianceFactor)
        #expect(factors.count == 16)
        let geometric = exp(factors.map { log($0) }.reduce(0, +) / Double(factors.count))
        #expect(geometric > 0.25 && geometric < 0.36, "geometric mean factor \(geometric)")
    }

    @Test("under 5% datagram loss every node is within 5% after 30 cycles")
    func loss() throws {
        let result = experiment(nodes: 500, cycles: 30, loss: 0.05).run()
        let last = try #require(result.rows.last)
        #expect(result.datagramsLost > 0)
        #expect(last.maxRelativeError < 0.05, "max relative error \(last.maxRelativeError)")
    }

    @Test("with 10% of nodes replaced at each epoch boundary every node is within 5% one epoch later")
    func churn() throws {
        let result = experiment(nodes: 500, cycles: 41, churn: 0.1, epochCycles: 20).run()
        #expect(result.replaced == 100)
        let oneEpochLater = try #require(result.rows.first { $0.cycle == 40 })
        #expect(oneEpochLater.maxRelativeError < 0.05, "max relative error \(oneEpochLater.maxRelativeError)")
        #expect(oneEpochLater.withoutEstimate == 0)
        // Fresh nodes show a peer's figure from their first answer on.
        for row in result.rows where row.cycle > 22 && row.cycle != 41 {
            #expect(row.maxRelativeError < 0.05, "cycle \(row.cycle): \(row.maxRelativeError)")
        }
    }

    @Test("the same seed gives identical rows; another seed differs")
    func determinism() {
        let setup = experiment(nodes: 200, cycles: 25, loss: 0.05, churn: 0.1, epochCycles: 10)
        let first = setup.run().rows
        #expect(first == setup.run().rows)
        #expect(first != experiment(nodes: 200, cycles: 25, loss: 0.05, churn: 0.1, epochCycles: 10, seed: 2).run().rows)
    }

    @Test("a signed run verifies every datagram and converges")
    func signed() throws {
        var setup = experiment(nodes: 30, cycles: 20)
        setup.signed = true
        let result = setup.run()
        #expect(result.sealFailures == 0)
        #expect(result.drops == 0)
        #expect(try #require(result.rows.last).maxRelativeError < 0.001)
    }

    @Test("push-sum converges too, more slowly than push-pull")
    func pushSum() throws {
        var setup = experiment(nodes: 300, cycles: 30)
        setup.algorithm = .pushSum
        let pushSum = try #require(setup.run().rows.last).maxRelativeError
        let pushPull = try #require(experiment(nodes: 300, cycles: 30).run().rows.last).maxRelativeError
        #expect(pushSum < 0.05, "push-sum max relative error \(pushSum)")
        #expect(pushPull < pushSum)
    }

    @Test("a cluster that forms over 10 s shows a size within 10% on every node 15 s after the last join, not the first epoch's few")
    func formingCluster() {
        // The real core on the simulator: 30 nodes, node 0 alone at first, one more every 330 ms.
        let start = Instant(unixSeconds: 1_767_225_600)
        var random = SimRandom(seed: 5, stream: "identities")
        let directory = SimIdentities.unsigned(count: 30, random: &random, now: start)
        let nodes = (0..<30).map {
            // Node 0 starts the first size epoch; the others learn it as they join, as in the runtime.
            SimNode(
                position: $0, directory: directory, suite: NullSuite(), membership: MembershipConfiguration(),
                founding: $0 == 0, now: start)
        }
        let simulator = Simulator(
            nodes: nodes, network: NetworkModel(latency: .lan, lossRate: 0), roundNanoseconds: 110_000_000, seed: 5,
            start: start)
        for index in 1..<30 {
            simulator.run(rounds: simulator.rounds + 3)
            simulator.act(on: index) { node, now, _, effects in
                node.perform(node.core.join(seeds: [SimNode.address(of: 0)], now: now), at: now, into: &effects)
            }
        }
        simulator.run(rounds: simulator.rounds + 136)  // 15 s
        for (index, node) in simulator.nodes.enumerated() {
            let size = node.core.sizeEstimate?.size ?? 0
            #expect(abs(size - 30) / 30 < 0.1, "node \(index): \(String(describing: node.core.sizeEstimate))")
        }
    }
}
