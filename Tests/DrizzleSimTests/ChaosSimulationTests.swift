import DrizzleCore
import DrizzleSim
import Testing

@Suite("Simulator: kill -9 and restarts, loss and a healed partition on the real core")
struct ChaosSimulationTests {
    @Test("a node restarted after kill -9 publishes again: its new rumors are not taken for its old ones")
    func restartedPublisher() throws {
        let (simulator, directory) = membershipCluster(8)
        simulator.recordDeliveries()
        simulator.run(rounds: 100)
        var first: BusEvent?
        simulator.act(on: 5) { node, now, random, effects in
            guard let sends = try? node.core.publish(topic: "t", payload: [1], now: now, using: &random) else { return }
            node.perform(sends, at: now, into: &effects)
            first = node.arrivals.last.flatMap { BusEvent(decoding: $0.rumor.payload) }
        }
        simulator.run(rounds: 200)
        let before = try #require(first, "node 5 could publish before the crash")
        #expect(simulator.nodes.allSatisfy { node in node.deliveries.contains { $0.event.key == before.key } })

        // kill -9: the node comes back with nothing but its identity, in a new epoch.
        simulator.crash(5)
        simulator.run(rounds: 250)
        var restarted = SimNode(
            position: 5, directory: directory, suite: NullSuite(), membership: MembershipConfiguration(), epoch: 2,
            now: simulator.now)
        restarted.recordsDeliveries = true
        simulator.restart(5, as: restarted)
        simulator.act(on: 5) { node, now, _, effects in
            node.perform(node.core.join(seeds: [SimNode.address(of: 0)], now: now), at: now, into: &effects)
        }
        simulator.run(rounds: 350) { sim in sim.nodes[5].core.canPublish(at: sim.now) }
        var second: OrderKey?
        simulator.act(on: 5) { node, now, random, effects in
            guard let sends = try? node.core.publish(topic: "t", payload: [2], now: now, using: &random) else { return }
            node.perform(sends, at: now, into: &effects)
            second = node.arrivals.last.flatMap { BusEvent(decoding: $0.rumor.payload) }?.key
        }
        let key = try #require(second, "node 5 may publish again once it is back in step")
        simulator.run(rounds: 500) { sim in
            sim.nodes.allSatisfy { node in node.deliveries.contains { $0.event.key == key } }
        }
        for (index, node) in simulator.nodes.enumerated() {
            #expect(node.deliveries.contains { $0.event.key == key }, "node \(index) delivered the restarted node's event")
        }
    }

    @Test("the chaos schedule: no node declared dead once it is over, every pair agrees on the order, steady nodes miss little")
    func chaos() throws {
        var setup = ChaosExperiment()
        setup.lossRates = [0, 0.2]
        setup.signed = false
        let rows = setup.run()
        try #require(rows.count == 2)
        // Without loss the membership agrees from the moment the chaos ends and stays so.
        let calm = try #require(rows[0].reconverged, "every node lists all 12 alive after the chaos")
        #expect(calm < 5)
        // Without loss nobody is declared dead after the chaos. At 20 % loss a probe with three
        // helpers fails about 7 % of the time, so now and then a suspicion outlives its timeout
        // somewhere: over seeds 1-14, 0 false deaths in 9-10 runs and 1-2 in the others
        // (docs/experiments.md, Chaos). This run (seed 1) must stay within that.
        #expect(rows[0].falseDeaths == 0)
        #expect(rows[1].falseDeaths <= 2)
        for row in rows {
            #expect(row.pairs == 17 * 16 / 2)
            #expect(row.disagreeingPairs == 0, "loss \(row.loss)")
            #expect(row.published > 700)
            // Every event a node accepted was delivered somewhere, and nodes that never crashed
            // delivered nearly all (before rumor ids carried the epoch: 48 of 740). What they miss
            // are events of a node that crashed and restarted inside the partition, published on
            // the other side (docs/security.md, "Chaos").
            #expect(row.deliveredAnywhere == row.published, "loss \(row.loss)")
            #expect(row.deliveredLow * 100 >= row.published * 95, "\(row.deliveredLow) of \(row.published)")
        }
    }
}

extension Simulator where Node == SimNode {
    func recordDeliveries() {
        for index in nodes.indices { nodes[index].recordsDeliveries = true }
    }
}
