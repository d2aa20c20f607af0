import DrizzleCore
import DrizzleSim
import Testing

/// A simulated cluster of `count` gossip nodes with null crypto, ready to run.
func cluster(
    _ count: Int, policy: RumorPolicy = RumorPolicy(k: 3), antiEntropy: Int = 0, loss: Double = 0, seed: UInt64 = 9
) -> Simulator<GossipSimNode<NullSigner, NullSuite>> {
    let start = Instant(unixSeconds: 1_767_225_600)
    var random = SimRandom(seed: seed, stream: "identities")
    let directory = SimIdentities.unsigned(count: count, random: &random, now: start)
    let nodes = (0..<count).map {
        GossipSimNode(position: $0, directory: directory, suite: NullSuite(), policy: policy, antiEntropyEveryRounds: antiEntropy)
    }
    return Simulator(
        nodes: nodes, network: NetworkModel(latency: .lan, lossRate: loss), roundNanoseconds: 1_000_000_000,
        seed: seed, start: start)
}

@Suite("Simulator: rumor spreading on the real gossip core")
struct RumorSimulationTests {
    func experiment(nodes: Int, runs: Int, ks: [Int], seed: UInt64 = 1) -> RumorExperiment {
        var setup = RumorExperiment()
        setup.nodes = nodes
        setup.runs = runs
        setup.ks = ks
        setup.seed = seed
        setup.signed = false
        return setup
    }

    func fingerprint(_ result: RumorExperiment.Result) -> [Double] {
        result.rows.flatMap { [$0.residue, $0.traffic, $0.meanCycle, $0.lastCycle, $0.coverage] }
            + [Double(result.datagrams), Double(result.nodeRounds)]
    }

    @Test("two runs with the same seed give identical results; another seed differs")
    func determinism() {
        let setup = experiment(nodes: 300, runs: 3, ks: [1, 2])
        let first = fingerprint(setup.run())
        #expect(first == fingerprint(setup.run()))
        #expect(first != fingerprint(experiment(nodes: 300, runs: 3, ks: [1, 2], seed: 2).run()))
    }

    @Test("with more k, less residue and more traffic (Demers' ordering)")
    func residueOrdering() {
        let rows = experiment(nodes: 500, runs: 12, ks: [1, 2, 3]).run().rows
        #expect(rows[0].residue > rows[1].residue && rows[1].residue > rows[2].residue)
        #expect(rows[0].traffic < rows[1].traffic && rows[1].traffic < rows[2].traffic)
        // Rumor mongering alone leaves a residue near e^-m, as the paper derives.
        for row in rows { #expect(abs(row.residue - exp(-row.traffic)) < 0.05) }
    }

    @Test("under 20% loss every node receives the rumor once anti-entropy runs")
    func lossWithAntiEntropy() {
        var setup = experiment(nodes: 500, runs: 3, ks: [1])
        setup.lossRate = 0.2
        setup.antiEntropyEveryRounds = 3
        for row in setup.run().rows { #expect(row.coverage == 1) }
    }

    @Test("a signed run verifies every datagram and every node learns the rumor")
    func signedRun() {
        var setup = experiment(nodes: 60, runs: 2, ks: [2])
        setup.signed = true
        setup.antiEntropyEveryRounds = 4
        let result = setup.run()
        // The only drops allowed are datagrams overtaking the one that carried the sender's
        // certificate (answered with a certificate request); nothing fails verification.
        #expect(result.drops == result.unknownSenderDrops)
        #expect(result.rows[0].coverage == 1)
    }

    @Test("a partition stops the rumor at its edge, and after healing anti-entropy converges")
    func partitionHeals() {
        let simulator = cluster(200, antiEntropy: 4)
        var halves: [Int: Int] = [:]
        for index in 100..<200 { halves[index] = 1 }
        simulator.network.partition(halves)
        var rumorID: RumorID?
        simulator.act(on: 0) { node, now, _, _ in rumorID = node.publish(payload: [1, 2, 3], at: now).id }
        guard let id = rumorID else { return }
        simulator.run(rounds: 60)
        #expect(simulator.nodes[0..<100].allSatisfy { $0.gossip.knows(id) })
        #expect(simulator.nodes[100..<200].allSatisfy { !$0.gossip.knows(id) })
        simulator.network.heal()
        simulator.run(rounds: simulator.rounds + 60) { sim in sim.nodes.allSatisfy { $0.gossip.knows(id) } }
        #expect(simulator.nodes.allSatisfy { $0.gossip.knows(id) })
    }

    @Test("piggybacked rumors never push a datagram past the 1,200-byte limit")
    func piggybackLimit() {
        let simulator = cluster(100, policy: RumorPolicy(k: 4), antiEntropy: 5)
        var ids: [RumorID] = []
        for index in 0..<60 {
            simulator.act(on: index % 7) { node, now, _, _ in
                ids.append(node.publish(payload: Array(repeating: UInt8(index), count: 100), at: now).id)
            }
        }
        simulator.run(rounds: 200) { sim in sim.nodes.allSatisfy { node in ids.allSatisfy { node.gossip.knows($0) } } }
        #expect(simulator.nodes.allSatisfy { $0.sealFailures == 0 })
        let largest = simulator.nodes.map(\.largestDatagram).max() ?? 0
        #expect(largest <= 1200 && largest > 1000, "largest datagram \(largest) bytes")
        #expect(simulator.nodes.allSatisfy { node in ids.allSatisfy { node.gossip.knows($0) } })
    }

    @Test("a crashed node misses the rumor; restarted, it catches up by anti-entropy")
    func crashAndRestart() {
        let simulator = cluster(50, antiEntropy: 2)
        simulator.crash(7)
        var rumorID: RumorID?
        simulator.act(on: 0) { node, now, _, _ in rumorID = node.publish(payload: [1], at: now).id }
        guard let id = rumorID else { return }
        simulator.run(rounds: 40)
        #expect(!simulator.nodes[7].gossip.knows(id))
        let fresh = cluster(50, antiEntropy: 2).nodes[7]
        simulator.restart(7, as: fresh)
        simulator.run(rounds: simulator.rounds + 60) { sim in sim.nodes[7].gossip.knows(id) }
        #expect(simulator.nodes[7].gossip.knows(id))
    }
}

#if canImport(Glibc)
    import Glibc
#endif
