import DrizzleCore
import DrizzleCrypto
import DrizzleNode
import Foundation
import Logging
import NIOPosix
import Testing

/// A multi-mode cluster in this process: real nodes on loopback sockets, each with its own disk
/// store, that can be killed (sockets closed, no leave) and restarted on the same port and key.
final class DataCluster: @unchecked Sendable {
    let keys: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    private(set) var nodes: [NodeHost?] = []
    private var ports: [Int] = []
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func names(_ count: Int) -> [String] { (0..<count).map { "d\($0)" } }

    init(keys: String) { self.keys = keys }

    func options(_ index: Int, seeds: [String]) -> NodeOptions {
        NodeOptions(
            name: "d\(index)", bindPort: ports.indices.contains(index) ? ports[index] : 0, seeds: seeds,
            keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership(),
            ring: RingConfiguration(
                successorCount: 3, stabilizeIntervalNanoseconds: 200_000_000, fixFingerIntervalNanoseconds: 50_000_000,
                maintenanceIntervalNanoseconds: 300_000_000, globalIntervalNanoseconds: 1_000_000_000,
                fullCheckIntervalNanoseconds: 5_000_000_000))
    }

    /// Starts nodes until there are `count`, each joining the first live one.
    func start(_ count: Int) async throws {
        for index in nodes.count..<count {
            let seeds = nodes.compactMap { $0?.address }.prefix(1)
            let node = try await NodeHost.start(options(index, seeds: Array(seeds)), group: group, logger: logger)
            nodes.append(node)
            ports.append(Int(node.address.split(separator: ":").last ?? "0") ?? 0)
        }
    }

    var live: [NodeHost] { nodes.compactMap { $0 } }

    func kill(_ index: Int) async {
        await nodes[index]?.shutdown(graceful: false)
        nodes[index] = nil
    }

    func restart(_ index: Int) async throws {
        let seeds = live.prefix(1).map(\.address)
        nodes[index] = try await NodeHost.start(options(index, seeds: seeds), group: group, logger: logger)
    }

    /// True when the live nodes' ring has settled (successor lists, predecessors, views).
    func ringIsExact() async -> Bool { await NodeHost.ringIsExact(live) }

    /// How many live nodes hold each of `keys` (fewest first).
    func copies(of keys: [NodeID]) async -> [Int] {
        var counts = Dictionary(uniqueKeysWithValues: keys.map { ($0, 0) })
        for node in live {
            for key in await node.storedKeys where counts[key] != nil { counts[key, default: 0] += 1 }
        }
        return counts.values.sorted()
    }

    /// Waits until the ring is exact and every key of `keys` has three copies on live nodes.
    func waitForCopies(of keys: [NodeID], seconds: Double) async -> Bool {
        await eventually(seconds) {
            guard await ringIsExact() else { return false }
            return (await copies(of: keys).first ?? 0) >= 3
        }
    }

    /// True when every key of `keys` is held by each of the r replicas a lookup names for it now.
    func replicasHold(_ keys: [NodeID]) async -> Bool {
        guard let asker = live.first else { return false }
        var holdings: [NodeID: Set<NodeID>] = [:]
        for node in live { holdings[node.id] = Set(await node.storedKeys) }
        for key in keys {
            guard let found = try? await asker.lookup(key), found.replicas.count == 3 else { return false }
            for replica in found.replicas where holdings[replica.id]?.contains(key) != true { return false }
        }
        return true
    }

    func stop() async {
        for node in live { await node.shutdown(graceful: false) }
        try? await group.shutdownGracefully()
    }
}

/// Writes `count` random bytes to a file under `folder`.
func randomFile(_ folder: String, bytes count: Int, name: String = "input.bin") throws -> (path: String, bytes: [UInt8]) {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    for index in stride(from: 0, to: count, by: 8) {
        let value = generator.next()
        for offset in 0..<min(8, count - index) { bytes[index + offset] = UInt8(truncatingIfNeeded: value >> (8 * offset)) }
    }
    let path = folder + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return (path, bytes)
}

