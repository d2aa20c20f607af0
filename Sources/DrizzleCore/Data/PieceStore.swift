/// Where a node keeps the data it holds: content-addressed blobs (pieces and manifests, each
/// under BLAKE2b-128 of its bytes) and tombstones for deleted keys.
///
/// The core never does I/O itself: the shell passes its store into every call that may touch
/// data, as it passes the random generator. The runtime's store writes files (temporary file,
/// fsync, rename); the simulator's and the tests' keep bytes in memory (`MemoryPieceStore`).
public protocol PieceStore {
    /// Every key held, in no particular order.
    var keys: [NodeID] { get }
    /// How many keys are held.
    var count: Int { get }
    /// True when `key` is held (its bytes may still be damaged; `read` returns them as stored).
    func contains(_ key: NodeID) -> Bool
    /// The bytes stored under `key` exactly as stored, or nil when missing or unreadable.
    func read(_ key: NodeID) -> [UInt8]?
    /// Stores `bytes` under `key`, durably before returning true. False when it could not be
    /// written (full disk, permissions); nothing partial is left behind.
    mutating func write(_ key: NodeID, _ bytes: [UInt8]) -> Bool
    /// Removes `key` if held.
    mutating func remove(_ key: NodeID)
    /// Records that `key` was deleted, so replicas that missed the delete drop it instead of
    /// spreading it again. Durable like `write`.
    mutating func bury(_ key: NodeID)
    /// Forgets the tombstone of `key` (it was written again on purpose).
    mutating func unbury(_ key: NodeID)
    /// True when `key` has a tombstone.
    func isBuried(_ key: NodeID) -> Bool
    /// Stores several blobs, all durably before returning; one result per blob, in order. A
    /// store on disk makes this a group commit (one flush for the batch, not one per blob).
    mutating func write(batch: [Blob]) -> [Bool]
    /// Removes several keys and leaves their tombstones, durably, with one flush for the batch.
    mutating func bury(batch: [NodeID])
    /// True when `key` was written to this node only (`WL`): replica maintenance neither copies
    /// it to other nodes nor drops it as surplus.
    func isLocalOnly(_ key: NodeID) -> Bool
    /// Marks `key` as written to this node only, or (false) as an ordinary replica. Durable.
    mutating func setLocalOnly(_ key: NodeID, _ localOnly: Bool)
}

extension PieceStore {
    public mutating func write(batch: [Blob]) -> [Bool] { batch.map { write($0.key, $0.bytes) } }

    public mutating func bury(batch: [NodeID]) {
        for key in batch {
            remove(key)
            bury(key)
        }
    }
}

/// A store in memory: the simulator's and the unit tests'.
public struct MemoryPieceStore: PieceStore, Sendable {
    private var blobs: [NodeID: [UInt8]] = [:]
    private var tombstones: Set<NodeID> = []
    private var localOnly: Set<NodeID> = []

    public init() {}

    public var keys: [NodeID] { Array(blobs.keys) }
    public var count: Int { blobs.count }
    public func contains(_ key: NodeID) -> Bool { blobs[key] != nil }
    public func read(_ key: NodeID) -> [UInt8]? { blobs[key] }

    public mutating func write(_ key: NodeID, _ bytes: [UInt8]) -> Bool {
        blobs[key] = bytes
        return true
    }

    public mutating func remove(_ key: NodeID) {
        blobs[key] = nil
        localOnly.remove(key)
    }

    public func isLocalOnly(_ key: NodeID) -> Bool { localOnly.contains(key) }

    public mutating func setLocalOnly(_ key: NodeID, _ local: Bool) {
        if local { localOnly.insert(key) } else { localOnly.remove(key) }
    }

    public mutating func bury(_ key: NodeID) { tombstones.insert(key) }
    public mutating func unbury(_ key: NodeID) { tombstones.remove(key) }
    public func isBuried(_ key: NodeID) -> Bool { tombstones.contains(key) }

    /// Replaces the bytes under `key` without any check (tests damage pieces this way).
    public mutating func overwrite(_ key: NodeID, with bytes: [UInt8]) { blobs[key] = bytes }
}
