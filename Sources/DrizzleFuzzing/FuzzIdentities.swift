import DrizzleCore
import DrizzleCrypto

/// A fixed cluster identity for the fuzz targets: one CA, three node keys from constant seeds (so
/// every run of an input behaves the same), a revoked fourth, and a trust store that has already
/// admitted the first node. Built once per process.
struct FuzzIdentities: Sendable {
    static let shared = FuzzIdentities()
    static let suite = SodiumSuite()
    /// 2026-06-01T00:00:00Z: every certificate here is valid then.
    static let now = Instant(unixSeconds: 1_780_272_000)

    let authorityKey: SigningKey
    let authority: Certificate
    /// Nodes 0–2 are in good standing; node 3's serial is revoked.
    let nodes: [(key: SigningKey, certificate: Certificate)]
    let revocations: RevocationList
    /// Trusts the CA, applies the revocations, and has admitted node 0.
    let trust: TrustStore

    private init() {
        let suite = Self.suite
        let start = Self.now.unixSeconds - 86_400
        let authorityKey = Self.key(0)
        var authority = Certificate(
            kind: .authority, serial: 1, name: "fuzz-ca", publicKey: authorityKey.publicKey, notBefore: start,
            notAfter: start + 400 * 86_400, issuer: suite.keyID(of: authorityKey.publicKey))
        authority.sign(with: authorityKey)
        var nodes: [(key: SigningKey, certificate: Certificate)] = []
        for index in 0..<4 {
            let key = Self.key(UInt8(index + 1))
            var certificate = Certificate(
                kind: .node, serial: UInt64(index + 2), name: "fuzz-\(index)", publicKey: key.publicKey,
                notBefore: start, notAfter: start + 30 * 86_400, issuer: authority.issuer)
            certificate.sign(with: authorityKey)
            nodes.append((key, certificate))
        }
        var revocations = RevocationList(
            version: 1, issuedAt: start, issuer: authority.issuer, serials: [nodes[3].certificate.serial])
        revocations.sign(with: authorityKey)
        var trust = TrustStore()
        try? trust.trust(authority, suite: suite)
        try? trust.apply(revocations, suite: suite)
        _ = trust.admit(nodes[0].certificate, at: Self.now, suite: suite)
        self.authorityKey = authorityKey
        self.authority = authority
        self.nodes = nodes
        self.revocations = revocations
        self.trust = trust
    }

    /// The key whose seed is 32 copies of `byte`.
    private static func key(_ byte: UInt8) -> SigningKey {
        SigningKey(seed: Array(repeating: byte &+ 0x40, count: 32)) ?? SigningKey.generate()
    }

    /// The key of the node an envelope's header names as its sender (bytes 8–23), or node 0's.
    func key(claimedBy envelope: [UInt8]) -> SigningKey {
        var reader = ByteReader(envelope)
        if reader.skip(8) != nil, let high = reader.readUInt64(), let low = reader.readUInt64() {
            let sender = NodeID(high: high, low: low)
            if let node = nodes.first(where: { Self.suite.nodeID(of: $0.key.publicKey) == sender }) { return node.key }
        }
        return nodes[0].key
    }

    func sealer(_ index: Int) -> EnvelopeSealer<SigningKey> {
        EnvelopeSealer(
            signer: nodes[index].key, certificate: nodes[index].certificate,
            sender: Self.suite.nodeID(of: nodes[index].key.publicKey), epoch: 7, maximumLength: 1 << 16)
    }
}
