import DrizzleCore
import Testing

/// A seeded generator for these tests (SplitMix64).
struct SizeTestRandom: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Estimators exchanging messages in memory: every node ticks, then messages are delivered in a
/// random order (so exchanges overlap, as they can on a real network), some possibly dropped.
struct SizeTestCluster<Estimator: SizeEstimator> {
    var nodes: [Estimator]
    var ids: [NodeID]
    var index: [NodeID: Int] = [:]
    var inFlight: [(from: NodeID, to: NodeID, message: SizeMessage)] = []
    var random = SizeTestRandom(7)

    init(count: Int, make: (NodeID) -> Estimator) {
        ids = (0..<count).map { NodeID(high: UInt64($0) &* 0x9E37_79B9 &+ 1, low: UInt64($0)) }
        nodes = ids.map(make)
        for (position, id) in ids.enumerated() { index[id] = position }
    }

    mutating func enqueue(_ outputs: [SizeOutput], from sender: NodeID) {
        for case .send(let to, let message) in outputs { inFlight.append((sender, to, message)) }
    }

    /// One cycle: every node ticks, then everything in flight is delivered in a random order unless
    /// `drop` says so. `sequential`: each node's exchange completes before the next node ticks
    /// (the papers' model of atomic exchanges).
    mutating func cycle(sequential: Bool = false, drop: (SizeMessage) -> Bool = { _ in false }) {
        for position in nodes.indices {
            let outputs = nodes[position].tick(peers: ids, using: &random)
            enqueue(outputs, from: ids[position])
            if sequential { deliver(drop: drop) }
        }
        deliver(drop: drop)
    }

    mutating func deliver(drop: (SizeMessage) -> Bool = { _ in false }) {
        while !inFlight.isEmpty {
            let (from, to, message) = inFlight.remove(at: Int.random(in: 0..<inFlight.count, using: &random))
            guard !drop(message), let position = index[to] else { continue }
            let outputs = nodes[position].receive(message, from: from, using: &random)
            enqueue(outputs, from: to)
        }
    }

    /// The instance of `slot` with the lowest ticket that any node follows.
    func winner(slot: Int = 0) -> NodeID? {
        let epoch = nodes.map(\.epoch).max() ?? 0
        return nodes.compactMap { $0.averagingValue(inSlot: slot)?.instance }
            .min { SizeSettings.precedes($0, $1, epoch: epoch, slot: slot) }
    }

    /// Σ of the averaging values of the winning instance (push-pull: the mass, 1 when conserved).
    func mass(slot: Int = 0) -> Double {
        guard let winner = winner(slot: slot) else { return 0 }
        return nodes.reduce(0) { sum, node in
            guard let value = node.averagingValue(inSlot: slot), value.instance == winner else { return sum }
            return sum + value.value
        }
    }
}

extension SizeMessage {
    fileprivate var isReply: Bool { if case .reply = self { true } else { false } }
    fileprivate var isShare: Bool { if case .share = self { true } else { false } }
}

@Suite("Network size: push-pull averaging")
struct SizeEstimatePushPullTests {
    func pushPull(_ count: Int, _ settings: SizeSettings = SizeSettings(retries: 0)) -> SizeTestCluster<PushPullAverage> {
        SizeTestCluster(count: count) { PushPullAverage(me: $0, settings: settings, founding: true) }
    }

    @Test("one exchange leaves caller and callee both at the average of their values")
    func averagingRule() throws {
        let a = NodeID(high: 1, low: 0)
        let b = NodeID(high: 2, low: 0)
        var random = SizeTestRandom(4)
        var caller = PushPullAverage(me: a, settings: SizeSettings(retries: 0), founding: true)
        var callee = PushPullAverage(me: b, settings: SizeSettings(retries: 0), founding: false)
        // Both start as candidates (the callee learns epoch 1 at its first cycle); whichever
        // instance wins, its initiator held 1 and the other node 0 in it.
        for case .send(_, let request) in caller.tick(peers: [a, b], using: &random) {
            for case .send(_, let reply) in callee.receive(request, from: a, using: &random) {
                _ = caller.receive(reply, from: b, using: &random)
            }
        }
        let x = try #require(caller.averagingValue(inSlot: 0))
        let y = try #require(callee.averagingValue(inSlot: 0))
        #expect(x.instance == y.instance)
        #expect(x.value == 0.5 && y.value == 0.5)
        #expect(caller.runningEstimate?.size == 2 && callee.runningEstimate?.size == 2)
        #expect(caller.exchangesCompleted == 1)
    }

