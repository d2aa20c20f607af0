public import DrizzleCore
public import DrizzleCrypto

/// A simulated cluster's identities: one CA and a certificate per node, with real Ed25519 keys
/// derived from the seed (signed runs) or null keys (`--no-crypto`). Shared, read-only, by every node.
public final class SimDirectory<Signer: MessageSigner>: Sendable {
    /// Node ids by simulator index.
    public let ids: [NodeID]
    public let index: [NodeID: Int]
    public let signers: [Signer]
    public let certificates: [Certificate]
    public let authority: Certificate

    init(ids: [NodeID], signers: [Signer], certificates: [Certificate], authority: Certificate) {
        self.ids = ids
        self.signers = signers
        self.certificates = certificates
        self.authority = authority
        var index: [NodeID: Int] = [:]
        index.reserveCapacity(ids.count)
        for (position, id) in ids.enumerated() { index[id] = position }
        self.index = index
    }

    public var count: Int { ids.count }

    /// Node `position`'s authenticated transport: its key and certificate, trusting the simulated CA.
    public func link<Suite: CryptoSuite>(
        for position: Int, suite: Suite, datagramLimit: Int = 1200, epoch: UInt32 = 1
    ) -> EnvelopeLink<Signer, Suite, Int> {
        let sealer = EnvelopeSealer(
            signer: signers[position], certificate: certificates[position], sender: ids[position], epoch: epoch,
            maximumLength: datagramLimit)
        var trust = TrustStore()
        try? trust.trust(authority, suite: suite)
        let streamLimit = EnvelopeHeader.streamLimit
        return EnvelopeLink(
            sealer: sealer, opener: EnvelopeOpener(suite: suite, trust: trust, maximumLength: streamLimit),
            datagramLimit: datagramLimit, streamLimit: streamLimit)
    }
}

/// Builds simulated identities.
public enum SimIdentities {
    static let validity: Int64 = 10 * 365 * 86_400

    /// Real keys and CA signatures: every datagram of the run is signed and verified.
    public static func signed(count: Int, random: inout SimRandom, now: Instant) -> SimDirectory<SigningKey> {
        let suite = SodiumSuite()
        let keys = (0...count).map { _ in SigningKey(seed: random.bytes(32)) ?? SigningKey.generate() }
        return build(keys: keys, suite: suite, now: now) { certificate, issuer in certificate.sign(with: issuer) }
    }

    /// Null keys: signatures are 64 zero bytes and accepted unchecked (`--no-crypto`).
    public static func unsigned(count: Int, random: inout SimRandom, now: Instant) -> SimDirectory<NullSigner> {
        let keys = (0...count).compactMap { _ in PublicKey(bytes: random.bytes(32)).map(NullSigner.init) }
        return build(keys: keys, suite: NullSuite(), now: now) { certificate, _ in
            certificate.signature = Array(repeating: 0, count: signatureByteCount)
        }
    }

    /// `keys[0]` is the CA's, the rest the nodes'.
    private static func build<Signer: MessageSigner>(
        keys: [Signer], suite: some CryptoSuite, now: Instant, sign: (inout Certificate, Signer) -> Void
    ) -> SimDirectory<Signer> {
        let caKey = keys[0]
        let start = now.unixSeconds - 60
        var authority = Certificate(
            kind: .authority, serial: 1, name: "sim-ca", publicKey: caKey.publicKey, notBefore: start,
            notAfter: start + validity, issuer: suite.keyID(of: caKey.publicKey))
        sign(&authority, caKey)
        var certificates: [Certificate] = []
        var ids: [NodeID] = []
        for (position, key) in keys.dropFirst().enumerated() {
            var certificate = Certificate(
                kind: .node, serial: UInt64(position + 2), name: "sim-\(position)", publicKey: key.publicKey,
                notBefore: start, notAfter: start + validity, issuer: authority.issuer)
            sign(&certificate, caKey)
            certificates.append(certificate)
            ids.append(suite.nodeID(of: key.publicKey))
        }
        return SimDirectory(ids: ids, signers: Array(keys.dropFirst()), certificates: certificates, authority: authority)
    }
}
