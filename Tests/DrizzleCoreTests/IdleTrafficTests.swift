import DrizzleCore
import DrizzleCrypto
import Testing

@Suite("Idle traffic of a node")
struct IdleTrafficTests {
    let fixture = Fixture()

    @Test("an idle bus's heartbeat vectors ride in probe envelopes: every datagram of an idle pair carries a ping or an ack, and vectors are still exchanged")
    func idleVectorsRideOnProbes() {
        let identities = [fixture.node("a", serial: 11), fixture.node("b", serial: 12)]
        let addresses = ["10.0.0.1:7000", "10.0.0.2:7000"]
        let trust = fixture.trust()
        let start = Fixture.instant
        var cores = identities.indices.map { index in
            NodeCore(
                signer: identities[index].key, certificate: identities[index].certificate, trust: trust,
                suite: Fixture.suite, address: addresses[index], epoch: 1,
                // Vector rounds out of step with the 1 s probes, as they drift apart in a running node.
                vectorIntervalNanoseconds: 150_000_000, now: start)
        }
        for index in cores.indices {
            let other = cores[1 - index]
            cores[index].adopt(
                [MemberUpdate(id: other.me, incarnation: 0, state: .alive, address: addresses[1 - index], serial: 11 + UInt64(1 - index), reporter: other.me)],
                now: start)
        }
        // openers[i] reads what node i sends, in the order it sent it (the first envelopes carry its certificate).
        var openers = [fixture.opener(trust), fixture.opener(trust)]
        var store = MemoryPieceStore()
        var generator = SplitMix(seed: 7)
        var idleDatagrams: [[UInt8]] = []
        var unreadable = 0
        let settled = start.advanced(byNanoseconds: 10_000_000_000)
        for step in 0..<800 {  // 40 s in 50 ms ticks, as the runtime ticks
            let now = start.advanced(byNanoseconds: Int64(step) * 50_000_000)
            var queue: [(from: Int, effect: NodeCore<SigningKey, SodiumSuite>.Effect)] = []
            for index in cores.indices {
                queue += cores[index].tick(now: now, using: &generator, store: &store).map { (index, $0) }
            }
            while !queue.isEmpty {
                let (from, effect) = queue.removeFirst()
                guard case .send(let address, let bytes, let reliable) = effect,
                    let to = addresses.firstIndex(of: address)
                else { continue }
                switch openers[from].open(bytes, at: now) {
                case .success(let envelope):
                    if !reliable, now >= settled { idleDatagrams.append(envelope.frames.map(\.type)) }
                case .failure:
                    unreadable += 1
                }
                queue += cores[to].receive(bytes, from: addresses[from], reliable: reliable, now: now, using: &generator, store: &store)
                    .map { (to, $0) }
            }
        }
        #expect(unreadable == 0)
        #expect(idleDatagrams.count >= 40)  // a probe and its ack each second, from each side
        #expect(idleDatagrams.allSatisfy { $0.contains(FrameType.ping) || $0.contains(FrameType.ack) })
        // Every 25 rounds: a few exchanges in 30 s, each a request and an answer.
        #expect(idleDatagrams.count { $0.contains(FrameType.heartbeatVector) } >= 4)
    }
}
