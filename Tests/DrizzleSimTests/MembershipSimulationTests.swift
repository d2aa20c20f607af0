import DrizzleCore
import DrizzleCrypto
import DrizzleSim
import Testing

typealias SimNode = NodeSimNode<NullSigner, NullSuite>

/// `count` nodes of one CA (plus `strangers` of another CA), each joining through node 0.
func membershipCluster(
    _ count: Int, strangers: Int = 0, loss: Double = 0, lifeguard: Bool = true, seed: UInt64 = 3
) -> (Simulator<SimNode>, SimDirectory<NullSigner>) {
    let start = Instant(unixSeconds: 1_767_225_600)
    var random = SimRandom(seed: seed, stream: "identities")
    let directory = SimIdentities.unsigned(count: count, random: &random, now: start)
    let foreign = SimIdentities.unsigned(count: max(1, strangers), random: &random, now: start)
    var configuration = MembershipConfiguration()
    configuration.lifeguard = lifeguard
    configuration.syncIntervalNanoseconds = 10_000_000_000
    var nodes = (0..<count).map {
        SimNode(position: $0, directory: directory, suite: NullSuite(), membership: configuration, now: start)
    }
    for stranger in 0..<strangers {
        // The stranger lives at the next simulator index but holds the other CA's identity.
        nodes.append(
            SimNode(
                position: stranger, index: count + stranger, directory: foreign, suite: NullSuite(),
                membership: configuration, now: start))
    }
    let simulator = Simulator(
        nodes: nodes, network: NetworkModel(latency: .lan, lossRate: loss), roundNanoseconds: 100_000_000, seed: seed,
        start: start)
    for index in 1..<nodes.count {
        simulator.act(on: index) { node, now, _, effects in
            node.perform(node.core.join(seeds: [SimNode.address(of: 0)], now: now), at: now, into: &effects)
        }
    }
    return (simulator, directory)
}

func activeView(_ node: SimNode) -> Set<NodeID> { Set(node.core.membership.activeMembers.map(\.id)) }

/// How many of the other `ids` node `index` is missing from its active view (0 when it sees all).
func missing(_ simulator: Simulator<SimNode>, _ index: Int, of ids: [NodeID]) -> Int {
    Set(ids).subtracting([ids[index]]).subtracting(activeView(simulator.nodes[index])).count
}

@Suite("Membership: SWIM with Lifeguard on the simulator")
struct MembershipSimulationTests {
    @Test("nodes joining through one seed converge to one view")
    func joinsConverge() {
        let (simulator, directory) = membershipCluster(40)
        simulator.run(rounds: 300)
        for index in simulator.nodes.indices {
            #expect(missing(simulator, index, of: directory.ids) == 0, "node \(index)")
            #expect(activeView(simulator.nodes[index]).count == 39, "node \(index)")
        }
    }

    @Test("a crashed node is declared dead by every other node")
    func crashDetected() {
        let (simulator, directory) = membershipCluster(30)
        simulator.run(rounds: 200)
        simulator.crash(9)
        simulator.run(rounds: simulator.rounds + 600)
        for (index, node) in simulator.nodes.enumerated() where index != 9 {
            #expect(node.changes.contains { $0.member.id == directory.ids[9] && $0.member.state == .dead }, "node \(index)")
            #expect(!activeView(node).contains(directory.ids[9]), "node \(index)")
        }
    }

    @Test("a suspected but healthy node refutes with a higher incarnation and stays alive")
    func suspicionRefuted() {
        let (simulator, directory) = membershipCluster(20, lifeguard: false)
        simulator.run(rounds: 200)
        // Cut node 4 off just long enough to be suspected, then heal before the suspicion times out.
        simulator.network.partition([4: 1])
        simulator.run(rounds: simulator.rounds + 1) { sim in
            sim.nodes.contains { $0.core.membership.member(directory.ids[4])?.state == .suspect }
        }
        var rounds = 0
        while !simulator.nodes.contains(where: { $0.core.membership.member(directory.ids[4])?.state == .suspect }),
            rounds < 300
        {
            simulator.run(rounds: simulator.rounds + 1)
            rounds += 1
        }
        #expect(rounds < 300, "node 4 was never suspected")
        simulator.network.heal()
        simulator.run(rounds: simulator.rounds + 150)
        #expect(simulator.nodes[4].core.membership.refutations >= 1)
        for (index, node) in simulator.nodes.enumerated() where index != 4 {
            let member = node.core.membership.member(directory.ids[4])
            #expect(member?.state == .alive, "node \(index) sees \(String(describing: member?.state))")
            #expect((member?.incarnation ?? 0) >= 1)
        }
    }

    @Test("a 50/50 partition long enough for each half to declare (and reap) the other dead heals by reconnect")
    func partitionHeals() {
        let (simulator, directory) = membershipCluster(20)
        simulator.run(rounds: 200)
        // 60 s apart: every member of the other half is declared dead, and reaped after 30 s.
        simulator.network.partition(Dictionary(uniqueKeysWithValues: (10..<20).map { ($0, 1) }))
        simulator.run(rounds: simulator.rounds + 600)
        for index in simulator.nodes.indices {
            #expect(activeView(simulator.nodes[index]).count == 9, "node \(index) sees only its own half")
        }
        simulator.network.heal()
        // Reconnect offers a full state exchange to one dead member every 10 s; a minute is plenty.
        simulator.run(rounds: simulator.rounds + 600)
        for index in simulator.nodes.indices {
            #expect(missing(simulator, index, of: directory.ids) == 0, "node \(index)")
        }
    }

