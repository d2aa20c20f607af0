public import DrizzleCore

/// An Ed25519 secret key held in memory, able to sign for its identity.
public struct SigningKey: MessageSigner, Sendable {
    /// The 32-byte seed the key pair is derived from (what key files store).
    public let seed: [UInt8]
    public let publicKey: PublicKey
    private let secretKey: [UInt8]

    /// Derives the key pair from a 32-byte seed; `nil` for any other length.
    public init?(seed: [UInt8]) {
        guard let pair = Sodium.keyPair(seed: seed), let publicKey = PublicKey(bytes: pair.publicKey) else {
            return nil
        }
        self.seed = seed
        self.publicKey = publicKey
        self.secretKey = pair.secretKey
    }

    /// A new key from the operating system's secure random source.
    public static func generate() -> SigningKey {
        while true {
            if let key = SigningKey(seed: Sodium.randomBytes(Sodium.seedByteCount)) { return key }
        }
    }

    public func signature(of message: UnsafeRawBufferPointer) -> [UInt8] {
        secretKey.withUnsafeBytes { Sodium.sign(message, secretKey: $0) }
    }
}

/// The libsodium implementation of the core's `CryptoSuite`: Ed25519 verification and BLAKE2b.
public struct SodiumSuite: CryptoSuite {
    public init() {}

    public func isValidSignature(
        _ signature: UnsafeRawBufferPointer, of message: UnsafeRawBufferPointer, by publicKey: PublicKey
    ) -> Bool {
        publicKey.bytes.withUnsafeBytes { Sodium.verify(signature, message: message, publicKey: $0) }
    }

    public func digest128(_ bytes: UnsafeRawBufferPointer) -> NodeID {
        let digest = Sodium.genericHash(bytes, length: NodeID.byteCount)
        return NodeID(bytes: digest) ?? NodeID(high: 0, low: 0)
    }
}

/// Secure random numbers for the things the shell (not the core) chooses: serials, epochs.
public enum SecureRandom {
    /// A uniformly random non-zero 64-bit value.
    public static func nonZeroUInt64() -> UInt64 {
        while true {
            let value = Sodium.randomBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if value != 0 { return value }
        }
    }

    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] { Sodium.randomBytes(count) }
}