    @Test("the callee moves half the difference and answers with its old value; the caller applies minus that")
    func deltas() {
        let me = NodeID(high: 1, low: 1)
        let caller = NodeID(high: 2, low: 2)
        var random = SizeTestRandom(1)
        var node = PushPullAverage(me: me, settings: SizeSettings(retries: 0), founding: true)
        // Start epoch 1 (this node a candidate: its own instance at 1), then hear a caller at 0.25.
        _ = node.tick(peers: [me], using: &random)
        let header = SizeHeader(epoch: 1, cycle: 1, exchange: 9)
        let reply = node.receive(.request(header, values: [InstanceValue(instance: me, value: 0.25)]), from: caller, using: &random)
        #expect(node.averagingValue(inSlot: 0)?.value == 0.625)
        guard case .send(let to, .reply(let replyHeader, let averaged, let values))? = reply.first else {
            Issue.record("expected a reply, got \(reply)")
            return
        }
        #expect(to == caller && averaged && replyHeader.exchange == 9 && replyHeader.epoch == 1)
        #expect(values == [InstanceValue(instance: me, value: 1)])
    }

    @Test("mass is conserved exactly when exchanges overlap in any order")
    func massConserved() {
        var cluster = pushPull(64)
        for _ in 0..<30 {
            cluster.cycle()
            #expect(abs(cluster.mass() - 1) < 1e-12)
        }
        for node in cluster.nodes {
            let size = node.estimate?.size ?? 0
            #expect(abs(size - 64) / 64 < 0.01, "estimate \(size)")
        }
    }

    @Test("with atomic exchanges every node is within 0.01% of N after 30 cycles")
    func convergence() {
        var cluster = pushPull(64)
        for _ in 0..<30 { cluster.cycle(sequential: true) }
        for node in cluster.nodes {
            let size = node.estimate?.size ?? 0
            #expect(abs(size - 64) / 64 < 1e-4, "estimate \(size)")
        }
    }

