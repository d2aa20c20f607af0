import DrizzleCore
import DrizzleCrypto
import Testing

@Suite("Trust status rumors")
struct TrustStatusTests {
    let fixture = Fixture()

    @Test("a status encodes and decodes; unsorted or trailing bytes are refused")
    func codec() {
        let status = TrustStatus(serial: 7, notAfter: 1_900_000_000, revocationVersion: 3, authorities: [KeyID(9), KeyID(2)])
        #expect(status.authorities == [KeyID(2), KeyID(9)])
        #expect(TrustStatus(decoding: status.encoded) == status)
        #expect(TrustStatus(decoding: status.encoded + [0]) == nil)
        var unsorted = status.encoded
        unsorted.replaceSubrange(25..<41, with: status.encoded[33..<41] + status.encoded[25..<33])
        #expect(TrustStatus(decoding: unsorted) == nil)
    }

    @Test("a node holds one status rumor of its own however often it announces")
    func announcementsReplaceEachOther() {
        let node = fixture.node("announcer", serial: 5)
        var core = NodeCore(
            signer: node.key, certificate: node.certificate, trust: fixture.trust(), suite: Fixture.suite,
            address: "127.0.0.1:1", epoch: 1, now: Fixture.instant)
        let before = core.gossip.knownCount
        for _ in 0..<5 { _ = core.announceTrust(now: Fixture.instant) }
        #expect(core.gossip.knownCount == before + 1)
        #expect(core.trustStatuses[core.me]?.status == core.trustStatus)
        // The fifth rumor of epoch 1: a life's rumor sequence starts at epoch << 32.
        #expect(core.trustStatuses[core.me]?.sequence == (1 << 32) + 4)
    }
}
