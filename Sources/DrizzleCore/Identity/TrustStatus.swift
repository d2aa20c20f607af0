/// What a node holds of the cluster's keys, announced as a rumor (`RumorKind.trustStatus`) when
/// it starts, whenever it changes, and every 5 minutes: so that any node can say how many live members
/// hold each CA and each revocation-list version (prompt `KS`) during a rotation.
///
/// Layout: serial (8), not_after (8, signed), revocation-list version (8), CA count C (1, ≤ 16),
/// then C key ids (8 each). All big-endian.
public struct TrustStatus: Hashable, Sendable {
    public static let maximumAuthorities = 16

    /// The node's current certificate: serial and expiry (Unix seconds).
    public var serial: UInt64
    public var notAfter: Int64
    /// The revocation list it holds (0: none).
    public var revocationVersion: UInt64
    /// The CAs it trusts, ascending.
    public var authorities: [KeyID]

    public init(serial: UInt64, notAfter: Int64, revocationVersion: UInt64, authorities: [KeyID]) {
        self.serial = serial
        self.notAfter = notAfter
        self.revocationVersion = revocationVersion
        self.authorities = Array(authorities.sorted { $0.value < $1.value }.prefix(Self.maximumAuthorities))
    }

    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: 25 + 8 * authorities.count)
        writer.write(serial)
        writer.write(notAfter)
        writer.write(revocationVersion)
        writer.write(UInt8(authorities.count))
        for authority in authorities { writer.write(authority.value) }
        return writer.finish()
    }

    /// Decodes a whole status; nil for anything else (wrong length, too many CAs, unsorted ids).
    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard let serial = reader.readUInt64(), let notAfter = reader.readInt64(),
            let revocationVersion = reader.readUInt64(), let count = reader.readUInt8(),
            Int(count) <= Self.maximumAuthorities
        else { return nil }
        var authorities: [KeyID] = []
        for _ in 0..<count {
            guard let value = reader.readUInt64() else { return nil }
            authorities.append(KeyID(value))
        }
        guard reader.isAtEnd, authorities.map(\.value) == authorities.map(\.value).sorted() else { return nil }
        self.init(serial: serial, notAfter: notAfter, revocationVersion: revocationVersion, authorities: authorities)
    }
}
