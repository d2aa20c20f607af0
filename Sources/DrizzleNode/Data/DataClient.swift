public import DrizzleCore
import DrizzleCrypto
import Foundation

/// What a write did (the original printed the key, the bytes, the pieces and the time).
public struct WriteSummary: Sendable {
    public var manifestKey: NodeID
    public var bytes: UInt64
    public var pieces: Int
    public var seconds: Double
    /// The fewest replicas any piece reached (network writes; 1 for local ones).
    public var replicas: Int
}

/// What a read did.
public struct ReadSummary: Sendable {
    public var path: String
    public var bytes: UInt64
    public var pieces: Int
    public var seconds: Double
    /// Pieces found missing or damaged on a replica and copied there again from a good one.
    public var repaired: Int
}

/// What a delete did.
public struct DeleteSummary: Sendable {
    public var keys: Int
    /// Copies removed, over all replicas.
    public var removed: Int
    /// Pieces left in place: a manifest written before salts may share them with other files.
    public var keptShared: Int
}

/// Progress of a long write or read: bytes done of bytes in all.
public typealias DataProgress = @Sendable (_ done: UInt64, _ total: UInt64) -> Void

/// Writes, reads and deletes files as pieces and manifests on the ring (`WN`/`RN`/`DN`) or in
/// one node's store (`WL`/`RL`/`DL`). Files stream through: at most a window of batches is in
/// memory at any time, never the whole file.
public struct DataClient: Sendable {
    public let node: NodeHost
    /// Bytes per store or fetch message.
    public var batchBytes = 1 << 20
    /// Blobs per store message at most: a replica commits a message in one turn of its node, and
    /// thousands of tiny files would hold that turn (and its failure detector) for seconds.
    public var batchBlobs = 512
    /// Batches in flight at once.
    public var window = 8
    private let suite = SodiumSuite()

    public init(node: NodeHost) { self.node = node }

    /// The largest piece: a blob (the salt and the piece) must fit one store message's blob.
    public static let maximumPieceSize = DataMessage.maximumBlobBytes - Manifest.saltBytes

    // MARK: Network

    /// Splits the file into pieces, stores each on its r replicas, then the manifest. A file of one
    /// piece (up to 64 KiB) goes inside its manifest: one blob stored. Every write has its own salt
    /// (`Manifest`): its blobs are its own, and deleting another file never touches them.
    public func write(file path: String, pieceSize: Int, progress: DataProgress? = nil) async throws -> WriteSummary {
        let started = ContinuousClock.now
        var reader = try openPieces(path, pieceSize: pieceSize)
        let salt = SecureRandom.nonZeroUInt64()
        if Manifest.isInline(fileSize: reader.fileSize, pieceSize: reader.pieceSize) {
            let (blob, manifest) = try inlineBlob(reader, path: path, salt: salt)
            let replicas = try await store([blob], on: try await holders(of: blob.key))
            progress?(manifest.fileSize, manifest.fileSize)
            return WriteSummary(
                manifestKey: blob.key, bytes: manifest.fileSize, pieces: manifest.pieceTotal,
                seconds: seconds(since: started), replicas: replicas)
        }
        let total = reader.fileSize
        let name = reader.name
        var pieces: [Manifest.Piece] = []
        pieces.reserveCapacity(Int(min(reader.pieceCount, 1 << 24)))
        var pending: [NodeID: (replicas: [RingPeer], blobs: [Blob], bytes: Int)] = [:]
        var fewest = Int.max
        var done: UInt64 = 0
        try await withThrowingTaskGroup(of: Int.self) { group in
            var inFlight = 0
            func submit(_ replicas: [RingPeer], _ blobs: [Blob]) async throws {
                if inFlight >= window, let reached = try await group.next() {
                    fewest = min(fewest, reached)
                    inFlight -= 1
                }
                group.addTask { try await self.store(blobs, on: replicas) }
                inFlight += 1
            }
            while let bytes = try reader.next() {
                try Task.checkCancellation()
                let blob = Manifest.pieceBlob(bytes, salt: salt)
                let key = blob.withUnsafeBytes { suite.digest128($0) }
                pieces.append(Manifest.Piece(key: key, size: UInt32(bytes.count)))
                let replicas = try await holders(of: key)
                let owner = replicas[0].id
                pending[owner, default: (replicas, [], 0)].blobs.append(Blob(key: key, bytes: blob))
                pending[owner, default: (replicas, [], 0)].bytes += blob.count + 20
                if let batch = pending[owner], batch.bytes >= batchBytes || batch.blobs.count >= batchBlobs {
                    pending[owner] = nil
                    try await submit(batch.replicas, batch.blobs)
                }
                done += UInt64(bytes.count)
                progress?(done, total)
            }
            for batch in pending.values { try await submit(batch.replicas, batch.blobs) }
            for try await reached in group { fewest = min(fewest, reached) }
        }
        guard let fileHash = reader.finish() else { throw DataError.file("\(path) changed while it was read: write it again") }
        let manifest = Manifest(
            name: name, fileSize: total, pieceSize: UInt32(pieceSize), fileHash: fileHash, salt: salt, pieces: pieces)
        let encoded = manifest.encoded
        let manifestKey = encoded.withUnsafeBytes { suite.digest128($0) }
        let replicas = try await holders(of: manifestKey)
        fewest = min(fewest, try await store([Blob(key: manifestKey, bytes: encoded)], on: replicas))
        return WriteSummary(
            manifestKey: manifestKey, bytes: total, pieces: pieces.count, seconds: seconds(since: started),
            replicas: fewest == Int.max ? 0 : fewest)
    }

