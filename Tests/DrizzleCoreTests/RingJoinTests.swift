import DrizzleCore
import Testing

@Suite("Chord join")
struct RingJoinTests {
    @Test("a join's answer does not push out a closer successor that membership reported meanwhile")
    func joinMergesWithKnownSuccessors() {
        let me = RingPeer(id: NodeID(high: 100, low: 0), address: "me")
        let near = RingPeer(id: NodeID(high: 110, low: 0), address: "near")
        let far = [120, 130, 140].map { RingPeer(id: NodeID(high: UInt64($0), low: 0), address: "far\($0)") }
        var ring = ChordRing(me: me, now: Instant(nanoseconds: 0))
        guard case .send(let entry, .findNext(let lookup, let key))? = ring.join(via: "seed", now: Instant(nanoseconds: 0)).first
        else {
            Issue.record("the join sent no lookup")
            return
        }
        #expect(entry == "seed" && key == me.id)
        // Membership reports `near` alive while the join's lookup is out.
        _ = ring.consider(near)
        // The seed answers from a ring that did not have `near` yet.
        _ = ring.receive(
            .next(lookup: lookup, key: me.id, done: true, peers: far), from: NodeID(high: 1, low: 0), address: "seed",
            now: Instant(nanoseconds: 1))
        #expect(ring.successors == [near, far[0], far[1]])
    }
}