    @Test("a revoked node is expelled everywhere and never re-admitted")
    func revokedExpelled() throws {
        let (simulator, directory) = membershipCluster(20)
        simulator.run(rounds: 200)
        // The CA's revocation list names node 6; node 0 is given it and spreads it as a rumor.
        var list = RevocationList(
            version: 2, issuedAt: 1_767_225_600, issuer: directory.authority.issuer,
            serials: [directory.certificates[6].serial])
        list.signature = Array(repeating: 0, count: 64)
        simulator.act(on: 0) { node, now, random, effects in
            node.perform(node.core.publish(list, now: now, using: &random), at: now, into: &effects)
        }
        simulator.run(rounds: simulator.rounds + 100)
        // Node 6 keeps running and even tries to join again.
        simulator.act(on: 6) { node, now, _, effects in
            node.perform(node.core.join(seeds: [SimNode.address(of: 1)], now: now), at: now, into: &effects)
        }
        simulator.run(rounds: simulator.rounds + 600)
        for (index, node) in simulator.nodes.enumerated() where index != 6 {
            #expect(!activeView(node).contains(directory.ids[6]), "node \(index) still has the revoked node")
            #expect(node.core.membership.isBanned(directory.ids[6]))
        }
        let revokedDrops = simulator.nodes.reduce(0) { $0 + $1.core.link.opener.drops[.revoked] }
        #expect(revokedDrops > 0)
    }

    /// Rounds (100 ms) until nodes 0 and 1 of a 3-node cluster both deliver an event node 0
    /// publishes after node 2 was taken out by `remove`, or nil within 60 s.
    func busResumes(after remove: (Simulator<SimNode>, SimDirectory<NullSigner>) -> Void) -> Int? {
        let (simulator, directory) = membershipCluster(3)
        simulator.run(rounds: 100)
        remove(simulator, directory)
        // Every survivor has taken node 2 out of its view before the event.
        simulator.run(rounds: simulator.rounds + 600) { simulator in
            (0...1).allSatisfy { !activeView(simulator.nodes[$0]).contains(directory.ids[2]) }
        }
        let published = simulator.rounds
        simulator.act(on: 0) { node, now, random, effects in
            if let sent = try? node.core.publish(topic: "t", payload: [1], now: now, using: &random) {
                node.perform(sent, at: now, into: &effects)
            }
        }
        simulator.run(rounds: published + 600) { simulator in
            (0...1).allSatisfy { simulator.nodes[$0].deliveredCount == 1 }
        }
        return (0...1).allSatisfy { simulator.nodes[$0].deliveredCount == 1 } ? simulator.rounds - published : nil
    }

    @Test("the bus stops waiting for a revoked member exactly as for a crashed one")
    func revokedMemberReleasesTheBus() throws {
        let crashed = busResumes { simulator, _ in simulator.crash(2) }
        let revoked = busResumes { simulator, directory in
            var list = RevocationList(
                version: 2, issuedAt: 1_767_225_600, issuer: directory.authority.issuer,
                serials: [directory.certificates[2].serial])
            list.signature = Array(repeating: 0, count: 64)
            simulator.act(on: 0) { node, now, random, effects in
                node.perform(node.core.publish(list, now: now, using: &random), at: now, into: &effects)
            }
        }
        let crashedRounds = try #require(crashed, "the bus resumes after a crash")
        let revokedRounds = try #require(revoked, "the bus resumes after a revocation (it stalled for good before)")
        // Both wait out the same settle time (5 s) once the member is out; a few rounds either way.
        #expect(revokedRounds <= crashedRounds + 20, "revoked: \(revokedRounds) rounds, crashed: \(crashedRounds)")
    }

    @Test("a node with a certificate from another CA is never admitted")
    func strangerRefused() {
        let (simulator, directory) = membershipCluster(15, strangers: 1)
        simulator.run(rounds: 300)
        let stranger = simulator.nodes[15].core.me
        for node in simulator.nodes.prefix(15) {
            #expect(!activeView(node).contains(stranger))
            #expect(activeView(node).count == 14)
        }
        #expect(simulator.nodes[0].core.link.opener.drops[.untrustedIssuer] > 0)
        #expect(activeView(simulator.nodes[15]).isEmpty)
        _ = directory
    }

    /// A false death needs one node to miss every copy of a refutation for a whole suspicion
    /// timeout (8 s here) while the rest of the cluster has it within a second: rare, not
    /// impossible (with this seed one node of 30 misses one refutation once, then takes the
    /// member back at the next sync). What must hold: at most that, and every view whole at the end.
    @Test("under 10% loss the view still converges; false deaths are rare and healed")
    func lossyConvergence() {
        let (simulator, directory) = membershipCluster(30, loss: 0.1)
        simulator.run(rounds: 900)
        var deaths = 0
        for (index, node) in simulator.nodes.enumerated() {
            #expect(missing(simulator, index, of: directory.ids) == 0, "node \(index)")
            deaths += node.changes.filter { $0.member.state == .dead }.count
        }
        #expect(deaths <= 1, "\(deaths) declarations of healthy members dead across 30 nodes")
    }
}
