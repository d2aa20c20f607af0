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
        let refused = bob.receive(overtaking, from: "alice", reliable: false, at: Fixture.instant)
        #expect(refused.dropped == .unknownSender)
        #expect(refused.replies.count == 1)
        // Bob never chose to talk to that address (a stranger's, perhaps spoofed): his request goes
        // without his certificate. Alice, who did choose to talk to Bob, asks back with hers.
        #expect(try !attached(refused.replies[0]))
        let askedBack = alice.receive(refused.replies[0], from: "bob", reliable: false, at: Fixture.instant)
        #expect(askedBack.dropped == .unknownSender)
        #expect(try attached(askedBack.replies.first))
        // Bob admits Alice from her request and answers it with his certificate.
        let answered = bob.receive(askedBack.replies[0], from: "alice", reliable: false, at: Fixture.instant)
        #expect(answered.envelope?.frames == [])
        #expect(answered.replies.count == 1)
        let hello = alice.receive(answered.replies[0], from: "bob", reliable: false, at: Fixture.instant)
        #expect(hello.envelope != nil)
        let sealedLater = alice.seal([Frame(type: 0x77, body: [2])], to: "bob", reliable: false, at: Fixture.instant)
        let later = try #require(sealedLater)
        #expect(bob.receive(later, from: "alice", reliable: false, at: Fixture.instant).envelope?.frames == [Frame(type: 0x77, body: [2])])
    }

    func attached(_ sealed: [UInt8]?) throws -> Bool {
        try #require(sealed)[3] & EnvelopeHeader.certificateAttached != 0
    }

    @Test("stream envelopes carry the certificate on the first copies, then once per refresh period")
    func streamRefresh() throws {
        var alice = link(fixture.node("alice", serial: 1))
        let start = Fixture.instant
        var attachedNow: [Bool] = []
        for _ in 0..<5 {
            let sealed = alice.seal([], to: "bob", reliable: true, at: start)
            attachedNow.append(try attached(sealed))
        }
        #expect(attachedNow == [true, true, true, false, false])
        let justBefore = start.advanced(byNanoseconds: alice.streamCertificateRefreshNanoseconds - 1)
        let beforeRefresh = alice.seal([], to: "bob", reliable: true, at: justBefore)
        #expect(try !attached(beforeRefresh))
        let due = start.advanced(byNanoseconds: alice.streamCertificateRefreshNanoseconds)
        let atRefresh = alice.seal([], to: "bob", reliable: true, at: due)
        #expect(try attached(atRefresh))
        let afterRefresh = alice.seal([], to: "bob", reliable: true, at: due)
        #expect(try !attached(afterRefresh))
        // Datagrams used up the copies: the first stream envelope still carries it.
        for _ in 0..<3 { _ = alice.seal([], to: "carol", reliable: false, at: start) }
        let firstStreamToCarol = alice.seal([], to: "carol", reliable: true, at: start)
        #expect(try attached(firstStreamToCarol))
    }

    @Test("a stream envelope from an unknown sender is answered at the sender's own address, which recovers")
    func streamUnknownSenderAsksMemberAddress() throws {
        let aliceNode = fixture.node("alice", serial: 1)
        var alice = link(aliceNode)
        var bob = link(fixture.node("bob", serial: 2))
        let aliceID = aliceNode.certificate.nodeID(suite: Fixture.suite)
        for _ in 0..<3 { _ = alice.seal([], to: "bob", reliable: true, at: Fixture.instant) }  // lost
        let sealedStream = alice.seal([Frame(type: 0x77, body: [1])], to: "bob", reliable: true, at: Fixture.instant)
        let stream = try #require(sealedStream)
        // Over TCP the source address is an ephemeral port; membership knows where Alice listens.
        let refused = bob.receive(stream, from: "ephemeral", reliable: true, at: Fixture.instant) { $0 == aliceID ? "alice" : nil }
        #expect(refused.dropped == .unknownSender)
        #expect(refused.replyTo == "alice")
        #expect(refused.replies.count == 1)
        let answered = alice.receive(refused.replies[0], from: "bob", reliable: false, at: Fixture.instant)
        #expect(answered.replies.count == 1)
        let hello = bob.receive(answered.replies[0], from: "alice", reliable: false, at: Fixture.instant)
        #expect(hello.envelope != nil)
        // The request also reset Alice's copies to Bob: her next stream envelope carries it again.
        let afterRequest = alice.seal([], to: "bob", reliable: true, at: Fixture.instant)
        #expect(try attached(afterRequest))
    }

    @Test("a sender that comes back with a new epoch gets our certificate again")
    func newEpochResends() throws {
        let aliceNode = fixture.node("alice", serial: 1)
        var alice = link(aliceNode)
        var bob = link(fixture.node("bob", serial: 2))
        for _ in 0..<3 { _ = bob.seal([], to: "alice", reliable: false, at: Fixture.instant) }
        let copiesUsed = bob.seal([], to: "alice", reliable: false, at: Fixture.instant)
        #expect(try !attached(copiesUsed))
        let sealedFirst = alice.seal([], to: "bob", reliable: false, at: Fixture.instant)
        let first = try #require(sealedFirst)
        let opened = bob.receive(first, from: "alice", reliable: false, at: Fixture.instant)
        #expect(opened.envelope != nil)
        let stillHeld = bob.seal([], to: "alice", reliable: false, at: Fixture.instant)
        #expect(try !attached(stillHeld))
        // Alice restarts: a new epoch, and she no longer holds Bob's certificate.
        var restarted = EnvelopeLink<SigningKey, SodiumSuite, String>(
            sealer: fixture.sealer(aliceNode, epoch: 2), opener: fixture.opener())
        let sealedAgain = restarted.seal([], to: "bob", reliable: false, at: Fixture.instant)
        let again = try #require(sealedAgain)
        let reopened = bob.receive(again, from: "alice", reliable: false, at: Fixture.instant)
        #expect(reopened.envelope != nil)
        let afterRestart = bob.seal([], to: "alice", reliable: false, at: Fixture.instant)
        #expect(try attached(afterRestart))
    }

    @Test("forged datagrams from spoofed sources get a bounded number of small replies, none carrying the certificate")
    func noReflection() throws {
        var bob = link(fixture.node("bob", serial: 2))
        var mallory = link(fixture.node("mallory", serial: 9))
        for _ in 0..<3 { _ = mallory.seal([], to: "bob", reliable: false, at: Fixture.instant) }
        let sealedForged = mallory.seal([Frame(type: 0x77, body: [1])], to: "bob", reliable: false, at: Fixture.instant)
        let forged = try #require(sealedForged)
        // 1,000 copies claiming 1,000 source addresses within one second, then 1,000 from one address.
        var replies: [[UInt8]] = []
        for index in 0..<1000 {
            let now = Fixture.instant.advanced(byNanoseconds: Int64(index) * 500_000)
            replies += bob.receive(forged, from: "victim-\(index)", reliable: false, at: now).replies
        }
        #expect(replies.count == bob.certificateRequestsPerSecond)
        let later = Fixture.instant.advanced(byNanoseconds: 5_000_000_000)
        var toOne: [[UInt8]] = []
        for index in 0..<1000 {
            let now = later.advanced(byNanoseconds: Int64(index) * 500_000)
            toOne += bob.receive(forged, from: "victim", reliable: false, at: now).replies
        }
        #expect(toOne.count == 1, "one request per second to one address")
        for reply in replies + toOne {
            #expect(try !attached(reply))
            #expect(reply.count <= forged.count, "a reply is no larger than what provoked it")
        }
        #expect(bob.certificateRequestsLimited == 2000 - replies.count - toOne.count)
    }

    @Test("a datagram longer than the datagram limit is dropped as oversize; a stream envelope may be longer")
    func datagramLimit() throws {
        let aliceNode = fixture.node("alice", serial: 1)
        var alice = EnvelopeLink<SigningKey, SodiumSuite, String>(
            sealer: fixture.sealer(aliceNode), opener: fixture.opener(), datagramLimit: 4000)
        var bob = link(fixture.node("bob", serial: 2))
        let sealedBig = alice.seal([Frame(type: 0x77, body: Array(repeating: 1, count: 1500))], to: "bob", reliable: false, at: Fixture.instant)
        let big = try #require(sealedBig)
        #expect(big.count > 1200)
        #expect(bob.receive(big, from: "alice", reliable: false, at: Fixture.instant).dropped == .oversize)
        let sealedStream = alice.seal([Frame(type: 0x77, body: Array(repeating: 1, count: 1500))], to: "bob", reliable: true, at: Fixture.instant)
        let stream = try #require(sealedStream)
        #expect(bob.receive(stream, from: "alice", reliable: true, at: Fixture.instant).envelope != nil)
    }
}
