public import DrizzleCore

/// The `--no-crypto` suite for very large simulations: every signature is accepted and ids are
/// derived without hashing. The envelope is still encoded and decoded byte for byte.
public struct NullSuite: CryptoSuite {
    public init() {}

    public func isValidSignature(
        _ signature: UnsafeRawBufferPointer, of message: UnsafeRawBufferPointer, by publicKey: PublicKey
    ) -> Bool { signature.count == signatureByteCount }

    /// The first 16 bytes of the input (zero-padded): unique for the random keys the simulator makes.
    public func digest128(_ bytes: UnsafeRawBufferPointer) -> NodeID {
        var padded = Array(bytes.prefix(NodeID.byteCount))
        padded += Array(repeating: 0, count: NodeID.byteCount - padded.count)
        return NodeID(bytes: padded) ?? NodeID(high: 0, low: 0)
    }
}

/// Signs with 64 zero bytes (`--no-crypto`).
public struct NullSigner: MessageSigner {
    public let publicKey: PublicKey

    public init(publicKey: PublicKey) { self.publicKey = publicKey }

    public func signature(of message: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](repeating: 0, count: signatureByteCount)
    }
}
