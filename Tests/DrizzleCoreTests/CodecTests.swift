import DrizzleCore
import DrizzleCrypto
import Testing

@Suite("Certificate and revocation list codecs")
struct CodecTests {
    let fixture = Fixture()

    @Test("a certificate survives encode and decode, addresses included")
    func certificateRoundTrip() throws {
        var (_, certificate) = fixture.node("node-7", serial: 0xDEAD_BEEF)
        certificate.addresses = ["127.0.0.1:40000", "[::1]:40000"]
        certificate.sign(with: fixture.caKey)
        #expect(try Certificate(decoding: certificate.encoded) == certificate)
    }

    @Test("a certificate naming a ring id is version 2, round-trips, and speaks for that id; without one, version 1 and the key's hash")
    func certificateRingID() throws {
        var (_, certificate) = fixture.node("rotated", serial: 9)
        #expect(certificate.encoded[4] == Certificate.version)
        #expect(certificate.nodeID(suite: Fixture.suite) == Fixture.suite.nodeID(of: certificate.publicKey))
        let ringID = NodeID(high: 0x0123_4567_89AB_CDEF, low: 42)
        certificate.ringID = ringID
        certificate.sign(with: fixture.caKey)
        #expect(certificate.encoded[4] == Certificate.versionWithRingID)
        let decoded = try Certificate(decoding: certificate.encoded)
        #expect(decoded == certificate)
        #expect(decoded.nodeID(suite: Fixture.suite) == ringID)
        for length in 0..<certificate.encoded.count {
            #expect(throws: Certificate.DecodingError.truncated) { try Certificate(decoding: Array(certificate.encoded[0..<length])) }
        }
    }

    @Test("every truncation of a certificate is refused as truncated")
    func certificateTruncations() {
        let encoded = fixture.ca.encoded
        for length in 0..<encoded.count {
            #expect(throws: Certificate.DecodingError.truncated) { try Certificate(decoding: Array(encoded[0..<length])) }
        }
    }

    @Test("bytes after a certificate, a bad magic and a bad name are refused")
    func certificateGarbage() {
        let encoded = fixture.ca.encoded
        #expect(throws: Certificate.DecodingError.trailingBytes(1)) { try Certificate(decoding: encoded + [0]) }
        var badMagic = encoded
        badMagic[0] = 0
        #expect(throws: Certificate.DecodingError.badMagic) { try Certificate(decoding: badMagic) }
        var badName = encoded
        badName[71] = UInt8(ascii: "/")
        #expect(throws: Certificate.DecodingError.badName) { try Certificate(decoding: badName) }
    }

    @Test("names are limited to 1-64 characters of A-Z a-z 0-9 . _ -")
    func names() {
        #expect(Certificate.isValidName("node-1.example_a"))
        #expect(!Certificate.isValidName(""))
        #expect(!Certificate.isValidName(String(repeating: "a", count: 65)))
        #expect(!Certificate.isValidName("a/b"))
        #expect(!Certificate.isValidName("ä"))
    }

    @Test("a revocation list survives encode and decode and its encoding is canonical")
    func revocationRoundTrip() throws {
        let keys = (0..<3).map { _ in SigningKey.generate().publicKey }
        var list = RevocationList(
            version: 9, issuedAt: Fixture.now, issuer: fixture.ca.issuer, serials: [5, 1, 3], publicKeys: Set(keys))
        list.sign(with: fixture.caKey)
        let decoded = try RevocationList(decoding: list.encoded)
        #expect(decoded == list)
        #expect(decoded.encoded == list.encoded)
    }

    @Test("a revocation list claiming a huge count is refused before allocating")
    func revocationHugeCount() {
        var writer = ByteWriter()
        writer.write(bytes: RevocationList.magic)
        writer.write(RevocationList.formatVersion)
        writer.write(UInt64(1))
        writer.write(Int64(0))
        writer.write(UInt64(0))
        writer.write(UInt32.max)
        #expect(throws: RevocationList.DecodingError.tooManyEntries(UInt32.max)) {
            try RevocationList(decoding: writer.bytes)
        }
    }

    @Test("a trust store takes only newer revocation lists signed by a trusted CA")
    func revocationAcceptance() throws {
        var trust = fixture.trust()
        var older = RevocationList(version: 1, issuedAt: Fixture.now, issuer: fixture.ca.issuer, serials: [1])
        older.sign(with: fixture.caKey)
        #expect(throws: TrustStore.Refusal.notNewer(have: 1, offered: 1)) { try trust.apply(older, suite: Fixture.suite) }
        var tampered = RevocationList(version: 2, issuedAt: Fixture.now, issuer: fixture.ca.issuer, serials: [1])
        tampered.sign(with: fixture.caKey)
        tampered.serials.insert(2)
        #expect(throws: TrustStore.Refusal.badSignature) { try trust.apply(tampered, suite: Fixture.suite) }
        let other = Fixture()
        var foreign = RevocationList(version: 5, issuedAt: Fixture.now, issuer: other.ca.issuer)
        foreign.sign(with: other.caKey)
        #expect(throws: TrustStore.Refusal.untrustedIssuer(other.ca.issuer)) {
            try trust.apply(foreign, suite: Fixture.suite)
        }
    }

    @Test("node ids print as 32 upper-case hex digits and parse back")
    func nodeIDText() throws {
        let id = NodeID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        #expect(id.description == "0123456789ABCDEFFEDCBA9876543210")
        #expect(NodeID(hex: "0123456789abcdeffedcba9876543210") == id)
        #expect(NodeID(hex: "0123") == nil)
        #expect(NodeID(hex: "zz23456789abcdeffedcba9876543210") == nil)
    }

    @Test("the node id is BLAKE2b-128 of the public key")
    func nodeIDIsBlake2b() {
        // libsodium's crypto_generichash of the empty input with a 16-byte output.
        let empty = [UInt8]().withUnsafeBytes { Fixture.suite.digest128($0) }
        #expect(empty.description == "CAE66941D9EFBD404E4D88758EA67670")
    }
}

@Suite("Replay window")
struct ReplayWindowTests {
    let sender = NodeID(high: 1, low: 2)

    @Test("each sequence number is accepted once, in any order within the window")
    func acceptsOnce() {
        var window = ReplayWindow(size: 128)
        for sequence in (0..<128).reversed().map(UInt64.init) where sequence % 3 == 0 {
            #expect(window.accept(sender: sender, epoch: 1, sequence: sequence + 200) == nil)
        }
        #expect(window.accept(sender: sender, epoch: 1, sequence: 203) == .replay)
        #expect(window.accept(sender: sender, epoch: 1, sequence: 204) == nil)
    }

    @Test("a jump beyond the window clears it, and numbers below the window are too old")
    func jump() {
        var window = ReplayWindow(size: 64)
        #expect(window.accept(sender: sender, epoch: 1, sequence: 5) == nil)
        #expect(window.accept(sender: sender, epoch: 1, sequence: 1_000) == nil)
        #expect(window.accept(sender: sender, epoch: 1, sequence: 5) == .tooOld)
        #expect(window.accept(sender: sender, epoch: 1, sequence: 937) == nil)
        #expect(window.accept(sender: sender, epoch: 1, sequence: 936) == .tooOld)
    }

    @Test("senders are independent")
    func independent() {
        var window = ReplayWindow()
        #expect(window.accept(sender: sender, epoch: 1, sequence: 7) == nil)
        #expect(window.accept(sender: NodeID(high: 9, low: 9), epoch: 1, sequence: 7) == nil)
        #expect(window.senderCount == 2)
    }
}
