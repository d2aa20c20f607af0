@testable import DrizzleCore
import Testing

@Suite("Membership: SWIM rules")
struct MembershipTests {
    let me = NodeID(high: 1, low: 1)
    let other = NodeID(high: 2, low: 2)
    let third = NodeID(high: 3, low: 3)
    let start = Instant(unixSeconds: 1_767_225_600)

    func alive(_ id: NodeID, _ incarnation: UInt64, address: String = "b:1") -> MemberUpdate {
        MemberUpdate(id: id, incarnation: incarnation, state: .alive, address: address, serial: 7, reporter: id)
    }

    func update(_ id: NodeID, _ state: MemberState, _ incarnation: UInt64, by reporter: NodeID) -> MemberUpdate {
        MemberUpdate(id: id, incarnation: incarnation, state: state, address: "b:1", serial: 7, reporter: reporter)
    }

    func node() -> Membership {
        var membership = Membership(me: me, address: "a:1", serial: 1, now: start)
        membership.adopt([alive(other, 0), alive(third, 0, address: "c:1")], now: start)
        return membership
    }

    func deliver(_ updates: [MemberUpdate], to membership: inout Membership) -> [Membership.Output] {
        var generator = SplitMix(seed: 1)
        return membership.receive(.gossip(updates: updates), from: third, address: "c:1", now: start, using: &generator)
    }

    func sync(_ updates: [MemberUpdate], to membership: inout Membership) {
        var generator = SplitMix(seed: 1)
        _ = membership.receive(.sync(members: updates, isReply: true), from: third, address: "c:1", now: start, using: &generator)
    }

    @Test("a node that leaves while its join is unanswered tells the seeds it asked, and stops asking them")
    func leaveWhileJoining() {
        var membership = Membership(me: me, address: "a:1", serial: 1, now: start)
        var generator = SplitMix(seed: 1)
        _ = membership.join(seeds: ["seed:1", "seed:2"], now: start)
        let outputs = membership.leave(using: &generator)
        var told: [String] = []
        for case .send(let address, .sync(let members, _)) in outputs where members.first?.state == .left {
            told.append(address)
        }
        #expect(told.sorted() == ["seed:1", "seed:2"])
        #expect(!membership.isJoining)
        let later = membership.tick(now: start.advanced(byNanoseconds: 5_000_000_000), using: &generator)
        #expect(!later.contains { if case .send(_, .join) = $0 { true } else { false } })
    }

    @Test("a join no seed answers is asked again after 50, 100, 200, 400, 800 ms, then every probe interval (1 s)")
    func joinRetries() {
        var membership = Membership(me: me, address: "a:1", serial: 1, now: start)
        var generator = SplitMix(seed: 1)
        func joins(_ outputs: [Membership.Output]) -> Int {
            outputs.count { if case .send("seed:1", .join) = $0 { true } else { false } }
        }
        #expect(joins(membership.join(seeds: ["seed:1"], now: start)) == 1)
        var asked: [Int64] = []
        for millisecond in stride(from: Int64(10), through: 4000, by: 10) {
            let now = start.advanced(byNanoseconds: millisecond * 1_000_000)
            if joins(membership.tick(now: now, using: &generator)) > 0 { asked.append(millisecond) }
        }
        #expect(asked == [50, 150, 350, 750, 1550, 2550, 3550])
        #expect(membership.isJoining)
    }

    @Test("a join is pushed on at once to fanout others, not the joiner; a full state and other news wait for the rounds")
    func joinsArePushedAtOnce() {
        var membership = node()
        let more = (4...7).map { NodeID(high: UInt64($0), low: UInt64($0)) }
        membership.adopt(more.map { alive($0, 0, address: "m\($0.high):1") }, now: start)
        var generator = SplitMix(seed: 1)
        func pushes(_ outputs: [Membership.Output]) -> [String: [MemberUpdate]] {
            var byAddress: [String: [MemberUpdate]] = [:]
            for case .send(let address, .gossip(let updates)) in outputs { byAddress[address] = updates }
            return byAddress
        }
        // A seed lets a newcomer in: the newcomer gets the full state, three others its update.
        let newcomer = NodeID(high: 9, low: 9)
        let joined = pushes(
            membership.receive(
                .join(updates: [alive(newcomer, 0, address: "n:1")]), from: newcomer, address: "n:1", now: start,
                using: &generator))
        #expect(joined.count == 3)
        #expect(joined["n:1"] == nil)
        #expect(joined.values.allSatisfy { $0.map(\.id) == [newcomer] })
        // Hearing of it again is not news.
        #expect(pushes(deliver([alive(newcomer, 0, address: "n:1")], to: &membership)).isEmpty)
        // A member learned from a full state, and a suspicion, wait for the rounds.
        let synced = NodeID(high: 10, low: 10)
        var outputs = membership.receive(
            .sync(members: [alive(synced, 0)], isReply: true), from: third, address: "c:1", now: start, using: &generator)
        #expect(pushes(outputs).isEmpty)
        #expect(membership.member(synced)?.state == .alive)
        outputs = deliver([update(other, .suspect, 0, by: third)], to: &membership)
        #expect(pushes(outputs).isEmpty)
        // A member back from the dead is a join again, passed on to others than the sender.
        _ = deliver([update(more[0], .dead, 0, by: third)], to: &membership)
        let back = pushes(deliver([alive(more[0], 1, address: "m4:1")], to: &membership))
        #expect(back.count == 3)
        #expect(back["c:1"] == nil && back["m4:1"] == nil)
    }