    /// Fetches the manifest and its pieces (in parallel), checks every hash and writes the file
    /// into `folder` under the name it was written with.
    public func read(_ key: NodeID, into folder: String, progress: DataProgress? = nil) async throws -> ReadSummary {
        let started = ContinuousClock.now
        let manifest = try await fetchManifest(key)
        if let content = manifest.content {
            return try write(content, of: manifest, into: folder, started: started)
        }
        // Where each distinct piece goes in the file (a piece may repeat).
        let places = Dictionary(grouping: manifest.pieces.indices, by: { manifest.pieces[$0].key })
        // Group the distinct keys by owner into batches of about `batchBytes`.
        var batches: [(replicas: [RingPeer], keys: [NodeID])] = []
        var openBatch: [NodeID: Int] = [:]
        var seen: Set<NodeID> = []
        let perBatch = max(1, batchBytes / max(1, Int(manifest.pieceSize)))
        for piece in manifest.pieces where seen.insert(piece.key).inserted {
            let replicas = try await holders(of: piece.key)
            let owner = replicas[0].id
            if let slot = openBatch[owner], batches[slot].keys.count < perBatch {
                batches[slot].keys.append(piece.key)
            } else {
                openBatch[owner] = batches.count
                batches.append((replicas, [piece.key]))
            }
        }
        var assembler = try assemble(folder: folder, name: manifest.name)
        var repaired = 0
        var done: UInt64 = 0
        do {
            try await withThrowingTaskGroup(of: ([Blob], Int).self) { group in
                var next = 0
                var inFlight = 0
                while next < batches.count || inFlight > 0 {
                    try Task.checkCancellation()
                    while next < batches.count, inFlight < window {
                        let batch = batches[next]
                        group.addTask {
                            do {
                                return try await self.fetchBatch(batch.keys, from: batch.replicas)
                            } catch DataError.pieceUnavailable(let key, _) {
                                // Name the piece by its place in the file, not in the batch.
                                throw DataError.pieceUnavailable(key, index: places[key]?.first ?? 0)
                            }
                        }
                        next += 1
                        inFlight += 1
                    }
                    guard let (blobs, fixed) = try await group.next() else { break }
                    inFlight -= 1
                    repaired += fixed
                    for blob in blobs {
                        let indices = places[blob.key] ?? []
                        let bytes = try pieceBytes(of: blob, in: manifest, index: indices.first ?? 0)
                        for index in indices {
                            do {
                                try assembler.write(bytes, at: manifest.offset(ofPiece: index))
                            } catch {
                                throw DataError.file("\(error)")
                            }
                            done += UInt64(bytes.count)
                        }
                    }
                    progress?(done, manifest.fileSize)
                }
            }
            let found = try FilePieceReader.hash(ofFileAt: assembler.temporaryPath)
            guard found == manifest.fileHash else { throw DataError.fileDamaged(expected: manifest.fileHash, found: found) }
        } catch {
            assembler.abandon()
            throw error
        }
        return try commit(assembler, of: manifest, started: started, repaired: repaired)
    }

