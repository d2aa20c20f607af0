import CSodium
public import DrizzleCore

/// BLAKE2b-128 computed piece by piece (`crypto_generichash_init/update/final`), so a file of
/// hundreds of megabytes is hashed without being held in memory. Equal to `SodiumSuite().digest128`
/// of the concatenated bytes, however they were split.
///
/// Not copyable: it owns libsodium's hash state (allocated 64-byte aligned, as libsodium declares it).
public struct StreamingDigest: ~Copyable, @unchecked Sendable {
    // Unchecked: the state is owned by this one value (it cannot be copied), so moving it between
    // tasks is safe.
    private let state: UnsafeMutableRawPointer

    /// A digest of no bytes yet.
    public init() {
        precondition(Sodium.isReady, "libsodium failed to initialise")
        state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        _ = crypto_generichash_init(statePointer, nil, 0, NodeID.byteCount)
    }

    deinit { state.deallocate() }

    /// Swift sees libsodium's 64-byte aligned state type only as an opaque pointer.
    private var statePointer: OpaquePointer { OpaquePointer(state) }

    /// Adds `bytes` to the hashed input.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        _ = crypto_generichash_update(statePointer, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    /// Adds `bytes` to the hashed input.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The BLAKE2b-128 of everything added.
    public consuming func finish() -> NodeID {
        var out = [UInt8](repeating: 0, count: NodeID.byteCount)
        _ = crypto_generichash_final(statePointer, &out, NodeID.byteCount)
        return NodeID(bytes: out) ?? NodeID(high: 0, low: 0)
    }
}
