import CSodium

/// The few libsodium calls BitDrizzle uses, with lengths checked before any byte is touched.
enum Sodium {
    /// `sodium_init()` runs once, before the first call that needs it.
    static let isReady: Bool = sodium_init() >= 0

    static let seedByteCount = Int(crypto_sign_SEEDBYTES)
    static let secretKeyByteCount = Int(crypto_sign_SECRETKEYBYTES)

    /// The Ed25519 key pair (public key, libsodium's 64-byte secret key) derived from a 32-byte seed.
    static func keyPair(seed: [UInt8]) -> (publicKey: [UInt8], secretKey: [UInt8])? {
        guard isReady, seed.count == seedByteCount else { return nil }
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: secretKeyByteCount)
        let status = crypto_sign_seed_keypair(&publicKey, &secretKey, seed)
        return status == 0 ? (publicKey, secretKey) : nil
    }

    /// `count` bytes from the operating system's secure random source.
    static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(isReady, "libsodium failed to initialise")
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
        }
        return bytes
    }

    /// Detached Ed25519 signature of `message` with a 64-byte libsodium secret key.
    static func sign(_ message: UnsafeRawBufferPointer, secretKey: UnsafeRawBufferPointer) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        guard isReady, secretKey.count == secretKeyByteCount,
            let keyBase = secretKey.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return signature }
        var empty: UInt8 = 0
        signature.withUnsafeMutableBufferPointer { out in
            guard let outBase = out.baseAddress else { return }
            if let messageBase = message.baseAddress?.assumingMemoryBound(to: UInt8.self) {
                _ = crypto_sign_detached(outBase, nil, messageBase, UInt64(message.count), keyBase)
            } else {
                _ = crypto_sign_detached(outBase, nil, &empty, 0, keyBase)
            }
        }
        return signature
    }

    /// True when `signature` is a valid detached Ed25519 signature; false for any wrong length.
    static func verify(
        _ signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, publicKey: UnsafeRawBufferPointer
    ) -> Bool {
        guard isReady, signature.count == Int(crypto_sign_BYTES), publicKey.count == Int(crypto_sign_PUBLICKEYBYTES),
            let signatureBase = signature.baseAddress, let keyBase = publicKey.baseAddress
        else { return false }
        return crypto_sign_verify_detached(
            signatureBase.assumingMemoryBound(to: UInt8.self),
            message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
            keyBase.assumingMemoryBound(to: UInt8.self)) == 0
    }

    /// BLAKE2b (`crypto_generichash`) with an output of `length` bytes (16 to 64).
    static func genericHash(_ bytes: UnsafeRawBufferPointer, length: Int) -> [UInt8] {
        precondition(isReady, "libsodium failed to initialise")
        var out = [UInt8](repeating: 0, count: length)
        _ = crypto_generichash(
            &out, length, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count), nil, 0)
        return out
    }
}
