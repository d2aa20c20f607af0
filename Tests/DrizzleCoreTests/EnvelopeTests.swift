import DrizzleCore
import DrizzleCrypto
import Testing

@Suite("Envelope: sealing and opening signed datagrams")
struct EnvelopeTests {
    let fixture = Fixture()
    let frames = [Frame(type: 1, body: Array("ping".utf8)), Frame(type: 7, body: Array(repeating: 0xAB, count: 300))]

    func seal(
        _ node: (key: SigningKey, certificate: Certificate), sequenceSkip: Int = 0, attach: Bool = true,
        epoch: UInt32 = 1
    ) throws -> [UInt8] {
        var sealer = fixture.sealer(node, epoch: epoch)
        for _ in 0..<sequenceSkip { _ = try sealer.seal([], at: Fixture.instant) }
        return try sealer.seal(frames, attachingCertificate: attach, at: Fixture.instant)
    }

    @Test("a sealed datagram opens to the same header and frames")
    func roundTrip() throws {
        let node = fixture.node("a", serial: 10)
        var opener = fixture.opener()
        let bytes = try seal(node)
        let opened = try opener.open(bytes, at: Fixture.instant).get()
        #expect(opened.frames == frames)
        #expect(opened.header.sender == Fixture.suite.nodeID(of: node.key.publicKey))
        #expect(opened.header.serial == 10)
        #expect(opened.header.sequence == 0)
        #expect(opened.header.length == UInt32(bytes.count))
        #expect(opened.certificate == node.certificate)
        #expect(opener.drops.total == 0)
    }

    @Test("once a certificate is attached, later datagrams without it are accepted")
    func certificateCached() throws {
        let node = fixture.node("a", serial: 10)
        var sealer = fixture.sealer(node)
        var opener = fixture.opener()
        let first = try sealer.seal(frames, attachingCertificate: true, at: Fixture.instant)
        let second = try sealer.seal(frames, attachingCertificate: false, at: Fixture.instant)
        #expect(opener.open(second, at: Fixture.instant).failure == .unknownSender)
        #expect(throws: Never.self) { try opener.open(first, at: Fixture.instant).get() }
        let third = try sealer.seal(frames, attachingCertificate: false, at: Fixture.instant)
        #expect(throws: Never.self) { try opener.open(third, at: Fixture.instant).get() }
    }

    @Test("a flipped bit at any position is rejected")
    func everyBitFlipRejected() throws {
        let node = fixture.node("a", serial: 10)
        let bytes = try seal(node)
        var opener = fixture.opener()
        for bit in 0..<(bytes.count * 8) {
            var damaged = bytes
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            let result = opener.open(damaged, at: Fixture.instant)
            #expect(result.failure != nil, "bit \(bit) flipped was accepted")
        }
        #expect(opener.drops.total == UInt64(bytes.count * 8))
        // The undamaged datagram still opens: no flip poisoned the replay window or trust store.
        #expect(throws: Never.self) { try opener.open(bytes, at: Fixture.instant).get() }
    }

    @Test("every truncation is rejected as truncated")
    func everyTruncationRejected() throws {
        let bytes = try seal(fixture.node("a", serial: 10))
        var opener = fixture.opener()
        for length in 0..<bytes.count {
            #expect(opener.open(Array(bytes[0..<length]), at: Fixture.instant).failure == .truncated, "length \(length)")
        }
        #expect(opener.drops[.truncated] == UInt64(bytes.count))
    }

    @Test("trailing bytes after the signature make a datagram malformed")
    func trailingBytes() throws {
        var opener = fixture.opener()
        let bytes = try seal(fixture.node("a", serial: 10)) + [0]
        #expect(opener.open(bytes, at: Fixture.instant).failure == .malformed)
    }

    @Test("a datagram over the size limit is rejected as oversize")
    func oversize() throws {
        var opener = fixture.opener()
        opener.maximumLength = 400
        let bytes = try seal(fixture.node("a", serial: 10))
        #expect(bytes.count > 400)
        #expect(opener.open(bytes, at: Fixture.instant).failure == .oversize)
    }

