/// The CA-signed list of revoked certificates (by serial) and keys (by public key), with a
/// version that increases with every change. Nodes keep the newest list they can verify and
/// drop traffic from anything on it at once.
public struct RevocationList: Hashable, Sendable {
    public static let magic: [UInt8] = Array("DRZR".utf8)
    public static let formatVersion: UInt8 = 1
    /// The most entries of each kind a decoded list may hold (bounds what a hostile list allocates).
    public static let maximumEntries = 100_000

    /// Increases with every change; a node replaces its list only by a higher version.
    public var version: UInt64
    /// Seconds since the Unix epoch when the list was signed.
    public var issuedAt: Int64
    public var issuer: KeyID
    public var serials: Set<UInt64>
    public var publicKeys: Set<PublicKey>
    public var signature: [UInt8]

    public init(
        version: UInt64, issuedAt: Int64, issuer: KeyID, serials: Set<UInt64> = [],
        publicKeys: Set<PublicKey> = [], signature: [UInt8] = []
    ) {
        self.version = version
        self.issuedAt = issuedAt
        self.issuer = issuer
        self.serials = serials
        self.publicKeys = publicKeys
        self.signature = signature
    }

    /// True when the list revokes `certificate`, by its serial or by its key.
    public func revokes(_ certificate: Certificate) -> Bool {
        serials.contains(certificate.serial) || publicKeys.contains(certificate.publicKey)
    }

    /// The bytes the issuer signs. Entries are written sorted so the encoding is canonical.
    public var signedBytes: [UInt8] {
        var writer = ByteWriter(capacity: 64 + serials.count * 8 + publicKeys.count * 32)
        writer.write(bytes: RevocationList.magic)
        writer.write(RevocationList.formatVersion)
        writer.write(version)
        writer.write(issuedAt)
        writer.write(issuer.value)
        writer.write(UInt32(serials.count))
        for serial in serials.sorted() { writer.write(serial) }
        writer.write(UInt32(publicKeys.count))
        for key in publicKeys.map(\.bytes).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            writer.write(bytes: key)
        }
        return writer.bytes
    }

    public var encoded: [UInt8] { signedBytes + signature }

    public mutating func sign(with issuerKey: some MessageSigner) {
        signature = issuerKey.signature(of: signedBytes)
    }

    /// Why bytes are not a revocation list.
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case truncated
        case badMagic
        case unsupportedVersion(UInt8)
        case tooManyEntries(UInt32)
        case trailingBytes(Int)

        public var description: String {
            switch self {
            case .truncated: "revocation list is truncated"
            case .badMagic: "not a BitDrizzle revocation list (bad magic)"
            case .unsupportedVersion(let version): "unsupported revocation list format \(version)"
            case .tooManyEntries(let count): "revocation list claims \(count) entries, more than \(maximumEntries)"
            case .trailingBytes(let count): "\(count) unexpected bytes after the revocation list"
            }
        }
    }

    /// Decodes a whole list from `bytes`, rejecting trailing bytes.
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = ByteReader(bytes)
        try self.init(reading: &reader)
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
    }

    /// Decodes one list at the reader's position and advances past it.
    public init(reading reader: inout ByteReader) throws(DecodingError) {
        guard let magic = reader.readBytes(4) else { throw .truncated }
        guard magic == RevocationList.magic else { throw .badMagic }
        guard let format = reader.readUInt8() else { throw .truncated }
        guard format == RevocationList.formatVersion else { throw .unsupportedVersion(format) }
        guard let version = reader.readUInt64(), let issuedAt = reader.readInt64(), let issuer = reader.readUInt64(),
            let serialCount = reader.readUInt32()
        else { throw .truncated }
        guard serialCount <= RevocationList.maximumEntries else { throw .tooManyEntries(serialCount) }
        guard reader.remaining >= Int(serialCount) * 8 else { throw .truncated }
        var serials = Set<UInt64>(minimumCapacity: Int(serialCount))
        for _ in 0..<serialCount {
            guard let serial = reader.readUInt64() else { throw .truncated }
            serials.insert(serial)
        }
        guard let keyCount = reader.readUInt32() else { throw .truncated }
        guard keyCount <= RevocationList.maximumEntries else { throw .tooManyEntries(keyCount) }
        guard reader.remaining >= Int(keyCount) * PublicKey.byteCount else { throw .truncated }
        var keys = Set<PublicKey>(minimumCapacity: Int(keyCount))
        for _ in 0..<keyCount {
            guard let bytes = reader.readBytes(PublicKey.byteCount), let key = PublicKey(bytes: bytes) else {
                throw .truncated
            }
            keys.insert(key)
        }
        guard let signature = reader.readBytes(signatureByteCount) else { throw .truncated }
        self.init(
            version: version, issuedAt: issuedAt, issuer: KeyID(issuer), serials: serials, publicKeys: keys,
            signature: signature)
    }
}