/// Every piece key of the file written under `manifest`, and the manifest's own.
func keysOfFile(_ manifest: NodeID, on node: NodeHost) async throws -> [NodeID] {
    let client = DataClient(node: node)
    // The manifest's bytes from any replica: its key proves them.
    let found = try await node.lookup(manifest)
    for replica in found.replicas {
        let answer = try? await node.request(to: replica.address) { .fetch(request: $0, keys: [manifest]) }
        if case .fetched(_, let blobs, _) = answer, let blob = blobs.first {
            return try Manifest(decoding: blob.bytes).pieces.map(\.key) + [manifest]
        }
    }
    _ = client
    return []
}

@Suite("Replicated data on a multi-mode cluster (real sockets, disk stores)", .serialized)
struct DataReplicationTests {
    @Test("a 10 MB file written, two nodes killed at once, reads back byte-identical")
    func survivesTwoFailures() async throws {
        try await withCluster(DataCluster.names(12)) { keys in
            let cluster = DataCluster(keys: keys)
            try await cluster.start(12)
            #expect(await eventually(30) { await cluster.ringIsExact() })
            let (path, bytes) = try randomFile(keys, bytes: 10_000_000)
            let writer = DataClient(node: cluster.live[0])
            let written = try await writer.write(file: path, pieceSize: 65_536)
            #expect(written.replicas == 3)
            #expect(written.pieces == 153)
            await cluster.kill(4)
            await cluster.kill(9)
            let read = try await DataClient(node: cluster.live[0]).read(written.manifestKey, into: keys + "/out")
            #expect(read.bytes == 10_000_000)
            #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == Data(bytes))
            await cluster.stop()
        }
    }

    @Test("nodes killed one at a time, with re-replication between, until a third are gone: nothing lost")
    func survivesAttrition() async throws {
        try await withCluster(DataCluster.names(12)) { keys in
            let cluster = DataCluster(keys: keys)
            try await cluster.start(12)
            #expect(await eventually(30) { await cluster.ringIsExact() })
            let (path, bytes) = try randomFile(keys, bytes: 2_000_000)
            let written = try await DataClient(node: cluster.live[0]).write(file: path, pieceSize: 16_384)
            let fileKeys = try await keysOfFile(written.manifestKey, on: cluster.live[0])
            #expect(fileKeys.count == written.pieces + 1)
            for victim in [3, 7, 1, 10] {
                await cluster.kill(victim)
                // Membership declares it dead, the ring repairs, survivors copy what it held.
                let restored = await cluster.waitForCopies(of: fileKeys, seconds: 60)
                #expect(restored)
            }
            #expect(cluster.live.count == 8)
            let read = try await DataClient(node: cluster.live[0]).read(written.manifestKey, into: keys + "/out")
            #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == Data(bytes))
            await cluster.stop()
        }
    }

    @Test("nodes that join take over the keys they now own: every key sits on its current r replicas")
    func joinsHandKeysOver() async throws {
        try await withCluster(DataCluster.names(10)) { keys in
            let cluster = DataCluster(keys: keys)
            try await cluster.start(5)
            #expect(await eventually(30) { await cluster.ringIsExact() })
            let (path, bytes) = try randomFile(keys, bytes: 400_000)
            let written = try await DataClient(node: cluster.live[0]).write(file: path, pieceSize: 2048)
            let fileKeys = try await keysOfFile(written.manifestKey, on: cluster.live[0])
            #expect(await cluster.replicasHold(fileKeys))
            try await cluster.start(10)
            #expect(await eventually(30) { await cluster.ringIsExact() })
            let handedOver = await eventually(60) { await cluster.replicasHold(fileKeys) }
            #expect(handedOver)
            // The newcomers hold a share, and a read through one of them needs no repair.
            var newcomersHold = 0
            for node in cluster.live.suffix(5) { newcomersHold += Set(await node.storedKeys).intersection(fileKeys).count }
            #expect(newcomersHold > 0)
            let read = try await DataClient(node: cluster.live[9]).read(written.manifestKey, into: keys + "/out")
            #expect(read.repaired == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == Data(bytes))
            await cluster.stop()
        }
    }