    @Test("the sealer refuses frames that would exceed the limit")
    func sealerLimit() throws {
        var sealer = fixture.sealer(fixture.node("a", serial: 10), maximumLength: 1200)
        let room = sealer.frameCapacity(attachingCertificate: false)
        let fits = Frame(type: 1, body: Array(repeating: 0, count: room - Frame.overhead))
        #expect(try sealer.seal([fits], at: Fixture.instant).count == 1200)
        let tooBig = Frame(type: 1, body: Array(repeating: 0, count: room - Frame.overhead + 1))
        #expect(throws: EnvelopeSealer<SigningKey>.SealError.tooLarge(needed: 1201, limit: 1200)) {
            try sealer.seal([tooBig], at: Fixture.instant)
        }
    }

    @Test("an unknown version is rejected as bad_version")
    func badVersion() throws {
        var bytes = try seal(fixture.node("a", serial: 10))
        bytes[2] = 9
        var opener = fixture.opener()
        #expect(opener.open(bytes, at: Fixture.instant).failure == .badVersion)
    }

    @Test("a sender without a known or attached certificate is rejected as unknown_sender")
    func unknownSender() throws {
        var opener = fixture.opener()
        let bytes = try seal(fixture.node("a", serial: 10), attach: false)
        #expect(opener.open(bytes, at: Fixture.instant).failure == .unknownSender)
    }

    @Test("an expired certificate is rejected as expired")
    func expired() throws {
        var opener = fixture.opener()
        let bytes = try seal(fixture.node("a", serial: 10, from: -7200, to: -1))
        #expect(opener.open(bytes, at: Fixture.instant).failure == .expired)
    }

    @Test("a certificate that expires while cached stops being accepted")
    func expiresWhileCached() throws {
        let node = fixture.node("a", serial: 10, to: 60)
        var sealer = fixture.sealer(node)
        var opener = fixture.opener()
        _ = try opener.open(try sealer.seal([], attachingCertificate: true, at: Fixture.instant), at: Fixture.instant)
            .get()
        let later = Fixture.instant.advanced(byNanoseconds: 61 * 1_000_000_000)
        #expect(opener.open(try sealer.seal([], at: later), at: later).failure == .expired)
    }

    @Test("a certificate not valid yet is rejected as not_yet_valid")
    func notYetValid() throws {
        var opener = fixture.opener()
        let bytes = try seal(fixture.node("a", serial: 10, from: 600, to: 86_400))
        #expect(opener.open(bytes, at: Fixture.instant).failure == .notYetValid)
    }

    @Test("a revoked serial is rejected as revoked, also after it was admitted")
    func revoked() throws {
        let node = fixture.node("a", serial: 10)
        var revokedOpener = fixture.opener(fixture.trust(revoking: [10]))
        #expect(revokedOpener.open(try seal(node), at: Fixture.instant).failure == .revoked)

        var opener = fixture.opener()
        var sealer = fixture.sealer(node)
        _ = try opener.open(try sealer.seal([], attachingCertificate: true, at: Fixture.instant), at: Fixture.instant)
            .get()
        var list = RevocationList(version: 2, issuedAt: Fixture.now, issuer: fixture.ca.issuer, serials: [10])
        list.sign(with: fixture.caKey)
        try opener.trust.apply(list, suite: Fixture.suite)
        #expect(opener.open(try sealer.seal([], at: Fixture.instant), at: Fixture.instant).failure == .unknownSender)
        #expect(
            opener.open(try sealer.seal([], attachingCertificate: true, at: Fixture.instant), at: Fixture.instant)
                .failure == .revoked)
    }

    @Test("a certificate from another CA is rejected as untrusted_issuer")
    func wrongAuthority() throws {
        let other = Fixture()
        var opener = fixture.opener()
        let bytes = try seal(other.node("intruder", serial: 10))
        #expect(opener.open(bytes, at: Fixture.instant).failure == .untrustedIssuer)
    }

    @Test("a certificate claiming our CA but signed by another key is rejected as bad_certificate")
    func forgedCertificate() throws {
        let forger = SigningKey.generate()
        var opener = fixture.opener()
        let bytes = try seal(fixture.node("forged", serial: 10, signedBy: forger))
        #expect(opener.open(bytes, at: Fixture.instant).failure == .badCertificate)
    }

    @Test("a datagram signed by a key other than the certificate's is rejected as bad_signature")
    func wrongSigningKey() throws {
        let node = fixture.node("a", serial: 10)
        let impostor = SigningKey.generate()
        var sealer = EnvelopeSealer(
            signer: impostor, certificate: node.certificate, sender: Fixture.suite.nodeID(of: node.key.publicKey),
            epoch: 1)
        var opener = fixture.opener()
        let bytes = try sealer.seal(frames, attachingCertificate: true, at: Fixture.instant)
        #expect(opener.open(bytes, at: Fixture.instant).failure == .badSignature)
    }

    @Test("the same datagram twice is rejected as replay")
    func replay() throws {
        var opener = fixture.opener()
        let bytes = try seal(fixture.node("a", serial: 10))
        #expect(throws: Never.self) { try opener.open(bytes, at: Fixture.instant).get() }
        #expect(opener.open(bytes, at: Fixture.instant).failure == .replay)
        #expect(opener.drops[.replay] == 1)
    }

    @Test("a sequence number below the window is rejected as too_old; reordering inside it is accepted")
    func outsideWindow() throws {
        let node = fixture.node("a", serial: 10)
        var sealer = fixture.sealer(node)
        var opener = fixture.opener(window: 64)
        var sealed: [[UInt8]] = []
        for _ in 0..<100 { sealed.append(try sealer.seal([], attachingCertificate: true, at: Fixture.instant)) }
        #expect(throws: Never.self) { try opener.open(sealed[99], at: Fixture.instant).get() }
        #expect(throws: Never.self) { try opener.open(sealed[50], at: Fixture.instant).get() }
        #expect(opener.open(sealed[35], at: Fixture.instant).failure == .tooOld)
        #expect(opener.open(sealed[50], at: Fixture.instant).failure == .replay)
    }

    @Test("a restarted sender (newer epoch) is accepted from sequence 0; an older epoch is too_old")
    func epochs() throws {
        let node = fixture.node("a", serial: 10)
        var opener = fixture.opener()
        let before = try seal(node, sequenceSkip: 5, epoch: 1)
        let after = try seal(node, epoch: 2)
        #expect(throws: Never.self) { try opener.open(before, at: Fixture.instant).get() }
        #expect(throws: Never.self) { try opener.open(after, at: Fixture.instant).get() }
        let stale = try seal(node, sequenceSkip: 6, epoch: 1)
        #expect(opener.open(stale, at: Fixture.instant).failure == .tooOld)
    }

    @Test("100,000 random and mutated datagrams decode without a trap and none is accepted")
    func fuzzNoTrap() throws {
        let node = fixture.node("a", serial: 10)
        let valid = try seal(node)
        var opener = fixture.opener()
        var generator = SplitMix(seed: 0x5EED)
        var accepted = 0
        for round in 0..<100_000 {
            var bytes: [UInt8]
            switch round % 4 {
            case 0:
                bytes = (0..<Int.random(in: 0...1300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1:
                bytes = valid
                // Distinct positions, each changed to a different value: the result is never the original.
                var positions = Set<Int>()
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    positions.insert(Int.random(in: 0..<bytes.count, using: &generator))
                }
                for position in positions { bytes[position] ^= UInt8.random(in: 1...255, using: &generator) }
            case 2:
                // A valid header with garbage after it: exercises the certificate and frame parsers.
                bytes = Array(valid[0..<EnvelopeHeader.byteCount])
                bytes += (0..<Int.random(in: 0...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let length = UInt32(bytes.count)
                bytes[4] = UInt8(length >> 24)
                bytes[5] = UInt8(truncatingIfNeeded: length >> 16)
                bytes[6] = UInt8(truncatingIfNeeded: length >> 8)
                bytes[7] = UInt8(truncatingIfNeeded: length)
            default:
                bytes = Array(valid.prefix(Int.random(in: 0..<valid.count, using: &generator)))
                bytes += (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            if case .success = opener.open(bytes, at: Fixture.instant) { accepted += 1 }
        }
        #expect(accepted == 0)
        #expect(opener.drops.total == 100_000)
    }
}

/// A small seeded generator for reproducible test inputs.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
