import DrizzleCore
import Testing

@Suite("Gossip: rumor mongering rules")
struct GossipTests {
    let a = NodeID(high: 1, low: 1)
    let b = NodeID(high: 2, low: 2)
    let c = NodeID(high: 3, low: 3)

    func gossip(_ me: NodeID, _ policy: RumorPolicy, antiEntropy: Int = 0) -> Gossip {
        Gossip(me: me, policy: policy, antiEntropyEveryRounds: antiEntropy)
    }

    func sends(_ outputs: [Gossip.Output]) -> [(NodeID, GossipMessage)] {
        outputs.compactMap { if case .send(let to, let message, _) = $0 { (to, message) } else { nil } }
    }

    @Test("the transmit limit follows memberlist's and swift-cluster-membership's formulas")
    func transmitLimits() {
        #expect(TransmitLimit.memberlist(multiplier: 4).limit(clusterSize: 1000) == 16)
        #expect(TransmitLimit.memberlist(multiplier: 4).limit(clusterSize: 99) == 8)
        #expect(TransmitLimit.memberlist(multiplier: 4).limit(clusterSize: 100) == 12)
        #expect(TransmitLimit.log2(multiplier: 3).limit(clusterSize: 1000) == 30)
        #expect(TransmitLimit.log2(multiplier: 3).limit(clusterSize: 0) == 1)
        #expect(TransmitLimit.unlimited.limit(clusterSize: 10) == .max)
    }

    @Test("feedback-counter: a rumor stops after k contacts that already knew it")
    func feedbackCounter() {
        var generator = SplitMix(seed: 1)
        var node = gossip(a, RumorPolicy(feedback: .feedback, stop: .counter, k: 2))
        let (rumor, _) = node.publish(kind: 0, payload: [1])
        for round in 1...2 {
            let pushed = sends(node.tick(peers: [a, b], clusterSize: 2, using: &generator))
            #expect(pushed.count == 1, "round \(round) pushes while hot")
            #expect(node.hotCount == 1)
            _ = node.receive(.feedback(known: [rumor.id]), from: b, using: &generator)
        }
        #expect(node.hotCount == 0)
        #expect(sends(node.tick(peers: [a, b], clusterSize: 2, using: &generator)).isEmpty)
    }

    @Test("a minimum of transmissions keeps a rumor hot through feedback until it has been sent that often")
    func minimumTransmits() {
        var generator = SplitMix(seed: 1)
        var node = gossip(a, RumorPolicy(feedback: .feedback, stop: .counter, k: 1, minimumTransmits: 3))
        let (rumor, _) = node.publish(kind: 0, payload: [1])
        for round in 1...3 {
            #expect(node.hotCount == 1, "still hot before send \(round)")
            let pushed = sends(node.tick(peers: [a, b], clusterSize: 2, using: &generator))
            #expect(pushed.count == 1, "round \(round) pushes")
            _ = node.receive(.feedback(known: [rumor.id]), from: b, using: &generator)
        }
        #expect(node.hotCount == 0)
        #expect(sends(node.tick(peers: [a, b], clusterSize: 2, using: &generator)).isEmpty)
    }

    @Test("feedback: necessary contacts never stop a rumor")
    func necessaryContacts() {
        var generator = SplitMix(seed: 1)
        var node = gossip(a, RumorPolicy(feedback: .feedback, stop: .counter, k: 1))
        _ = node.publish(kind: 0, payload: [1])
        for _ in 1...20 { _ = node.tick(peers: [a, b], clusterSize: 2, using: &generator) }
        #expect(node.hotCount == 1)
    }

    @Test("blind-counter: a rumor stops after k sends whatever the recipients knew")
    func blindCounter() {
        var generator = SplitMix(seed: 1)
        var node = gossip(a, RumorPolicy(feedback: .blind, stop: .counter, k: 3))
        _ = node.publish(kind: 0, payload: [1])
        var pushes = 0
        for _ in 1...10 { pushes += sends(node.tick(peers: [a, b, c], clusterSize: 3, using: &generator)).count }
        #expect(pushes == 3)
    }

    @Test("blind-coin with k = 1 sends a rumor exactly once")
    func blindCoinOne() {
        var generator = SplitMix(seed: 7)
        var node = gossip(a, RumorPolicy(feedback: .blind, stop: .coin, k: 1))
        _ = node.publish(kind: 0, payload: [1])
        var pushes = 0
        for _ in 1...10 { pushes += sends(node.tick(peers: [a, b, c], clusterSize: 3, using: &generator)).count }
        #expect(pushes == 1)
    }

    @Test("the transmit limit stops a rumor even without feedback")
    func transmitLimitStops() {
        var generator = SplitMix(seed: 1)
        var node = gossip(a, RumorPolicy(feedback: .feedback, stop: .counter, k: 100, transmitLimit: .memberlist(multiplier: 1)))
        _ = node.publish(kind: 0, payload: [1])
        var pushes = 0
        for _ in 1...10 { pushes += sends(node.tick(peers: [a, b], clusterSize: 9, using: &generator)).count }
        #expect(pushes == 1)
    }