    @Test("a lost reply is repaired by a retry the callee answers from memory: the mass stays 1")
    func retryRepairsLostReply() {
        var cluster = pushPull(16, SizeSettings(retries: 2))
        var dropped = 0
        for cycle in 0..<6 {
            // Lose every reply of the first cycle: the callees averaged, the callers did not, so
            // the mass is off until the retries of the next cycle, answered from memory.
            cluster.cycle { message in
                guard cycle == 0, message.isReply else { return false }
                dropped += 1
                return true
            }
            if cycle > 0 { #expect(abs(cluster.mass() - 1) < 1e-12, "cycle \(cycle)") }
        }
        #expect(dropped == 16)
        // Every exchange completed in the end, the 16 whose replies were lost included.
        #expect(cluster.nodes.reduce(0) { $0 + $1.exchangesCompleted } == 16 * 6)
        #expect(cluster.nodes.allSatisfy { $0.abandonedExchanges == 0 })
    }

    @Test("without retries a lost reply changes the mass, is counted, and the next epoch restores it")
    func lostReplyWithoutRetries() {
        var cluster = pushPull(8, SizeSettings(epochCycles: 6, retries: 0))
        cluster.cycle()
        cluster.cycle { $0.isReply }  // every reply of cycle 2 is lost
        #expect(abs(cluster.mass() - 1) > 1e-6)
        cluster.cycle()
        #expect(cluster.nodes.reduce(0) { $0 + $1.abandonedExchanges } == 8)
        for _ in 0..<4 { cluster.cycle() }  // cycle 7 starts epoch 2
        #expect(cluster.nodes.allSatisfy { $0.epoch == 2 })
        #expect(abs(cluster.mass() - 1) < 1e-12)
    }

    @Test("a view that grows by more than a quarter during an epoch starts the next at once; the cut epoch leaves no result")
    func growthRestartsTheEpoch() {
        let me = NodeID(high: 1, low: 1)
        var random = SizeTestRandom(3)
        var node = PushPullAverage(me: me, settings: SizeSettings(epochCycles: 20, retries: 0), founding: true)
        node.observeView(size: 1)
        _ = node.tick(peers: [me], using: &random)  // epoch 1: alone
        _ = node.tick(peers: [me], using: &random)
        #expect(node.epoch == 1)
        // A quarter more members is not enough...
        node.observeView(size: 1)
        _ = node.tick(peers: [me], using: &random)
        #expect(node.epoch == 1)
        // ...23 nodes joining is: the next tick starts epoch 2, which the newcomers enter at cycle 0.
        node.observeView(size: 24)
        _ = node.tick(peers: [me], using: &random)
        #expect(node.epoch == 2 && node.isParticipating && node.cycleInEpoch == 1)
        // Epoch 1 ran 3 of 20 cycles: not a result. The estimate says it is converging.
        #expect(node.estimate?.source == .converging && node.estimate?.epoch == 2)
        // A view that stays put runs the epoch to its end.
        for _ in 0..<18 { _ = node.tick(peers: [me], using: &random) }
        #expect(node.epoch == 2)
        var steady = PushPullAverage(me: me, settings: SizeSettings(epochCycles: 20, retries: 0), founding: true)
        steady.observeView(size: 24)
        for _ in 0..<21 { _ = steady.tick(peers: [me], using: &random) }
        steady.observeView(size: 29)
        _ = steady.tick(peers: [me], using: &random)
        #expect(steady.epoch == 2, "20 % more is within the epoch's tolerance")
    }

    @Test("epochs restart every epochCycles cycles; the finished epoch's result is the estimate, aging by cycle")
    func epochs() {
        var cluster = pushPull(8, SizeSettings(epochCycles: 20, retries: 0))
        for _ in 0..<19 { cluster.cycle(sequential: true) }
        #expect(cluster.nodes[0].estimate?.source == .converging)
        cluster.cycle(sequential: true)
        let final = cluster.nodes[0].estimate
        #expect(final?.epoch == 1 && final?.source == .epoch && final?.ageCycles == 0)
        #expect(abs((final?.size ?? 0) - 8) < 1e-3)
        cluster.cycle(sequential: true)
        cluster.cycle(sequential: true)
        let aged = cluster.nodes[0].estimate
        #expect(cluster.nodes.allSatisfy { $0.epoch == 2 })
        #expect(aged?.epoch == 1 && aged?.ageCycles == 2 && aged?.size == final?.size)
        // Meanwhile epoch 2 converges anew from its own initiator's 1.
        #expect(abs(cluster.mass() - 1) < 1e-12)
        #expect(cluster.nodes.contains { $0.runningEstimate?.epoch == 2 })
    }

    @Test("a newer epoch pulls an older node forward; an older request is refused without averaging")
    func epochNumbersPullForward() {
        let a = NodeID(high: 1, low: 0)
        let b = NodeID(high: 2, low: 0)
        var random = SizeTestRandom(3)
        let settings = SizeSettings(epochCycles: 3, retries: 0)
        var newer = PushPullAverage(me: a, settings: settings, founding: true)
        var older = PushPullAverage(me: b, settings: settings, founding: true)
        for _ in 0..<4 { _ = newer.tick(peers: [a], using: &random) }  // epoch 2, cycle 1
        _ = older.tick(peers: [b], using: &random)  // epoch 1, cycle 1
        #expect(newer.epoch == 2 && older.epoch == 1)
        // The older node's request to the newer is refused and changes nothing there.
        let before = newer.averagingValue(inSlot: 0)
        let refusal = newer.receive(.request(SizeHeader(epoch: 1, cycle: 1, exchange: 4), values: [nil]), from: b, using: &random)
        #expect(newer.averagingValue(inSlot: 0) == before)
        guard case .send(_, let message)? = refusal.first, case .reply(let header, false, _) = message else {
            Issue.record("expected a refusal, got \(refusal)")
            return
        }
        // The refusal carries the newer epoch and moves the older node there, at the sender's cycle.
        _ = older.receive(message, from: a, using: &random)
        #expect(older.epoch == 2 && header.epoch == 2)
        #expect(older.cycleInEpoch == newer.cycleInEpoch)
    }

    @Test("a node that learns of an epoch after the join window waits for the next one, showing a peer's estimate")
    func lateJoinerWaits() {
        var cluster = pushPull(6, SizeSettings(epochCycles: 20, retries: 0))
        for _ in 0..<23 { cluster.cycle(sequential: true) }  // epoch 2, cycle 3: past the 1-cycle window
        let late = NodeID(high: 99, low: 99)
        var joiner = PushPullAverage(me: late, settings: cluster.nodes[0].settings, founding: false)
        var random = SizeTestRandom(5)
        let hello = joiner.tick(peers: cluster.ids, using: &random)
        guard case .send(let to, let message)? = hello.first, let position = cluster.index[to] else {
            Issue.record("a joiner asks a peer first")
            return
        }
        for case .send(_, let answer) in cluster.nodes[position].receive(message, from: late, using: &random) {
            _ = joiner.receive(answer, from: to, using: &random)
        }
        #expect(joiner.epoch == 2 && !joiner.isParticipating)
        #expect(joiner.estimate?.source == .peer && abs((joiner.estimate?.size ?? 0) - 6) < 1e-3)
        // Its own count ends epoch 2 with the others' and it takes part in epoch 3.
        for _ in 0..<17 { _ = joiner.tick(peers: [late], using: &random) }
        #expect(joiner.epoch == 2)
        _ = joiner.tick(peers: [late], using: &random)
        #expect(joiner.epoch == 3 && joiner.isParticipating)
    }

    @Test("every node ends up following the candidate with the lowest ticket in each instance")
    func lowestTicketWins() {
        let settings = SizeSettings(instances: 3, retries: 0)
        var cluster = pushPull(40, settings)
        for _ in 0..<12 { cluster.cycle() }
        for slot in 0..<3 {
            let best = cluster.ids.min { SizeSettings.precedes($0, $1, epoch: 1, slot: slot) }
            #expect(cluster.nodes.allSatisfy { $0.averagingValue(inSlot: slot)?.instance == best })
            #expect(abs(cluster.mass(slot: slot) - 1) < 1e-12)
        }
        #expect(cluster.nodes[0].runningEstimate?.instances == 3)
    }

    @Test("instance estimates combine by median (robust to one bad instance) or mean")
    func combination() {
        // Three instances, one badly off: per-slot values 1/40, 1/40.4, 1/4.
        let me = NodeID(high: 5, low: 5)
        var random = SizeTestRandom(11)
        for (combination, expected) in [(SizeSettings.Combination.median, 40.0), (.mean, (40 + 40.4 + 4) / 3)] {
            var node = PushPullAverage(
                me: me, settings: SizeSettings(instances: 3, combination: combination, retries: 0), founding: true)
            _ = node.tick(peers: [me], using: &random)
            // Feed the node three answers that leave it at the chosen values (callee form).
            let values = [1 / 40.0, 1 / 40.4, 1 / 4.0]
            let request = values.map { InstanceValue(instance: me, value: 2 * $0 - 1) }
            _ = node.receive(.request(SizeHeader(epoch: 1, cycle: 1, exchange: 1), values: request), from: NodeID(high: 6, low: 6), using: &random)
            let size = node.runningEstimate?.size ?? 0
            #expect(abs(size - expected) < 1e-9, "\(combination): \(size)")
        }
    }

    @Test("with the paper's initiation rule about c nodes start each instance (probability c / N̂)")
    func probabilisticInitiators() {
        var random = SizeTestRandom(21)
        let ids = (0..<1000).map { NodeID(high: UInt64($0) + 1, low: 7) }
        var total = 0
        let trials = 40
        for _ in 0..<trials {
            for id in ids {
                var node = PushPullAverage(
                    me: id, settings: SizeSettings(initiation: .probability(expectedInitiators: 2)), founding: true)
                _ = node.tick(peers: ids, using: &random)
                if node.averagingValue(inSlot: 0)?.instance == id { total += 1 }
            }
        }
        let mean = Double(total) / Double(trials)
        #expect(mean > 1.5 && mean < 2.5, "mean initiators per epoch \(mean)")
    }
}

@Suite("Network size: push-sum")
struct SizeEstimatePushSumTests {
    func pushSum(_ count: Int, _ settings: SizeSettings = SizeSettings(retries: 0)) -> SizeTestCluster<PushSum> {
        SizeTestCluster(count: count) { PushSum(me: $0, settings: settings, founding: true) }
    }

