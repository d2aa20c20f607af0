/// The cryptography the core needs, declared here and implemented elsewhere (DrizzleCrypto over
/// libsodium; the simulator's `--no-crypto` mode with a null suite). The core itself holds no keys
/// and calls no library.
public protocol CryptoSuite: Sendable {
    /// True when `signature` is a valid Ed25519 signature by `publicKey` over `message`.
    /// Must return false, never trap, for a signature of the wrong length.
    func isValidSignature(
        _ signature: UnsafeRawBufferPointer, of message: UnsafeRawBufferPointer, by publicKey: PublicKey
    ) -> Bool

    /// BLAKE2b with a 16-byte output.
    func digest128(_ bytes: UnsafeRawBufferPointer) -> NodeID
}

extension CryptoSuite {
    /// The ring id bound to `publicKey`.
    public func nodeID(of publicKey: PublicKey) -> NodeID {
        publicKey.bytes.withUnsafeBytes { digest128($0) }
    }

    /// The authority key id of `publicKey`.
    public func keyID(of publicKey: PublicKey) -> KeyID { KeyID(nodeID(of: publicKey)) }

    /// Checks a signature held in arrays.
    public func isValidSignature(_ signature: [UInt8], of message: [UInt8], by publicKey: PublicKey) -> Bool {
        signature.withUnsafeBytes { signatureBytes in
            message.withUnsafeBytes { isValidSignature(signatureBytes, of: $0, by: publicKey) }
        }
    }
}

/// Something that can sign for one identity: a node's or an authority's secret key.
public protocol MessageSigner: Sendable {
    /// The public half of the key.
    var publicKey: PublicKey { get }

    /// The 64-byte Ed25519 signature of `message`.
    func signature(of message: UnsafeRawBufferPointer) -> [UInt8]
}

extension MessageSigner {
    public func signature(of message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { signature(of: $0) }
    }
}

/// Ed25519 signature length in bytes.
public let signatureByteCount = 64
