import DrizzleCore
import DrizzleCrypto
import Testing

@Suite("Envelope link: certificate exchange")
struct EnvelopeLinkTests {
    let fixture = Fixture()

    func link(_ node: (key: SigningKey, certificate: Certificate)) -> EnvelopeLink<SigningKey, SodiumSuite, String> {
        EnvelopeLink(sealer: fixture.sealer(node), opener: fixture.opener())
    }

    @Test("the certificate rides on the first three envelopes to an address, then no more")
    func certificateCopies() throws {
        var alice = link(fixture.node("alice", serial: 1))
        var attached: [Bool] = []
        for _ in 0..<5 {
            let sealed = alice.seal([], to: "bob", reliable: false, at: Fixture.instant)
            attached.append(try #require(sealed)[3] & EnvelopeHeader.certificateAttached != 0)
        }
        #expect(attached == [true, true, true, false, false])
        alice.resendCertificate(to: "bob")
        let again = alice.seal([], to: "bob", reliable: false, at: Fixture.instant)
        #expect(try #require(again)[3] & EnvelopeHeader.certificateAttached != 0)
    }

    @Test("an envelope that overtakes the certificate is answered with a request, and the answer admits the sender")
    func reorderRecovers() throws {
        var alice = link(fixture.node("alice", serial: 1))
        var bob = link(fixture.node("bob", serial: 2))
        // Alice's first envelopes (with her certificate) are lost on the way.
        for _ in 0..<3 { _ = alice.seal([], to: "bob", reliable: false, at: Fixture.instant) }
        let sealed = alice.seal([Frame(type: 0x77, body: [1])], to: "bob", reliable: false, at: Fixture.instant)
        let overtaking = try #require(sealed)
        let refused = bob.receive(overtaking, from: "alice", at: Fixture.instant)
        #expect(refused.dropped == .unknownSender)
        #expect(refused.replies.count == 1)
        // Bob's request carries Bob's certificate, so Alice admits Bob and answers with hers.
        let answered = alice.receive(refused.replies[0], from: "bob", at: Fixture.instant)
        #expect(answered.envelope?.frames == [])
        #expect(answered.replies.count == 1)
        let hello = bob.receive(answered.replies[0], from: "alice", at: Fixture.instant)
        #expect(hello.envelope != nil)
        let sealedLater = alice.seal([Frame(type: 0x77, body: [2])], to: "bob", reliable: false, at: Fixture.instant)
        let later = try #require(sealedLater)
        #expect(bob.receive(later, from: "alice", at: Fixture.instant).envelope?.frames == [Frame(type: 0x77, body: [2])])
    }
}