    /// Deletes the manifest and every piece on all their replicas (tombstones keep stale
    /// replicas from spreading them again). The pieces are this write's own (salted, `Manifest`),
    /// so no other file loses any; of a manifest written before salts only the manifest goes.
    public func delete(_ key: NodeID) async throws -> DeleteSummary {
        let manifest = try await fetchManifest(key)
        var byOwner: [NodeID: (replicas: [RingPeer], keys: [NodeID])] = [:]
        for piece in Self.ownKeys(of: manifest) + [key] {
            let replicas = try await holders(of: piece)
            byOwner[replicas[0].id, default: (replicas, [])].keys.append(piece)
        }
        // Every replica of every owner at once; each delete leaves a tombstone.
        let removed = await withTaskGroup(of: Int.self) { group in
            for (replicas, keys) in byOwner.values {
                for replica in replicas {
                    group.addTask {
                        var count = 0
                        var start = 0
                        while start < keys.count {
                            let chunk = Array(keys[start..<min(keys.count, start + 65_536)])
                            start += chunk.count
                            let answer = try? await node.request(to: replica.address, timeout: .seconds(120)) {
                                .delete(request: $0, keys: chunk)
                            }
                            if case .deleted(_, let removed) = answer { count += Int(removed) }
                        }
                        return count
                    }
                }
            }
            return await group.reduce(0, +)
        }
        return DeleteSummary(keys: Self.ownKeys(of: manifest).count + 1, removed: removed, keptShared: Self.sharedCount(of: manifest))
    }

    /// The piece keys a delete of `manifest` removes: all of a salted write's, none of an
    /// unsalted one's (they may be another file's too).
    static func ownKeys(of manifest: Manifest) -> Set<NodeID> {
        manifest.salt == nil ? [] : Set(manifest.pieces.map(\.key))
    }

    /// How many pieces a delete of `manifest` keeps because other files may share them.
    static func sharedCount(of manifest: Manifest) -> Int {
        manifest.salt == nil ? Set(manifest.pieces.map(\.key)).count : 0
    }

    /// The file bytes of piece `index` in `blob`, checked against the manifest (salt and size).
    private func pieceBytes(of blob: Blob, in manifest: Manifest, index: Int) throws -> [UInt8] {
        guard let bytes = manifest.pieceBytes(of: blob.bytes), manifest.pieces.indices.contains(index),
            bytes.count == Int(manifest.pieces[index].size)
        else { throw DataError.pieceUnavailable(blob.key, index: index) }
        return Array(bytes)
    }

    // MARK: Local store

