/// A certificate binds a name and an Ed25519 public key to a serial and a validity period,
/// signed by a certificate authority. A CA certificate is the same structure, self-signed.
///
/// The byte layout is in docs/protocol.md ("Certificate"). Decoding checks every length first and
/// never traps; it does not check the signature (that is `TrustStore`'s job).
public struct Certificate: Hashable, Sendable {
    /// What the certificate is for.
    public enum Kind: UInt8, Sendable {
        case authority = 0
        case node = 1
    }

    public static let magic: [UInt8] = Array("DRZC".utf8)
    /// Version 1: the ring id is the hash of the public key. Version 2 adds an explicit ring id
    /// (a rotated key keeps the node's id; docs/keys.md).
    public static let version: UInt8 = 1
    public static let versionWithRingID: UInt8 = 2
    public static let maximumNameLength = 64
    public static let maximumAddressCount = 16

    public var kind: Kind
    public var serial: UInt64
    public var name: String
    public var publicKey: PublicKey
    /// Seconds since the Unix epoch.
    public var notBefore: Int64
    /// Seconds since the Unix epoch; the certificate is valid up to and including this second.
    public var notAfter: Int64
    public var issuer: KeyID
    /// Addresses (`host:port`) the holder may send from; empty means any.
    public var addresses: [String]
    /// The ring id this key speaks for, when it is not the key's own hash: set by `drizzle-keys
    /// rotate`, so that a node's id, ring position and data survive a new key. Nil for a node's
    /// first certificate and for CAs.
    public var ringID: NodeID?
    /// The issuer's signature over `signedBytes`.
    public var signature: [UInt8]

    public init(
        kind: Kind, serial: UInt64, name: String, publicKey: PublicKey, notBefore: Int64, notAfter: Int64,
        issuer: KeyID, addresses: [String] = [], ringID: NodeID? = nil, signature: [UInt8] = []
    ) {
        self.kind = kind
        self.serial = serial
        self.name = name
        self.publicKey = publicKey
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.issuer = issuer
        self.addresses = addresses
        self.ringID = ringID
        self.signature = signature
    }

    /// The node id of the holder: `ringID` if the certificate names one, else the hash of the key.
    public func nodeID(suite: some CryptoSuite) -> NodeID { ringID ?? suite.nodeID(of: publicKey) }

    /// True when `name` may appear in a certificate: 1 to 64 characters from `A-Z a-z 0-9 . _ -`.
    public static func isValidName(_ name: String) -> Bool {
        let utf8 = Array(name.utf8)
        guard (1...maximumNameLength).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }

    /// The bytes the issuer signs: everything but the signature.
    public var signedBytes: [UInt8] {
        var writer = ByteWriter(capacity: 160)
        writer.write(bytes: Certificate.magic)
        writer.write(ringID == nil ? Certificate.version : Certificate.versionWithRingID)
        writer.write(kind.rawValue)
        writer.write(serial)
        writer.write(bytes: publicKey.bytes)
        writer.write(notBefore)
        writer.write(notAfter)
        writer.write(issuer.value)
        let nameBytes = Array(name.utf8.prefix(Certificate.maximumNameLength))
        writer.write(UInt8(nameBytes.count))
        writer.write(bytes: nameBytes)
        let listed = addresses.prefix(Certificate.maximumAddressCount)
        writer.write(UInt8(listed.count))
        for address in listed {
            let addressBytes = Array(address.utf8.prefix(255))
            writer.write(UInt8(addressBytes.count))
            writer.write(bytes: addressBytes)
        }
        if let ringID {
            writer.write(ringID.high)
            writer.write(ringID.low)
        }
        return writer.bytes
    }

    /// The whole certificate: `signedBytes` followed by the 64-byte signature.
    public var encoded: [UInt8] { signedBytes + signature }

    /// Signs the certificate with the issuer's key, setting `signature`.
    public mutating func sign(with issuerKey: some MessageSigner) {
        signature = issuerKey.signature(of: signedBytes)
    }

    /// Why bytes are not a certificate.
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case truncated
        case badMagic
        case unsupportedVersion(UInt8)
        case unknownKind(UInt8)
        case badName
        case badAddress
        case trailingBytes(Int)

        public var description: String {
            switch self {
            case .truncated: "certificate is truncated"
            case .badMagic: "not a BitDrizzle certificate (bad magic)"
            case .unsupportedVersion(let version): "unsupported certificate version \(version)"
            case .unknownKind(let kind): "unknown certificate kind \(kind)"
            case .badName: "certificate name is empty, too long or has characters outside A-Z a-z 0-9 . _ -"
            case .badAddress: "certificate address is not UTF-8 text"
            case .trailingBytes(let count): "\(count) unexpected bytes after the certificate"
            }
        }
    }

    /// Decodes a whole certificate from `bytes`, rejecting trailing bytes.
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = ByteReader(bytes)
        try self.init(reading: &reader)
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
    }

    /// Decodes one certificate starting at the reader's position and advances past it.
    public init(reading reader: inout ByteReader) throws(DecodingError) {
        guard let magic = reader.readBytes(4) else { throw .truncated }
        guard magic == Certificate.magic else { throw .badMagic }
        guard let version = reader.readUInt8() else { throw .truncated }
        guard version == Certificate.version || version == Certificate.versionWithRingID else {
            throw .unsupportedVersion(version)
        }
        guard let kindByte = reader.readUInt8() else { throw .truncated }
        guard let kind = Kind(rawValue: kindByte) else { throw .unknownKind(kindByte) }
        guard let serial = reader.readUInt64(),
            let keyBytes = reader.readBytes(PublicKey.byteCount), let publicKey = PublicKey(bytes: keyBytes),
            let notBefore = reader.readInt64(), let notAfter = reader.readInt64(),
            let issuer = reader.readUInt64(),
            let nameLength = reader.readUInt8(), let nameBytes = reader.readBytes(Int(nameLength))
        else { throw .truncated }
        guard let name = String(validating: nameBytes, as: UTF8.self), Certificate.isValidName(name) else {
            throw .badName
        }
        guard let addressCount = reader.readUInt8() else { throw .truncated }
        guard addressCount <= Certificate.maximumAddressCount else { throw .badAddress }
        var addresses: [String] = []
        for _ in 0..<addressCount {
            guard let length = reader.readUInt8(), let addressBytes = reader.readBytes(Int(length)) else {
                throw .truncated
            }
            guard let address = String(validating: addressBytes, as: UTF8.self), !address.isEmpty else {
                throw .badAddress
            }
            addresses.append(address)
        }
        var ringID: NodeID?
        if version == Certificate.versionWithRingID {
            guard let high = reader.readUInt64(), let low = reader.readUInt64() else { throw .truncated }
            ringID = NodeID(high: high, low: low)
        }
        guard let signature = reader.readBytes(signatureByteCount) else { throw .truncated }
        self.init(
            kind: kind, serial: serial, name: name, publicKey: publicKey, notBefore: notBefore,
            notAfter: notAfter, issuer: KeyID(issuer), addresses: addresses, ringID: ringID, signature: signature)
    }
}
