import DrizzleCore
import DrizzleCrypto
@testable import DrizzleNode
import Foundation
import Testing

/// A fresh folder under /tmp for one test, removed afterwards.
private func withFolder(_ body: (String) throws -> Void) throws {
    let folder = "/tmp/drizzle-store-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try body(folder)
}

/// The key of `bytes`, as the core computes it.
private func key(of bytes: [UInt8]) -> NodeID {
    bytes.withUnsafeBytes { SodiumSuite().digest128($0) }
}

/// Every file name under `folder`, recursively.
private func files(under folder: String) -> [String] {
    (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
}

@Suite("Pieces on disk")
struct DiskPieceStoreTests {
    @Test("a written blob reads back, under <root>/pieces/<two hex>/<32 hex>")
    func writeRead() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder + "/data/")
            #expect(store.directory == folder + "/data")
            let bytes = Array("hello, pieces".utf8)
            let id = key(of: bytes)
            #expect(!store.contains(id))
            #expect(store.read(id) == nil)
            #expect(store.write(id, bytes) == true)
            #expect(store.contains(id))
            #expect(store.count == 1)
            #expect(store.keys == [id])
            #expect(store.read(id) == bytes)
            let hex = id.description
            #expect(store.path(of: id) == "\(folder)/data/pieces/\(hex.prefix(2))/\(hex)")
            for other in [
                NodeID(high: 0, low: 0), NodeID(high: .max, low: .max), NodeID(high: 0x0123_4567_89AB_CDEF, low: 42),
            ] {
                #expect(store.path(of: other).hasSuffix("/\(other.description.prefix(2))/\(other.description)"))
            }
            #expect(FileManager.default.contents(atPath: store.path(of: id)) == Data(bytes))
            #expect(store.write(id, []) == true)
            #expect(store.read(id) == [])
        }
    }

    @Test("the folder is created 0700 with its parents")
    func folderMode() throws {
        try withFolder { folder in
            _ = try DiskPieceStore(directory: folder + "/a/b")
            let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/a/b")
            #expect(attributes[.posixPermissions] as? Int == 0o700)
            #expect(attributes[.type] as? FileAttributeType == .typeDirectory)
        }
    }

    @Test("a new store on the same folder sees the same keys and tombstones, as after a restart")
    func restart() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            var written: Set<NodeID> = []
            for index in 0..<300 {
                let bytes = Array("piece \(index)".utf8)
                #expect(store.write(key(of: bytes), bytes) == true)
                written.insert(key(of: bytes))
            }
            let buried = [NodeID(high: 1, low: 2), NodeID(high: 3, low: 4)]
            for id in buried { store.bury(id) }
            store.unbury(buried[1])
            let reopened = try DiskPieceStore(directory: folder)
            #expect(Set(reopened.keys) == written)
            #expect(reopened.count == 300)
            #expect(reopened.read(key(of: Array("piece 7".utf8))) == Array("piece 7".utf8))
            #expect(reopened.isBuried(buried[0]))
            #expect(!reopened.isBuried(buried[1]))
        }
    }

    @Test("a blob written to this node only stays marked so after a restart, until it is removed")
    func localOnlySurvivesRestart() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let bytes = Array("local".utf8)
            let id = key(of: bytes)
            let written = store.write(id, bytes)
            #expect(written)
            store.setLocalOnly(id, true)
            let reopened = try DiskPieceStore(directory: folder)
            #expect(reopened.isLocalOnly(id))
            store.remove(id)
            let afterRemoval = try DiskPieceStore(directory: folder)
            #expect(!afterRemoval.isLocalOnly(id))
        }
    }

    @Test("burying a batch removes every blob and leaves tombstones that survive a restart")
    func buryBatch() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let blobs = (0..<200).map { index in Array("blob \(index)".utf8) }
            for bytes in blobs { _ = store.write(key(of: bytes), bytes) }
            let doomed = blobs.prefix(150).map { key(of: $0) }
            store.bury(batch: Array(doomed))
            let reopened = try DiskPieceStore(directory: folder)
            #expect(reopened.count == 50)
            #expect(doomed.allSatisfy { reopened.isBuried($0) && !reopened.contains($0) && reopened.read($0) == nil })
            #expect(!reopened.isBuried(key(of: blobs[199])))
        }
    }

    @Test("a temporary file left by a crash is deleted at start and never listed")
    func staleTemporary() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let bytes = Array("kept".utf8)
            let id = key(of: bytes)
            #expect(store.write(id, bytes) == true)
            let shard = (store.path(of: id) as NSString).deletingLastPathComponent
            let stale = shard + "/.\(id.description).1234abcd.tmp"
            let staleTombstone = folder + "/tombstones/.\(id.description).99.tmp"
            #expect(FileManager.default.createFile(atPath: stale, contents: Data([1, 2, 3])))
            #expect(FileManager.default.createFile(atPath: staleTombstone, contents: Data()))
            // Files that are neither keys nor temporary files are ignored, not deleted.
            #expect(FileManager.default.createFile(atPath: shard + "/notes.txt", contents: Data([1])))
            let reopened = try DiskPieceStore(directory: folder)
            #expect(reopened.keys == [id])
            #expect(!FileManager.default.fileExists(atPath: stale))
            #expect(!FileManager.default.fileExists(atPath: staleTombstone))
            #expect(FileManager.default.fileExists(atPath: shard + "/notes.txt"))
            #expect(!files(under: folder).contains { $0.hasSuffix(".tmp") })
        }
    }

    @Test("a write leaves no temporary file behind")
    func noTemporaryAfterWrite() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            for index in 0..<50 {
                let bytes = [UInt8](repeating: UInt8(index), count: 256)
                #expect(store.write(key(of: bytes), bytes) == true)
            }
            #expect(!files(under: folder).contains { $0.hasSuffix(".tmp") })
        }
    }

    @Test("a write that cannot be done returns false and leaves nothing behind")
    func failedWrite() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let bytes = Array("blocked".utf8)
            let id = key(of: bytes)
            // A folder where the blob should go makes the rename fail, whoever runs the test.
            try FileManager.default.createDirectory(
                atPath: store.path(of: id) + "/x", withIntermediateDirectories: true)
            #expect(store.write(id, bytes) == false)
            #expect(!store.contains(id))
            #expect(!files(under: folder).contains { $0.hasSuffix(".tmp") })
        }
    }

    @Test(
        "a batch of 1,000 blobs lands, reads back, leaves no temporary file and is seen after a restart",
        arguments: DiskPieceStore.Flush.allCases)
    func batch(flush: DiskPieceStore.Flush) throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let blobs = (0..<1_000).map { index in
                let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 200) + Array("\(index)".utf8)
                return Blob(key: key(of: bytes), bytes: bytes)
            }
            #expect(store.write(batch: blobs, flush: flush) == Array(repeating: true, count: 1_000))
            #expect(store.count == 1_000)
            #expect(blobs.allSatisfy { store.contains($0.key) && store.read($0.key) == $0.bytes })
            #expect(!files(under: folder).contains { $0.hasSuffix(".tmp") })
            let reopened = try DiskPieceStore(directory: folder)
            #expect(Set(reopened.keys) == Set(blobs.map(\.key)))
            #expect(blobs.allSatisfy { reopened.read($0.key) == $0.bytes })
        }
    }

    @Test("the public batch write stores every blob; empty and one-blob batches work too")
    func publicBatch() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            #expect(store.write(batch: []) == [])
            let one = Array("alone".utf8)
            #expect(store.write(batch: [Blob(key: key(of: one), bytes: one)]) == [true])
            let blobs = (0..<64).map { index in
                let bytes = Array("blob \(index)".utf8)
                return Blob(key: key(of: bytes), bytes: bytes)
            }
            // The same blob twice in one batch is stored once and reported twice.
            #expect(store.write(batch: blobs + [blobs[3]]) == Array(repeating: true, count: 65))
            #expect(store.count == 65)
            #expect(try DiskPieceStore(directory: folder).count == 65)
            #expect(!files(under: folder).contains { $0.hasSuffix(".tmp") })
        }
    }

    @Test(
        "a batch reports false, in order, only for the blobs it could not write, and leaves nothing of them",
        arguments: DiskPieceStore.Flush.allCases)
    func partialBatch(flush: DiskPieceStore.Flush) throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let candidates = (0..<400).map { index in
                let bytes = Array("candidate \(index)".utf8)
                return Blob(key: key(of: bytes), bytes: bytes)
            }
            func shard(_ blob: Blob) -> String { String(blob.key.description.prefix(2)) }
            // Blocked at creation: its shard folder's name is taken by a regular file (fails as root too).
            let unshardable = candidates[0]
            // Blocked at the rename: a non-empty folder sits where the blob should go.
            guard let unrenamable = candidates.first(where: { shard($0) != shard(unshardable) }) else {
                Issue.record("no second shard among the candidates")
                return
            }
            let good = candidates.filter { shard($0) != shard(unshardable) && $0.key != unrenamable.key }.prefix(20)
            #expect(
                FileManager.default.createFile(
                    atPath: folder + "/pieces/" + shard(unshardable), contents: Data([1])))
            try FileManager.default.createDirectory(
                atPath: store.path(of: unrenamable.key) + "/x", withIntermediateDirectories: true)
            var batch = Array(good)
            batch.insert(unshardable, at: 5)
            batch.insert(unrenamable, at: 12)
            let expected = batch.map { $0.key != unshardable.key && $0.key != unrenamable.key }
            #expect(store.write(batch: batch, flush: flush) == expected)
            #expect(store.count == good.count)
            #expect(!store.contains(unshardable.key) && !store.contains(unrenamable.key))
            #expect(good.allSatisfy { store.read($0.key) == $0.bytes })
            #expect(!files(under: folder).contains { $0.hasSuffix(".tmp") })
            #expect(try Set(DiskPieceStore(directory: folder).keys) == Set(good.map(\.key)))
        }
    }

    @Test("removing a blob deletes its file and its key, also after a restart")
    func remove() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let first = Array("first".utf8)
            let second = Array("second".utf8)
            #expect(store.write(key(of: first), first) == true)
            #expect(store.write(key(of: second), second) == true)
            store.remove(key(of: first))
            store.remove(NodeID(high: 9, low: 9))
            #expect(!store.contains(key(of: first)))
            #expect(store.read(key(of: first)) == nil)
            #expect(!FileManager.default.fileExists(atPath: store.path(of: key(of: first))))
            #expect(store.count == 1)
            #expect(try DiskPieceStore(directory: folder).keys == [key(of: second)])
        }
    }

    @Test("a damaged file is returned as stored")
    func damaged() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let bytes = [UInt8](repeating: 7, count: 256)
            let id = key(of: bytes)
            #expect(store.write(id, bytes) == true)
            var damaged = bytes
            damaged[100] ^= 0xFF
            damaged.removeLast(10)
            #expect(FileManager.default.createFile(atPath: store.path(of: id), contents: Data(damaged)))
            #expect(store.read(id) == damaged)
            #expect(key(of: damaged) != id)
            #expect(try DiskPieceStore(directory: folder).read(id) == damaged)
        }
    }

    @Test("a blob whose file vanished reads as nil")
    func vanished() throws {
        try withFolder { folder in
            var store = try DiskPieceStore(directory: folder)
            let bytes = Array("gone".utf8)
            #expect(store.write(key(of: bytes), bytes) == true)
            try FileManager.default.removeItem(atPath: store.path(of: key(of: bytes)))
            #expect(store.read(key(of: bytes)) == nil)
        }
    }

    @Test("a path that is a file is refused with a one-line message naming it")
    func notAFolder() throws {
        try withFolder { folder in
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let file = folder + "/plain"
            #expect(FileManager.default.createFile(atPath: file, contents: Data()))
            #expect(throws: DiskPieceStore.Failure.notAFolder(file)) { try DiskPieceStore(directory: file) }
            #expect(throws: DiskPieceStore.Failure.self) { try DiskPieceStore(directory: file + "/below") }
            let failure = DiskPieceStore.Failure.notAFolder(file)
            #expect(failure.description.contains(file) && !failure.description.contains("\n"))
        }
    }
}
