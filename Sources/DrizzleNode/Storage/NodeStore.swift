public import DrizzleConfig
import DrizzleCore

/// Where a node keeps its blobs (`data.store`): on disk, durable, or in memory.
public typealias StoreKind = DrizzleConfiguration.Data.Store

/// A node's piece store: a `DiskPieceStore` or a `MemoryPieceStore`, chosen when the node starts.
///
/// Two optionals rather than an enum with payloads: changing a payload in place would copy the
/// store's index on every write, while optional chaining mutates the one value held.
struct NodeStore: PieceStore, Sendable {
    /// The disk store's folder (named, never created, for a memory store).
    let directory: String
    private var disk: DiskPieceStore?
    private var memory: MemoryPieceStore?

    /// Opens the disk store in `directory`, or an empty memory store (which touches no folder).
    init(kind: StoreKind, directory: String) throws(DiskPieceStore.Failure) {
        switch kind {
        case .disk:
            let opened = try DiskPieceStore(directory: directory)
            self.directory = opened.directory
            disk = opened
        case .memory:
            self.directory = directory
            memory = MemoryPieceStore()
        }
    }

    var keys: [NodeID] { disk?.keys ?? memory?.keys ?? [] }
    var count: Int { disk?.count ?? memory?.count ?? 0 }
    func contains(_ key: NodeID) -> Bool { disk?.contains(key) ?? memory?.contains(key) ?? false }
    func read(_ key: NodeID) -> [UInt8]? { disk != nil ? disk?.read(key) : memory?.read(key) }
    func isBuried(_ key: NodeID) -> Bool { disk?.isBuried(key) ?? memory?.isBuried(key) ?? false }
    func isLocalOnly(_ key: NodeID) -> Bool { disk?.isLocalOnly(key) ?? memory?.isLocalOnly(key) ?? false }

    mutating func setLocalOnly(_ key: NodeID, _ localOnly: Bool) {
        disk?.setLocalOnly(key, localOnly)
        memory?.setLocalOnly(key, localOnly)
    }

    mutating func write(_ key: NodeID, _ bytes: [UInt8]) -> Bool {
        disk?.write(key, bytes) ?? memory?.write(key, bytes) ?? false
    }

    mutating func write(batch: [Blob]) -> [Bool] {
        disk?.write(batch: batch) ?? memory?.write(batch: batch) ?? batch.map { _ in false }
    }

    mutating func remove(_ key: NodeID) {
        disk?.remove(key)
        memory?.remove(key)
    }

    mutating func bury(_ key: NodeID) {
        disk?.bury(key)
        memory?.bury(key)
    }

    mutating func bury(batch: [NodeID]) {
        disk?.bury(batch: batch)
        memory?.bury(batch: batch)
    }

    mutating func unbury(_ key: NodeID) {
        disk?.unbury(key)
        memory?.unbury(key)
    }
}
