/// What a node trusts: the CA bundle, the newest revocation list, and the node certificates it has
/// admitted so far (checked against both). Every datagram's sender is looked up here.
///
/// A value type owned by one node; the cryptography comes in through a `CryptoSuite`.
public struct TrustStore: Sendable {
    private struct PeerKey: Hashable {
        var node: NodeID
        var serial: UInt64
    }

    /// Trusted authorities by key id.
    public private(set) var authorities: [KeyID: Certificate] = [:]
    /// The newest revocation list accepted, if any.
    public private(set) var revocations: RevocationList?
    private var peers: [PeerKey: Certificate] = [:]

    /// Why an authority or revocation list was refused.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case notAnAuthority(String)
        case badSelfSignature(String)
        case untrustedIssuer(KeyID)
        case badSignature
        case notNewer(have: UInt64, offered: UInt64)

        public var description: String {
            switch self {
            case .notAnAuthority(let name): "certificate '\(name)' is not a CA certificate"
            case .badSelfSignature(let name): "CA certificate '\(name)' has an invalid self-signature (damaged file?)"
            case .untrustedIssuer(let id): "revocation list signed by CA \(id), which is not in the trust bundle"
            case .badSignature: "revocation list signature is invalid (damaged file?)"
            case .notNewer(let have, let offered): "revocation list version \(offered) is not newer than \(have)"
            }
        }
    }

    public init() {}

    /// A store trusting `authorities`, with `revocations` applied when given.
    public init(
        authorities: [Certificate], revocations: RevocationList? = nil, suite: some CryptoSuite
    ) throws(Refusal) {
        for authority in authorities { try trust(authority, suite: suite) }
        if let revocations { try apply(revocations, suite: suite) }
    }

    /// Adds a CA certificate to the bundle after checking that it is a self-signed authority.
    public mutating func trust(_ authority: Certificate, suite: some CryptoSuite) throws(Refusal) {
        guard authority.kind == .authority, suite.keyID(of: authority.publicKey) == authority.issuer else {
            throw .notAnAuthority(authority.name)
        }
        guard suite.isValidSignature(authority.signature, of: authority.signedBytes, by: authority.publicKey) else {
            throw .badSelfSignature(authority.name)
        }
        authorities[authority.issuer] = authority
    }

    /// Removes an authority from the bundle; certificates it issued stop being accepted at once.
    public mutating func distrust(_ id: KeyID) {
        authorities[id] = nil
        peers = peers.filter { $0.value.issuer != id }
    }

    /// Replaces the revocation list by a newer one signed by a trusted authority, and forgets
    /// every admitted certificate it revokes.
    public mutating func apply(_ list: RevocationList, suite: some CryptoSuite) throws(Refusal) {
        guard let authority = authorities[list.issuer] else { throw .untrustedIssuer(list.issuer) }
        guard suite.isValidSignature(list.signature, of: list.signedBytes, by: authority.publicKey) else {
            throw .badSignature
        }
        if let current = revocations, list.version <= current.version {
            throw .notNewer(have: current.version, offered: list.version)
        }
        revocations = list
        peers = peers.filter { !list.revokes($0.value) }
    }

    /// Checks a node certificate fully: issuer trusted, signature valid, within its validity
    /// period at `now`, not revoked. Returns the reason it fails, or `nil` when it holds.
    public func check(_ certificate: Certificate, at now: Instant, suite: some CryptoSuite) -> DropReason? {
        guard certificate.kind == .node else { return .badCertificate }
        guard let authority = authorities[certificate.issuer] else { return .untrustedIssuer }
        guard suite.isValidSignature(certificate.signature, of: certificate.signedBytes, by: authority.publicKey)
        else { return .badCertificate }
        return checkStanding(certificate, at: now)
    }

    /// The checks that can change over time for an already verified certificate: validity period
    /// and revocation.
    public func checkStanding(_ certificate: Certificate, at now: Instant) -> DropReason? {
        let second = now.unixSeconds
        if second < certificate.notBefore { return .notYetValid }
        if second > certificate.notAfter { return .expired }
        if revocations?.revokes(certificate) == true { return .revoked }
        if authorities[certificate.issuer] == nil { return .untrustedIssuer }
        return nil
    }

    /// Checks `certificate` and remembers it for its node id and serial.
    @discardableResult
    public mutating func admit(_ certificate: Certificate, at now: Instant, suite: some CryptoSuite) -> Result<
        NodeID, DropReason
    > {
        if let reason = check(certificate, at: now, suite: suite) { return .failure(reason) }
        let node = certificate.nodeID(suite: suite)
        peers[PeerKey(node: node, serial: certificate.serial)] = certificate
        return .success(node)
    }

    /// The admitted certificate for `node` with `serial`, if any.
    public func certificate(of node: NodeID, serial: UInt64) -> Certificate? {
        peers[PeerKey(node: node, serial: serial)]
    }

    /// The ids of admitted nodes whose certificate carries one of `keys` (a rotated node's id is
    /// not its key's hash).
    public func nodes(holding keys: Set<PublicKey>, suite: some CryptoSuite) -> Set<NodeID> {
        Set(peers.values.filter { keys.contains($0.publicKey) }.map { $0.nodeID(suite: suite) })
    }

    /// The earliest `notAfter` among admitted node certificates, nil when none is admitted.
    public var soonestPeerExpiry: Int64? { peers.values.map(\.notAfter).min() }

    /// How many node certificates are admitted.
    public var admittedCount: Int { peers.count }
}