    @Test("suspicion at the same incarnation beats alive; a higher incarnation's alive clears it")
    func precedence() {
        var membership = node()
        _ = deliver([update(other, .suspect, 0, by: third)], to: &membership)
        #expect(membership.member(other)?.state == .suspect)
        _ = deliver([alive(other, 0)], to: &membership)
        #expect(membership.member(other)?.state == .suspect)
        _ = deliver([alive(other, 1)], to: &membership)
        #expect(membership.member(other)?.state == .alive)
        #expect(membership.member(other)?.incarnation == 1)
    }

    @Test("dead is final until a higher incarnation, and stale suspicions are ignored")
    func deadIsFinal() {
        var membership = node()
        _ = deliver([update(other, .dead, 3, by: third)], to: &membership)
        #expect(membership.member(other)?.state == .dead)
        _ = deliver([update(other, .suspect, 3, by: third), alive(other, 3)], to: &membership)
        #expect(membership.member(other)?.state == .dead)
        _ = deliver([alive(other, 4)], to: &membership)
        #expect(membership.member(other)?.state == .alive)
    }

    @Test("a full state's deaths are suspicions here (memberlist's merge): the member may still refute")
    func syncedDeathIsSuspicion() {
        var membership = node()
        let unknown = NodeID(high: 9, low: 9)
        sync([update(other, .dead, 0, by: third), update(unknown, .dead, 0, by: third)], to: &membership)
        #expect(membership.member(other)?.state == .suspect)
        #expect(membership.member(unknown) == nil)
        sync([alive(other, 1)], to: &membership)
        #expect(membership.member(other)?.state == .alive)
        // News of this node's own death is not softened: it refutes.
        sync([update(me, .dead, 2, by: third)], to: &membership)
        #expect(membership.incarnation == 3)
        // A death gossiped (not a full state) is final, as before.
        _ = deliver([update(other, .dead, 1, by: third)], to: &membership)
        #expect(membership.member(other)?.state == .dead)
    }

    @Test("a member held dead that speaks up (over TCP, from another port) is sent the full state at its own address")
    func deadMemberSpeaksUp() {
        var membership = node()
        _ = deliver([update(other, .dead, 0, by: third)], to: &membership)
        var generator = SplitMix(seed: 1)
        let outputs = membership.receive(.gossip(updates: []), from: other, address: "b:53311", now: start, using: &generator)
        let syncs = outputs.compactMap { output -> String? in
            guard case .send(let address, .sync(_, isReply: false)) = output else { return nil }
            return address
        }
        #expect(syncs == ["b:1"])
    }

    @Test("a node suspected or declared dead refutes with a higher incarnation")
    func refutation() {
        var membership = node()
        _ = deliver([update(me, .suspect, 0, by: third)], to: &membership)
        #expect(membership.incarnation == 1)
        _ = deliver([update(me, .dead, 5, by: third)], to: &membership)
        #expect(membership.incarnation == 6)
        #expect(membership.refutations == 2)
        var generator = SplitMix(seed: 1)
        // The refutation rides on the next message this node sends.
        let outputs = membership.receive(.ping(sequence: 9, target: me, updates: []), from: other, address: "b:1", now: start, using: &generator)
        guard case .send(_, .ack(9, let updates)) = outputs.first else {
            Issue.record("expected an ack, got \(outputs)")
            return
        }
        #expect(updates.contains { $0.id == me && $0.state == .alive && $0.incarnation == 6 })
    }