    /// Splits the file into this node's own store only.
    public func writeLocally(file path: String, pieceSize: Int, progress: DataProgress? = nil) async throws -> WriteSummary {
        let started = ContinuousClock.now
        var reader = try openPieces(path, pieceSize: pieceSize)
        let salt = SecureRandom.nonZeroUInt64()
        if Manifest.isInline(fileSize: reader.fileSize, pieceSize: reader.pieceSize) {
            let (blob, manifest) = try inlineBlob(reader, path: path, salt: salt)
            guard await node.storeLocally(blob) else { throw DataError.pieceNotStored(blob.key) }
            return WriteSummary(
                manifestKey: blob.key, bytes: manifest.fileSize, pieces: manifest.pieceTotal,
                seconds: seconds(since: started), replicas: 1)
        }
        var pieces: [Manifest.Piece] = []
        var done: UInt64 = 0
        while let bytes = try reader.next() {
            try Task.checkCancellation()
            let blob = Manifest.pieceBlob(bytes, salt: salt)
            let key = blob.withUnsafeBytes { suite.digest128($0) }
            guard await node.storeLocally(Blob(key: key, bytes: blob)) else { throw DataError.pieceNotStored(key) }
            pieces.append(Manifest.Piece(key: key, size: UInt32(bytes.count)))
            done += UInt64(bytes.count)
            progress?(done, reader.fileSize)
        }
        let (name, total) = (reader.name, reader.fileSize)
        guard let fileHash = reader.finish() else { throw DataError.file("\(path) changed while it was read: write it again") }
        let encoded = Manifest(
            name: name, fileSize: total, pieceSize: UInt32(pieceSize), fileHash: fileHash, salt: salt, pieces: pieces
        ).encoded
        let manifestKey = encoded.withUnsafeBytes { suite.digest128($0) }
        guard await node.storeLocally(Blob(key: manifestKey, bytes: encoded)) else { throw DataError.pieceNotStored(manifestKey) }
        return WriteSummary(manifestKey: manifestKey, bytes: total, pieces: pieces.count, seconds: seconds(since: started), replicas: 1)
    }

    /// Rebuilds a file from this node's own store only.
    public func readLocally(_ key: NodeID, into folder: String) async throws -> ReadSummary {
        let started = ContinuousClock.now
        guard let bytes = await node.readLocally(key), verified(bytes, key) else { throw DataError.notFound(key) }
        let manifest = try decodeManifest(bytes, key: key)
        if let content = manifest.content {
            return try write(content, of: manifest, into: folder, started: started)
        }
        var assembler = try assemble(folder: folder, name: manifest.name)
        do {
            for (index, piece) in manifest.pieces.enumerated() {
                try Task.checkCancellation()
                guard let blob = await node.readLocally(piece.key), verified(blob, piece.key) else {
                    throw DataError.file(
                        "piece \(index) (\(piece.key)) is not in this node's store: RL reads only the local store — use RN")
                }
                let bytes = try pieceBytes(of: Blob(key: piece.key, bytes: blob), in: manifest, index: index)
                do { try assembler.write(bytes, at: manifest.offset(ofPiece: index)) } catch { throw DataError.file(error.description) }
            }
        } catch {
            assembler.abandon()
            throw error
        }
        return try commit(assembler, of: manifest, started: started, repaired: 0)
    }

    /// Removes a file's manifest and pieces from this node's own store only.
    public func deleteLocally(_ key: NodeID) async throws -> DeleteSummary {
        guard let bytes = await node.readLocally(key) else { throw DataError.notFound(key) }
        let manifest = try decodeManifest(bytes, key: key)
        var removed = 0
        for piece in Self.ownKeys(of: manifest) + [key] where await node.removeLocally(piece) { removed += 1 }
        return DeleteSummary(keys: Self.ownKeys(of: manifest).count + 1, removed: removed, keptShared: Self.sharedCount(of: manifest))
    }

    // MARK: Pieces on replicas

    /// Stores `blobs` on every replica; returns how many replicas accepted all of them.
    private func store(_ blobs: [Blob], on replicas: [RingPeer]) async throws -> Int {
        let answers = await node.requestEach(to: replicas.map(\.address), timeout: .seconds(30)) {
            .store(request: $0, blobs: blobs, replication: false)
        }
        let accepted = answers.count { answer in
            guard case .stored(_, _, let refused) = answer else { return false }
            return refused.isEmpty
        }
        guard accepted > 0 else { throw DataError.pieceNotStored(blobs.first?.key ?? NodeID(high: 0, low: 0)) }
        return accepted
    }