    @Test("every node restarted: pieces are on disk and the file reads back")
    func survivesFullRestart() async throws {
        try await withCluster(DataCluster.names(8)) { keys in
            let cluster = DataCluster(keys: keys)
            try await cluster.start(8)
            #expect(await eventually(30) { await cluster.ringIsExact() })
            let (path, bytes) = try randomFile(keys, bytes: 1_000_000)
            let written = try await DataClient(node: cluster.live[0]).write(file: path, pieceSize: 4096)
            for index in 0..<8 { await cluster.kill(index) }
            for index in 0..<8 { try await cluster.restart(index) }
            #expect(await eventually(30) { await cluster.ringIsExact() })
            let read = try await DataClient(node: cluster.live[5]).read(written.manifestKey, into: keys + "/out")
            #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == Data(bytes))
            await cluster.stop()
        }
    }

    @Test("a piece corrupted on disk is detected on read and repaired from a good replica")
    func repairsCorruption() async throws {
        try await withCluster(DataCluster.names(6)) { keys in
            let cluster = DataCluster(keys: keys)
            try await cluster.start(6)
            #expect(await eventually(30) { await cluster.ringIsExact() })
            let (path, bytes) = try randomFile(keys, bytes: 300_000)
            let written = try await DataClient(node: cluster.live[0]).write(file: path, pieceSize: 1024)
            let fileKeys = try await keysOfFile(written.manifestKey, on: cluster.live[0])
            // Damage one piece on the node a read asks first: the owner.
            let victimKey = fileKeys[0]
            let owner = try await cluster.live[0].lookup(victimKey).owner
            let holder = try #require(cluster.live.first { $0.id == owner.id })
            let file = holder.storeDirectory + "/pieces/" + String(victimKey.description.prefix(2)) + "/" + victimKey.description
            #expect(FileManager.default.fileExists(atPath: file))
            try Data(repeating: 0x41, count: 1024).write(to: URL(fileURLWithPath: file))
            let read = try await DataClient(node: cluster.live[0]).read(written.manifestKey, into: keys + "/out")
            #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == Data(bytes))
            #expect(read.repaired >= 1)
            let repaired = await holder.readLocally(victimKey)
            #expect(repaired.map { SodiumSuite().digest128Bytes($0) } == victimKey)
            #expect(await holder.replication.damagedFound == 1)
            await cluster.stop()
        }
    }

    @Test("deleting a file removes the manifest and every piece from every replica")
    func deleteRemovesEverywhere() async throws {
        try await withCluster(DataCluster.names(6)) { keys in
            let cluster = DataCluster(keys: keys)
            try await cluster.start(6)
            #expect(await eventually(30) { await cluster.ringIsExact() })
            let (path, _) = try randomFile(keys, bytes: 200_000)
            let written = try await DataClient(node: cluster.live[2]).write(file: path, pieceSize: 2048)
            let fileKeys = try await keysOfFile(written.manifestKey, on: cluster.live[0])
            #expect((await cluster.copies(of: fileKeys)).first == 3)
            #expect(await cluster.replicasHold(fileKeys))
            let deleted = try await DataClient(node: cluster.live[4]).delete(written.manifestKey)
            #expect(deleted.keys == fileKeys.count)
            // Each replica removed its copy, or had already dropped it because a replica deleted
            // earlier answered its maintenance offer with the tombstone.
            #expect(deleted.removed >= fileKeys.count && deleted.removed <= 3 * fileKeys.count)
            #expect((await cluster.copies(of: fileKeys)).last == 0)
            // Maintenance does not bring anything back.
            try await Task.sleep(for: .seconds(3))
            #expect((await cluster.copies(of: fileKeys)).last == 0)
            await #expect(throws: DataError.self) {
                _ = try await DataClient(node: cluster.live[0]).read(written.manifestKey, into: keys + "/out")
            }
            await cluster.stop()
        }
    }
}

extension SodiumSuite {
    func digest128Bytes(_ bytes: [UInt8]) -> NodeID { bytes.withUnsafeBytes { digest128($0) } }
}