    @Test("an incarnation above 2^63 - 1 makes the update malformed; the largest allowed one is refuted without overflow")
    func incarnationCeiling() {
        let top = MemberUpdate.maximumIncarnation
        let claim = { (incarnation: UInt64) in MembershipMessage.gossip(updates: [update(me, .suspect, incarnation, by: third)]) }
        #expect(MembershipMessage(frame: claim(top).frame) == claim(top))
        #expect(MembershipMessage(frame: claim(top + 1).frame) == nil)
        #expect(MembershipMessage(frame: claim(.max).frame) == nil)
        var membership = node()
        _ = deliver([update(me, .suspect, top, by: third)], to: &membership)
        #expect(membership.incarnation == top + 1)
    }

    @Test("an unanswered probe leads to indirect probes, then suspicion, then death after the timeout")
    func probeToDeath() {
        var configuration = MembershipConfiguration()
        configuration.lifeguard = false
        var membership = Membership(me: me, address: "a:1", serial: 1, configuration: configuration, now: start)
        membership.adopt([alive(other, 0), alive(third, 0, address: "c:1")], now: start)
        var generator = SplitMix(seed: 4)
        var sent: [MembershipMessage] = []
        var changes: [(MemberState, NodeID)] = []
        var time = start
        for _ in 0..<200 {
            time = time.advanced(byNanoseconds: 100_000_000)
            for output in membership.tick(now: time, using: &generator) {
                switch output {
                case .send(_, let message): sent.append(message)
                case .changed(let member, _): changes.append((member.state, member.id))
                }
            }
        }
        #expect(sent.contains { if case .ping = $0 { true } else { false } })
        #expect(sent.contains { if case .pingRequest = $0 { true } else { false } })
        #expect(changes.contains { $0 == (.suspect, other) } || changes.contains { $0 == (.suspect, third) })
        #expect(changes.contains { $0.0 == .dead })
    }

    @Test("Lifeguard's suspicion timeout falls from its maximum to its minimum with confirmations")
    func dynamicSuspicion() {
        var suspicion = Suspicion(
            startedAt: start, reporter: other, minimumNanoseconds: 8_000_000_000, maximumNanoseconds: 48_000_000_000,
            expectedConfirmations: 2)
        #expect(suspicion.timeoutNanoseconds == 48_000_000_000)
        suspicion.confirm(by: third)
        let one = suspicion.timeoutNanoseconds
        #expect(one < 48_000_000_000 && one > 8_000_000_000)
        let repeated = suspicion.confirm(by: third)
        #expect(!repeated)
        suspicion.confirm(by: me)
        #expect(suspicion.timeoutNanoseconds == 8_000_000_000)
        #expect(abs(Suspicion.log(10) - 2.302_585_093) < 1e-9)
    }

    @Test("local health rises with missed acks, is capped, and falls with successes")
    func localHealth() {
        var health = LocalHealth(maximum: 3)
        health.worsen(by: 5)
        #expect(health.multiplier == 4)
        health.improve()
        #expect(health.score == 2)
    }

    @Test("the broadcast queue keeps the newest update per member and sends each a limited number of times")
    func broadcastQueue() {
        var queue = BroadcastQueue(limit: .memberlist(multiplier: 1))
        queue.enqueue(alive(other, 0))
        queue.enqueue(alive(other, 1))
        queue.enqueue(alive(third, 0))
        #expect(queue.count == 2)
        let first = queue.take(budget: 10_000, clusterSize: 9)
        #expect(first.count == 2 && first.contains(alive(other, 1)))
        #expect(queue.take(budget: 10_000, clusterSize: 9).isEmpty)
    }

    @Test("membership frames round-trip, and garbage never traps")
    func codec() {
        let updates = [alive(other, 3), update(third, .suspect, 2, by: me)]
        let messages: [MembershipMessage] = [
            .ping(sequence: 1, target: other, updates: updates), .ack(sequence: 2, updates: []),
            .pingRequest(sequence: 3, target: third, address: "10.0.0.3:40000", updates: updates), .nack(sequence: 4),
            .join(updates: updates), .sync(members: updates, isReply: true), .gossip(updates: updates),
        ]
        for message in messages { #expect(MembershipMessage(frame: message.frame) == message) }
        var generator = SplitMix(seed: 11)
        for round in 0..<20_000 {
            let original = messages[round % messages.count].frame
            var body = original.body
            if round % 3 == 0 || body.isEmpty {
                body = (0..<Int.random(in: 0...120, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                body[Int.random(in: 0..<body.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                body = Array(body.prefix(Int.random(in: 0...body.count, using: &generator)))
            }
            _ = MembershipMessage(frame: Frame(type: original.type, body: body))
        }
    }
}