    @Test("a pushed rumor is learned once, and a second push gets feedback")
    func receivePush() {
        var generator = SplitMix(seed: 1)
        var receiver = gossip(b, RumorPolicy())
        let rumor = Rumor(id: RumorID(origin: a, sequence: 0), kind: 3, payload: [9, 9])
        let first = receiver.receive(.rumors([rumor], wantsReply: false, isReply: false), from: a, using: &generator)
        #expect(first == [.learned(rumor, from: a)])
        let second = receiver.receive(.rumors([rumor], wantsReply: false, isReply: false), from: c, using: &generator)
        #expect(second == [.send(to: c, message: .feedback(known: [rumor.id]), reliable: false)])
    }

    @Test("an eager push is learned hot like a push but never answered with feedback, and round-trips its frame")
    func eagerPush() {
        var generator = SplitMix(seed: 1)
        var receiver = gossip(b, RumorPolicy(mode: .push, fanout: 1))
        let rumor = Rumor(id: RumorID(origin: a, sequence: 0), kind: 2, payload: [7])
        #expect(GossipMessage(frame: GossipMessage.eager([rumor]).frame) == .eager([rumor]))
        #expect(GossipMessage(frame: Frame(type: FrameType.rumors, body: [0x05, 0, 0])) == nil, "eager mixed with wants-reply")
        #expect(receiver.receive(.eager([rumor]), from: a, using: &generator) == [.learned(rumor, from: a)])
        #expect(receiver.receive(.eager([rumor]), from: c, using: &generator).isEmpty, "no feedback for an eager copy")
        // Learned hot: the next round pushes it on.
        let round = sends(receiver.tick(peers: [c], clusterSize: 3, using: &generator))
        #expect(round.contains { $0.0 == c && $0.1 == .rumors([rumor], wantsReply: false, isReply: false) })
    }

    @Test("pull: the callee answers a pull request with its hot rumors")
    func pull() {
        var generator = SplitMix(seed: 1)
        var holder = gossip(b, RumorPolicy(mode: .pull))
        let (rumor, _) = holder.publish(kind: 0, payload: [1])
        let reply = holder.receive(.rumors([], wantsReply: true, isReply: false), from: a, using: &generator)
        #expect(reply == [.send(to: a, message: .rumors([rumor], wantsReply: false, isReply: true), reliable: false)])
    }

    @Test("rumors are picked least-sent first, then newest, within the byte budget")
    func selectionOrder() {
        var generator = SplitMix(seed: 1)
        var node = Gossip(me: a, policy: RumorPolicy(k: 100), rumorBudgetBytes: 2 * (Rumor.overhead + 10))
        for index in 0..<3 { _ = node.publish(kind: 0, payload: Array(repeating: UInt8(index), count: 10)) }
        func pushed() -> [UInt64] {
            var sequences: [UInt64] = []
            for (_, message) in sends(node.tick(peers: [a, b], clusterSize: 2, using: &generator)) {
                if case .rumors(let rumors, _, _) = message { sequences += rumors.map(\.id.sequence) }
            }
            return sequences
        }
        #expect(pushed() == [2, 1])
        #expect(pushed() == [0, 2])
    }

    @Test("anti-entropy digests repair what either side lacks")
    func antiEntropy() {
        var generator = SplitMix(seed: 1)
        var left = gossip(a, RumorPolicy(), antiEntropy: 1)
        var right = gossip(b, RumorPolicy(), antiEntropy: 1)
        let (mine, _) = left.publish(kind: 0, payload: [1])
        let (theirs, _) = right.publish(kind: 0, payload: [2])
        let digest = sends(left.tick(peers: [a, b], clusterSize: 2, using: &generator)).compactMap { _, message in
            if case .digest = message { message } else { nil }
        }
        #expect(digest.count == 1)
        var toLeft: [GossipMessage] = []
        for output in right.receive(digest[0], from: a, using: &generator) {
            if case .send(_, let message, let reliable) = output {
                #expect(reliable)
                toLeft.append(message)
            }
        }
        #expect(toLeft.contains(.repair([theirs])))
        for message in toLeft {
            for output in left.receive(message, from: b, using: &generator) {
                if case .send(_, let message, _) = output { _ = right.receive(message, from: a, using: &generator) }
            }
        }
        #expect(left.knows(theirs.id) && right.knows(mine.id))
        // Repaired rumors are known but not spread as hot.
        #expect(left.hotCount == 1)
    }

    @Test("gossip frames round-trip, and garbage frames decode to nil without trapping")
    func codec() {
        let rumor = Rumor(id: RumorID(origin: a, sequence: 42), kind: 5, payload: Array("hello".utf8))
        let messages: [GossipMessage] = [
            .rumors([rumor, rumor], wantsReply: true, isReply: false), .feedback(known: [rumor.id]),
            .digest(Digest([rumor.id, RumorID(origin: a, sequence: 43), RumorID(origin: b, sequence: 7)]), isReply: true),
            .repair([rumor]),
        ]
        for message in messages { #expect(GossipMessage(frame: message.frame) == message) }
        var generator = SplitMix(seed: 3)
        for round in 0..<20_000 {
            let type = FrameType.rumors + UInt8(round % 4)
            var body = messages[round % 4].frame.body
            if body.isEmpty || round % 2 == 0 {
                body = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                body[Int.random(in: 0..<body.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                body = Array(body.prefix(Int.random(in: 0...body.count, using: &generator)))
            }
            _ = GossipMessage(frame: Frame(type: type, body: body))
        }
    }
}