    /// Σ sum and Σ weight of the winning instance, and how many nodes follow it (each brought 1).
    func totals(_ cluster: SizeTestCluster<PushSum>) -> (sum: Double, weight: Double, holders: Int) {
        guard let winner = cluster.winner() else { return (0, 0, 0) }
        var sum = 0.0
        var weight = 0.0
        var holders = 0
        for node in cluster.nodes {
            guard let share = node.share(inSlot: 0), share.instance == winner else { continue }
            sum += share.sum
            weight += share.weight
            holders += 1
        }
        return (sum, weight, holders)
    }

    @Test("push-sum keeps Σ sum = nodes following the instance and Σ weight = 1; s / w converges to N")
    func massConservation() {
        var cluster = pushSum(50, SizeSettings(epochCycles: 100, retries: 0))
        for _ in 0..<40 {
            cluster.cycle()
            let (sum, weight, holders) = totals(cluster)
            #expect(abs(sum - Double(holders)) < 1e-9 && abs(weight - 1) < 1e-12)
        }
        #expect(totals(cluster).holders == 50)
        for node in cluster.nodes {
            let size = node.estimate?.size ?? 0
            #expect(abs(size - 50) / 50 < 0.01, "estimate \(size)")
        }
    }

    @Test("the estimate is sum / weight: (1, 1) plus a share (5, 1) is (6, 2), which estimates 3")
    func estimateIsSumOverWeight() {
        let me = NodeID(high: 3, low: 3)
        var random = SizeTestRandom(2)
        var node = PushSum(me: me, settings: SizeSettings(retries: 0), founding: true)
        _ = node.tick(peers: [me], using: &random)  // epoch 1: (1, 1), nobody to push to
        let share = InstanceShare(instance: me, sum: 5, weight: 1)
        let header = SizeHeader(epoch: 1, cycle: 1, exchange: 1)
        _ = node.receive(.share(header, wantsAcknowledgement: false, shares: [share]), from: NodeID(high: 4, low: 4), using: &random)
        #expect(node.share(inSlot: 0) == InstanceShare(instance: me, sum: 6, weight: 2))
        #expect(node.runningEstimate?.size == 3)
        #expect(node.averagingValue(inSlot: 0)?.value == 2.0 / 6)
    }

