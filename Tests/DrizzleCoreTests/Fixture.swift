import DrizzleCore
import DrizzleCrypto

/// An in-memory cluster identity for tests: one CA, node keys and certificates, and a trust store.
struct Fixture {
    static let suite = SodiumSuite()
    /// 2026-01-01T00:00:00Z, the "now" of these tests.
    static let now: Int64 = 1_767_225_600

    let caKey = SigningKey.generate()
    let ca: Certificate

    init() {
        var ca = Certificate(
            kind: .authority, serial: 1, name: "test-ca", publicKey: caKey.publicKey, notBefore: Fixture.now - 86_400,
            notAfter: Fixture.now + 10 * 86_400 * 365, issuer: Fixture.suite.keyID(of: caKey.publicKey))
        ca.sign(with: caKey)
        self.ca = ca
    }

    /// A node certificate for a fresh key, valid from `notBefore` to `notAfter` (offsets from `now`).
    func node(
        _ name: String, serial: UInt64, from notBefore: Int64 = -3600, to notAfter: Int64 = 86_400,
        signedBy issuer: SigningKey? = nil, issuerID: KeyID? = nil
    ) -> (key: SigningKey, certificate: Certificate) {
        let key = SigningKey.generate()
        var certificate = Certificate(
            kind: .node, serial: serial, name: name, publicKey: key.publicKey, notBefore: Fixture.now + notBefore,
            notAfter: Fixture.now + notAfter, issuer: issuerID ?? ca.issuer)
        certificate.sign(with: issuer ?? caKey)
        return (key, certificate)
    }

    func trust(revoking serials: Set<UInt64> = []) -> TrustStore {
        var list = RevocationList(version: 1, issuedAt: Fixture.now, issuer: ca.issuer, serials: serials)
        list.sign(with: caKey)
        do {
            return try TrustStore(authorities: [ca], revocations: list, suite: Fixture.suite)
        } catch {
            Issue.record("fixture trust store refused: \(error)")
            return TrustStore()
        }
    }

    func sealer(_ node: (key: SigningKey, certificate: Certificate), epoch: UInt32 = 1, maximumLength: Int = 1200)
        -> EnvelopeSealer<SigningKey>
    {
        EnvelopeSealer(
            signer: node.key, certificate: node.certificate, sender: Fixture.suite.nodeID(of: node.key.publicKey),
            epoch: epoch, maximumLength: maximumLength)
    }

    func opener(_ trust: TrustStore? = nil, window: Int = 1024) -> EnvelopeOpener<SodiumSuite> {
        EnvelopeOpener(suite: Fixture.suite, trust: trust ?? self.trust(), replayWindowSize: window)
    }

    static var instant: Instant { Instant(unixSeconds: now) }
}

import Testing

extension Result {
    /// The failure, or `nil` on success.
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