    /// Fetches `keys` from the first replica that has them; copies what a replica lacked (or held
    /// damaged) back to it from a good copy. Returns the blobs and how many copies were repaired.
    private func fetchBatch(_ keys: [NodeID], from replicas: [RingPeer]) async throws -> ([Blob], Int) {
        var remaining = keys
        var found: [Blob] = []
        var lacking: [(RingPeer, Set<NodeID>)] = []
        for replica in replicas where !remaining.isEmpty {
            let answer = try? await node.request(to: replica.address, timeout: .seconds(10)) { .fetch(request: $0, keys: remaining) }
            guard case .fetched(_, let blobs, _) = answer else { continue }
            var good: Set<NodeID> = []
            for blob in blobs where verified(blob.bytes, blob.key) && !good.contains(blob.key) {
                good.insert(blob.key)
                found.append(blob)
            }
            let missed = Set(remaining).subtracting(good)
            if !missed.isEmpty { lacking.append((replica, missed)) }
            remaining = remaining.filter { !good.contains($0) }
        }
        if let key = remaining.first {
            throw DataError.pieceUnavailable(key, index: keys.firstIndex(of: key) ?? 0)
        }
        var repaired = 0
        let byKey = Dictionary(found.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for (replica, missed) in lacking {
            let copies = missed.compactMap { byKey[$0] }
            let answer = try? await node.request(to: replica.address, timeout: .seconds(30)) {
                .store(request: $0, blobs: copies, replication: true)
            }
            if case .stored(_, let accepted, _) = answer { repaired += Int(accepted) }
        }
        return (found, repaired)
    }

    /// Looks up the manifest under `key`, fetches it from its replicas (repairing those that lack
    /// it) and decodes it.
    private func fetchManifest(_ key: NodeID) async throws -> Manifest {
        let replicas = try await holders(of: key)
        let found: [Blob]
        do {
            (found, _) = try await fetchBatch([key], from: replicas)
        } catch DataError.pieceUnavailable {
            throw DataError.notFound(key)
        }
        guard let bytes = found.first?.bytes else { throw DataError.notFound(key) }
        return try decodeManifest(bytes, key: key)
    }

    // MARK: Helpers

    /// The r replicas of `key`, owner first: from the node's owner cache, else a lookup, tried
    /// again a few times while the ring repairs.
    private func holders(of key: NodeID) async throws -> [RingPeer] {
        var attempt = 0
        while true {
            do {
                return try await node.replicas(of: key)
            } catch let failure as LookupFailure {
                attempt += 1
                if attempt >= 4 { throw DataError.lookup(failure) }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// The manifest holding the whole file, read to its end, and the blob it is stored as (under
    /// BLAKE2b-128 of its encoding), for a file that is inline (`Manifest.isInline(fileSize:pieceSize:)`).
    private func inlineBlob(_ reader: consuming FilePieceReader, path: String, salt: UInt64) throws -> (Blob, Manifest) {
        let content: [UInt8]
        do { content = try reader.next() ?? [] } catch { throw DataError.file(error.description) }
        let (name, pieceSize) = (reader.name, reader.pieceSize)
        guard let fileHash = reader.finish() else {
            throw DataError.file("\(path) changed while it was read: write it again")
        }
        let manifest = Manifest(name: name, pieceSize: pieceSize, fileHash: fileHash, salt: salt, content: content)
        let encoded = manifest.encoded
        return (Blob(key: encoded.withUnsafeBytes { suite.digest128($0) }, bytes: encoded), manifest)
    }

    /// Writes an inline file's bytes into `folder`, after checking them against the file hash.
    private func write(
        _ content: [UInt8], of manifest: Manifest, into folder: String, started: ContinuousClock.Instant
    ) throws -> ReadSummary {
        let found = content.withUnsafeBytes { suite.digest128($0) }
        guard found == manifest.fileHash else { throw DataError.fileDamaged(expected: manifest.fileHash, found: found) }
        var assembler = try assemble(folder: folder, name: manifest.name)
        do {
            try assembler.write(content, at: 0)
        } catch {
            assembler.abandon()
            throw DataError.file(error.description)
        }
        return try commit(assembler, of: manifest, started: started, repaired: 0)
    }

    /// Puts the assembled file in place and sums the read up.
    private func commit(
        _ assembler: consuming FileAssembler, of manifest: Manifest, started: ContinuousClock.Instant, repaired: Int
    ) throws -> ReadSummary {
        let destination = assembler.destination
        do { try assembler.commit() } catch { throw DataError.file(error.description) }
        return ReadSummary(
            path: destination, bytes: manifest.fileSize, pieces: manifest.pieceTotal, seconds: seconds(since: started),
            repaired: repaired)
    }

    private func verified(_ bytes: [UInt8], _ key: NodeID) -> Bool { bytes.withUnsafeBytes { suite.digest128($0) } == key }

    private func decodeManifest(_ bytes: [UInt8], key: NodeID) throws -> Manifest {
        do {
            return try Manifest(decoding: bytes)
        } catch {
            throw DataError.notAManifest(key, reason: error.description)
        }
    }

    private func openPieces(_ path: String, pieceSize: Int) throws -> FilePieceReader {
        guard pieceSize >= 1, pieceSize <= Self.maximumPieceSize else { throw DataError.badPieceSize(pieceSize) }
        let reader: FilePieceReader
        do {
            reader = try FilePieceReader(path: path, pieceSize: UInt32(pieceSize))
        } catch {
            throw DataError.file(error.description)
        }
        let nameBytes = reader.name.utf8.count
        if Manifest.encodedSize(pieceCount: Int(reader.pieceCount), nameBytes: nameBytes) > Manifest.maximumEncodedBytes {
            let minimum = Manifest.minimumPieceSize(fileSize: reader.fileSize, nameBytes: nameBytes).map(Int.init) ?? Self.maximumPieceSize
            throw DataError.pieceSizeTooSmall(minimum: minimum)
        }
        return reader
    }

    private func assemble(folder: String, name: String) throws -> FileAssembler {
        let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        do {
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        } catch {
            throw DataError.file("cannot create the folder \(base) (\(error.localizedDescription)): check its parent's permissions")
        }
        do {
            return try FileAssembler(destination: base + "/" + name)
        } catch {
            throw DataError.file(error.description)
        }
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Which nodes hold which keys, learned from lookups: every key in `[low, owner]` (or in
/// `(predecessor, owner]` when the answer named it) belongs to `owner`. Each node keeps one
/// (`NodeHost.replicas(of:)`), so a run of writes and reads looks each range up once; it is
/// cleared whenever membership changes, since an owner may then have changed.
struct OwnerCache {
    private var ranges: [(low: NodeID, inclusive: Bool, replicas: [RingPeer])] = []
    private var epoch = -1
    /// The most ranges kept; the oldest go first.
    static let limit = 4096

    /// The replicas of `key` if a range learned since membership last changed (`epoch`) covers it.
    mutating func replicas(of key: NodeID, epoch current: Int) -> [RingPeer]? {
        if current != epoch {
            ranges = []
            epoch = current
        }
        for range in ranges {
            let owner = range.replicas[0].id
            if key == owner || (range.inclusive && key == range.low) || key.isIn(after: range.low, upTo: owner) {
                return range.replicas
            }
        }
        return nil
    }

    /// Remembers what a lookup of `key` found, learned at membership `epoch`.
    mutating func remember(_ found: LookupResult, epoch current: Int) {
        guard current == epoch else { return }
        if let predecessor = found.predecessor {
            ranges.append((predecessor.id, false, found.replicas))
        } else {
            ranges.append((found.key, true, found.replicas))
        }
        if ranges.count > Self.limit { ranges.removeFirst(ranges.count - Self.limit) }
    }
}
