import DrizzleCore
import DrizzleNode
import Foundation
import Logging
import NIOPosix
import Testing

@Suite("Node runtime: data.store memory", .serialized)
struct MemoryStoreTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Starts `names` with memory stores, each after the first joining through it, and waits until
    /// the ring is exact. `configure` adjusts each node's options.
    func startRing(
        _ names: [String], keys: String, group: MultiThreadedEventLoopGroup,
        configure: (inout NodeOptions) -> Void = { _ in }
    ) async throws -> [NodeHost] {
        var nodes: [NodeHost] = []
        for name in names {
            var options = NodeOptions(
                name: name, seeds: nodes.first.map { [$0.address] } ?? [], keysDirectory: keys,
                dataDirectory: keys + "/data", store: .memory, membership: fastMembership())
            configure(&options)
            nodes.append(try await NodeHost.start(options, group: group, logger: logger))
        }
        let ring = nodes
        #expect(await eventually(30) { await NodeHost.ringIsExact(ring) })
        return nodes
    }

    @Test("three nodes with memory stores: a one-piece file and a 25-piece file go to 3 replicas, read back whole, no file is written; owners are looked up once")
    func memoryStore() async throws {
        try await withCluster(["m0", "m1", "m2"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let nodes = try await startRing(["m0", "m1", "m2"], keys: keys, group: group)
            let (smallPath, small) = try randomFile(keys, bytes: 3000, name: "small.bin")
            let (largePath, large) = try randomFile(keys, bytes: 100_000, name: "large.bin")
            let writer = DataClient(node: nodes[0])
            let one = try await writer.write(file: smallPath, pieceSize: 4096)
            let many = try await writer.write(file: largePath, pieceSize: 4096)
            #expect(one.replicas == 3 && one.pieces == 1)
            #expect(many.replicas == 3 && many.pieces == 25)
            // One blob for the small file (inline), 25 pieces and a manifest for the other, each on 3 nodes.
            var held = 0
            for node in nodes { held += await node.storedCount }
            #expect(held == 3 * (1 + 25 + 1))
            let reader = DataClient(node: nodes[2])
            for (key, bytes) in [(one.manifestKey, small), (many.manifestKey, large)] {
                let read = try await reader.read(key, into: keys + "/out")
                #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == Data(bytes))
            }
            for node in nodes { #expect(!FileManager.default.fileExists(atPath: node.storeDirectory)) }
            // The writer remembers which node owns which range of keys: 30 more writes need far
            // fewer than 30 lookups while membership stays as it is.
            let lookupsBefore = await nodes[0].recentHops.count
            for index in 0..<30 {
                let (path, _) = try randomFile(keys, bytes: 500, name: "value-\(index).bin")
                #expect(try await writer.write(file: path, pieceSize: 1024).replicas == 3)
            }
            let lookups = await nodes[0].recentHops.count - lookupsBefore
            #expect(lookups < 20, "\(lookups) lookups for 30 writes to a 3-node ring")
            for node in nodes { await node.shutdown(graceful: false) }
            try await group.shutdownGracefully()
        }
    }

    @Test("deleting a file never makes another unreadable: a copy of it, and a file sharing one 512-byte piece, still read back")
    func deleteKeepsOtherFiles() async throws {
        try await withCluster(["d0", "d1", "d2"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let nodes = try await startRing(["d0", "d1", "d2"], keys: keys, group: group)
            let (originalPath, original) = try randomFile(keys, bytes: 4096, name: "original.bin")
            try FileManager.default.createDirectory(atPath: keys + "/copy", withIntermediateDirectories: true)
            let copyPath = keys + "/copy/original.bin"
            try Data(original).write(to: URL(fileURLWithPath: copyPath))
            let (_, tail) = try randomFile(keys, bytes: 3584, name: "tail.bin")
            let sharing = Array(original.prefix(512)) + tail
            let sharingPath = keys + "/sharing.bin"
            try Data(sharing).write(to: URL(fileURLWithPath: sharingPath))
            let client = DataClient(node: nodes[0])
            let written = try await client.write(file: originalPath, pieceSize: 512)
            let copy = try await client.write(file: copyPath, pieceSize: 512)
            let other = try await client.write(file: sharingPath, pieceSize: 512)
            #expect(written.manifestKey != copy.manifestKey, "two writes of one file are two files")
            let deleted = try await client.delete(written.manifestKey)
            #expect(deleted.keys == 9 && deleted.keptShared == 0)
            let reader = DataClient(node: nodes[1])
            for (key, bytes, folder) in [(copy.manifestKey, original, "/out-copy"), (other.manifestKey, sharing, "/out-sharing")] {
                let read = try await reader.read(key, into: keys + folder)
                #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == Data(bytes))
            }
            await #expect(throws: DataError.self) { try await reader.read(written.manifestKey, into: keys + "/out-gone") }
            // The same holds in one node's store (WL, DL, RL).
            let local = DataClient(node: nodes[2])
            let first = try await local.writeLocally(file: originalPath, pieceSize: 512)
            let second = try await local.writeLocally(file: copyPath, pieceSize: 512)
            _ = try await local.deleteLocally(first.manifestKey)
            let kept = try await local.readLocally(second.manifestKey, into: keys + "/out-local")
            #expect(try Data(contentsOf: URL(fileURLWithPath: kept.path)) == Data(original))
            for node in nodes { await node.shutdown(graceful: false) }
            try await group.shutdownGracefully()
        }
    }

    @Test("a file written to one node's store only (WL) stays there: replica maintenance neither copies nor drops it")
    func localWriteStaysLocal() async throws {
        try await withCluster(["l0", "l1", "l2"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let nodes = try await startRing(["l0", "l1", "l2"], keys: keys, group: group) { options in
                options.ring.maintenanceIntervalNanoseconds = 200_000_000
                options.ring.globalIntervalNanoseconds = 200_000_000
            }
            let (path, bytes) = try randomFile(keys, bytes: 20_000, name: "mine.bin")
            let written = try await DataClient(node: nodes[1]).writeLocally(file: path, pieceSize: 1000)
            let held = Set(await nodes[1].storedKeys)
            #expect(held.count == 21)
            // Many maintenance rounds later, the blobs are still only on the node that wrote them.
            try await Task.sleep(for: .seconds(3))
            #expect(Set(await nodes[1].storedKeys) == held)
            for other in [nodes[0], nodes[2]] { #expect(Set(await other.storedKeys).isDisjoint(with: held)) }
            let read = try await DataClient(node: nodes[1]).readLocally(written.manifestKey, into: keys + "/out")
            #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == Data(bytes))
            for node in nodes { await node.shutdown(graceful: false) }
            try await group.shutdownGracefully()
        }
    }
}