    @Test("a lost push is resent until acknowledged and applied once; without retries it loses mass")
    func retries() {
        var cluster = pushSum(20, SizeSettings(retries: 2))
        for cycle in 0..<12 { cluster.cycle { cycle == 1 && $0.isShare } }  // every push of cycle 2 lost once
        let (sum, weight, holders) = totals(cluster)
        #expect(holders == 20 && abs(sum - 20) < 1e-9 && abs(weight - 1) < 1e-12)
        #expect(cluster.nodes.allSatisfy { $0.abandonedExchanges == 0 })

        var lossy = pushSum(20)
        for cycle in 0..<12 { lossy.cycle { cycle == 1 && $0.isShare } }
        let after = totals(lossy)
        #expect(after.sum < Double(after.holders) - 1e-6 && after.weight < 1 - 1e-6)
    }
}

@Suite("Network size: message codec")
struct SizeEstimateCodecTests {
    static func randomMessage(using random: inout SizeTestRandom) -> SizeMessage {
        func id() -> NodeID { NodeID(high: random.next(), low: random.next()) }
        func number() -> Double { Double(Int64(bitPattern: random.next() >> 11)) / 1e9 }
        let header = SizeHeader(
            epoch: random.next(), cycle: UInt32(truncatingIfNeeded: random.next()),
            exchange: UInt32(truncatingIfNeeded: random.next()),
            hint: random.next() % 2 == 0 ? nil : SizeHint(size: 1 + abs(number()), epoch: random.next()))
        let count = Int(random.next() % UInt64(SizeSettings.maximumInstances + 1))
        switch random.next() % 4 {
        case 0:
            return .request(header, values: (0..<count).map { _ in random.next() % 3 == 0 ? nil : InstanceValue(instance: id(), value: number()) })
        case 1:
            return .reply(
                header, averaged: random.next() % 2 == 0,
                values: (0..<count).map { _ in random.next() % 3 == 0 ? nil : InstanceValue(instance: id(), value: number()) })
        case 2:
            return .share(
                header, wantsAcknowledgement: random.next() % 2 == 0,
                shares: (0..<count).map { _ in
                    random.next() % 3 == 0 ? nil : InstanceShare(instance: id(), sum: abs(number()), weight: abs(number()))
                })
        default:
            return .acknowledge(header)
        }
    }

