/// A node's position on the 128-bit ring: BLAKE2b-128 of its Ed25519 public key, so placement is
/// bound to identity. Printed as 32 upper-case hex digits, like the original's MD5 ids.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The high 64 bits (the first eight bytes, big-endian).
    public var high: UInt64
    /// The low 64 bits (the last eight bytes, big-endian).
    public var low: UInt64

    public static let byteCount = 16

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads an id from exactly 16 bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == NodeID.byteCount else { return nil }
        var reader = ByteReader(bytes)
        guard let high = reader.readUInt64(), let low = reader.readUInt64() else { return nil }
        self.init(high: high, low: low)
    }

    /// Parses 32 hex digits (either case).
    public init?(hex: some StringProtocol) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// The 16 bytes, big-endian.
    public var bytes: [UInt8] {
        var writer = ByteWriter(capacity: NodeID.byteCount)
        writer.write(high)
        writer.write(low)
        return writer.bytes
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    public var description: String { Hex.encode(bytes) }
}

/// An Ed25519 public key: exactly 32 bytes.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    /// `nil` unless `bytes` holds exactly 32 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == PublicKey.byteCount else { return nil }
        self.bytes = bytes
    }

    public var description: String { Hex.encode(bytes) }
}

/// The short id of a certificate authority: the first eight bytes of BLAKE2b-128 of its public key.
public struct KeyID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = 8
    public let value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// The key id of the authority holding `nodeID`'s key (its first eight bytes).
    public init(_ digest: NodeID) { value = digest.high }

    /// Parses 16 hex digits.
    public init?(hex: some StringProtocol) {
        guard let bytes = Hex.decode(hex), bytes.count == KeyID.byteCount else { return nil }
        var reader = ByteReader(bytes)
        guard let value = reader.readUInt64() else { return nil }
        self.value = value
    }

    public static func < (lhs: KeyID, rhs: KeyID) -> Bool { lhs.value < rhs.value }

    public var description: String {
        var writer = ByteWriter(capacity: 8)
        writer.write(value)
        return Hex.encode(writer.bytes)
    }
}