    @Test("every kind of size message survives encode and decode")
    func roundTrip() {
        var random = SizeTestRandom(99)
        for _ in 0..<2_000 {
            let message = Self.randomMessage(using: &random)
            #expect(SizeMessage(frame: message.frame) == message)
        }
    }

    @Test("the largest message, 16 push-sum slots, fits a 1,200-byte datagram with a certificate")
    func largestFits() {
        let shares = (0..<SizeSettings.maximumInstances).map { InstanceShare(instance: NodeID(high: UInt64($0), low: 1), sum: 1, weight: 1) }
        let message = SizeMessage.share(
            SizeHeader(epoch: 1, cycle: 1, exchange: 1, hint: SizeHint(size: 5, epoch: 1)), wantsAcknowledgement: true, shares: shares)
        // Header 52, signature 64, certificate with its length about 190: room for about 890.
        #expect(message.frame.encodedLength < 800)
    }

    @Test("decoding refuses truncations, trailing bytes, unknown flags, too many slots and non-finite numbers")
    func refusals() {
        var random = SizeTestRandom(5)
        for _ in 0..<200 {
            let frame = Self.randomMessage(using: &random).frame
            for length in 0..<frame.body.count {
                #expect(SizeMessage(frame: Frame(type: frame.type, body: Array(frame.body[0..<length]))) == nil)
            }
            #expect(SizeMessage(frame: Frame(type: frame.type, body: frame.body + [0])) == nil)
        }
        let header = SizeHeader(epoch: 1, cycle: 0, exchange: 1)
        var nan = SizeMessage.request(header, values: [InstanceValue(instance: NodeID(high: 1, low: 1), value: 0)]).frame
        for offset in (nan.body.count - 8)..<nan.body.count { nan.body[offset] = 0xFF }
        #expect(SizeMessage(frame: nan) == nil)
        var infinite = SizeMessage.request(header, values: [InstanceValue(instance: NodeID(high: 1, low: 1), value: .infinity)]).frame
        #expect(SizeMessage(frame: infinite) == nil)
        infinite.type = FrameType.rumors
        #expect(SizeMessage(frame: infinite) == nil)
        var flags = SizeMessage.reply(header, averaged: true, values: []).frame
        flags.body[17] = 0x03
        #expect(SizeMessage(frame: flags) == nil)
        var tooMany = SizeMessage.request(header, values: []).frame
        tooMany.body[17] = UInt8(SizeSettings.maximumInstances + 1)
        tooMany.body += Array(repeating: 0, count: SizeSettings.maximumInstances + 1)
        #expect(SizeMessage(frame: tooMany) == nil)
        let negative = SizeMessage.share(
            header, wantsAcknowledgement: false, shares: [InstanceShare(instance: NodeID(high: 1, low: 1), sum: -1, weight: 1)])
        #expect(SizeMessage(frame: negative.frame) == nil)
    }

    @Test("fuzz: 40,000 random and mutated bodies never trap, and whatever decodes re-encodes to the same bytes")
    func fuzz() {
        var random = SizeTestRandom(0xF022)
        let types = [
            FrameType.sizeExchangeRequest, FrameType.sizeExchangeReply, FrameType.pushSumShare, FrameType.pushSumAcknowledge,
        ]
        var decoded = 0
        for round in 0..<40_000 {
            let type = types[round % types.count]
            var body: [UInt8]
            if round % 2 == 0 {
                body = (0..<Int(random.next() % 120)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                body = Self.randomMessage(using: &random).frame.body
                for _ in 0...(random.next() % 4) where !body.isEmpty {
                    let offset = Int(random.next() % UInt64(body.count))
                    switch random.next() % 3 {
                    case 0: body[offset] = UInt8(truncatingIfNeeded: random.next())
                    case 1: body.remove(at: offset)
                    default: body.insert(UInt8(truncatingIfNeeded: random.next()), at: offset)
                    }
                }
            }
            let frame = Frame(type: type, body: body)
            if let message = SizeMessage(frame: frame) {
                decoded += 1
                #expect(message.frame == frame)
            }
        }
        #expect(decoded > 500, "mutations should still leave many decodable bodies (\(decoded))")
    }
}
