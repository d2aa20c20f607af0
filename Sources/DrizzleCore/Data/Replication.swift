/// Replica maintenance and the serving side of the data protocol, sans-IO.
///
/// Every key lives on its owner (the first node at or after it on the ring) and the owner's
/// r − 1 successors. Two loops keep it so (after DHash's local and global maintenance):
/// - **local**: an owner offers the keys it owns to each of its r − 1 successors whenever its
///   store changed since that successor last confirmed; the successor answers with the keys it
///   lacks, which the owner then sends. This re-replicates after a failure (a survivor becomes
///   owner, or gets a new successor) within one maintenance interval.
/// - **global**: a node holding keys it does not own looks up their owner and offers them there;
///   the owner takes what it lacks (a join hands keys over this way), answers which were deleted
///   (tombstones win over stale replicas) and which the offerer may drop because it is no longer
///   among the r replicas.
/// Neither loop touches a blob written to this node only (`WL`, `PieceStore.isLocalOnly`).
public struct Replication: Sendable {
    /// What the node should do.
    public enum Output: Sendable, Equatable {
        case send(to: RingPeer, DataMessage)
        /// Look up `key` for the global loop; the result comes back through `lookupFinished`.
        case lookup(NodeID, token: UInt64)
    }

    /// Every request id and lookup token of replica maintenance carries this bit; a client's never
    /// does, so an answer is routed by its id alone.
    public static let tokenBit: UInt64 = 1 << 63

    public let me: RingPeer
    public let replicas: Int
    public var maintenanceIntervalNanoseconds: Int64
    /// Everything is offered again this often, whatever changed (catches lost messages).
    public var fullCheckIntervalNanoseconds: Int64
    /// Global rounds start at most this often.
    public var globalIntervalNanoseconds: Int64
    /// Stores and offers are split into messages of about this many bytes.
    public var messageBytes: Int

    /// Bumped by every change to the store that goes through this type.
    public private(set) var version: UInt64 = 0
    /// Keys written lately, with the version after each write (for incremental offers).
    private var recent: [(version: UInt64, key: NodeID)] = []
    private var recentFloor: UInt64 = 0
    private static let recentLimit = 200_000
    private var confirmed: [NodeID: UInt64] = [:]
    private var offers: [UInt64: (peer: RingPeer, keys: [NodeID], version: UInt64, local: Bool)] = [:]
    private var nextRequest: UInt64 = 1
    private var nextMaintenanceAt: Instant
    private var nextFullCheckAt: Instant
    private var nextGlobalAt: Instant
    private var globalQueue: [NodeID] = []
    private var globalLookup: UInt64?
    private var globalSignature: [NodeID] = []

    /// Counters for metrics and `RI`.
    public private(set) var damagedFound = 0
    public private(set) var copiesSent = 0
    public private(set) var surplusDropped = 0

    public init(
        me: RingPeer, replicas: Int, maintenanceIntervalNanoseconds: Int64 = 1_000_000_000,
        fullCheckIntervalNanoseconds: Int64 = 30_000_000_000, globalIntervalNanoseconds: Int64 = 5_000_000_000,
        messageBytes: Int = 4 << 20, now: Instant
    ) {
        self.me = me
        self.replicas = max(1, replicas)
        self.maintenanceIntervalNanoseconds = max(1, maintenanceIntervalNanoseconds)
        self.fullCheckIntervalNanoseconds = max(1, fullCheckIntervalNanoseconds)
        self.globalIntervalNanoseconds = max(1, globalIntervalNanoseconds)
        self.messageBytes = max(1024, messageBytes)
        nextMaintenanceAt = now.advanced(byNanoseconds: maintenanceIntervalNanoseconds)
        nextFullCheckAt = now.advanced(byNanoseconds: fullCheckIntervalNanoseconds)
        nextGlobalAt = now
    }

    // MARK: Serving

    /// Answers a data request from `sender`; replies (if any) go back to it.
    public mutating func serve(
        _ message: DataMessage, from sender: RingPeer, ring: ChordRing, store: inout some PieceStore,
        suite: some CryptoSuite
    ) -> [Output] {
        switch message {
        case .store(let request, let blobs, let replication):
            var accepted: UInt32 = 0
            var refused: [NodeID] = []
            var fresh: [Blob] = []
            var queued: Set<NodeID> = []
            for blob in blobs {
                if blob.bytes.withUnsafeBytes({ suite.digest128($0) }) != blob.key
                    || (replication && store.isBuried(blob.key))
                {
                    refused.append(blob.key)
                    continue
                }
                if !replication, store.isBuried(blob.key) { store.unbury(blob.key) }
                if store.contains(blob.key) || !queued.insert(blob.key).inserted {
                    accepted += 1
                } else {
                    fresh.append(blob)
                }
            }
            // One group commit for the whole message.
            for (blob, written) in zip(fresh, store.write(batch: fresh)) {
                if written {
                    accepted += 1
                    noteWrite(blob.key)
                } else {
                    refused.append(blob.key)
                }
            }
            return [.send(to: sender, .stored(request: request, accepted: accepted, refused: refused))]
        case .fetch(let request, let keys):
            var blobs: [Blob] = []
            var missing: [NodeID] = []
            for key in keys {
                guard let bytes = store.read(key) else {
                    missing.append(key)
                    continue
                }
                if bytes.withUnsafeBytes({ suite.digest128($0) }) == key {
                    blobs.append(Blob(key: key, bytes: bytes))
                } else {
                    // Damaged on disk: drop it so a good replica's copy can take its place.
                    damagedFound += 1
                    store.remove(key)
                    version &+= 1
                    missing.append(key)
                }
            }
            return [.send(to: sender, .fetched(request: request, blobs: blobs, missing: missing))]
        case .delete(let request, let keys):
            var removed: UInt32 = 0
            for key in keys where store.contains(key) { removed += 1 }
            store.bury(batch: keys)
            version &+= 1
            return [.send(to: sender, .deleted(request: request, removed: removed))]
        case .offer(let request, let keys):
            var wanted: [NodeID] = []
            var buried: [NodeID] = []
            var surplus: [NodeID] = []
            let replicaSet = ring.successors.prefix(replicas - 1)
            let offererIsReplica = replicaSet.contains { $0.id == sender.id }
            let replicasConfirmed = replicaSet.allSatisfy { confirmed[$0.id] == version }
            for key in keys {
                if store.isBuried(key) {
                    buried.append(key)
                } else if !store.contains(key) {
                    wanted.append(key)
                } else if !offererIsReplica, replicasConfirmed, owns(key, ring: ring) {
                    surplus.append(key)
                }
            }
            return [.send(to: sender, .offerReply(request: request, wanted: wanted, buried: buried, surplus: surplus))]
        case .offerReply(let request, let wanted, let buried, let surplus):
            guard let offer = offers.removeValue(forKey: request), offer.peer.id == sender.id else { return [] }
            let offered = Set(offer.keys)
            let dropped = buried.filter { offered.contains($0) }
            if !dropped.isEmpty {
                store.bury(batch: dropped)
                version &+= 1
            }
            for key in surplus where offered.contains(key) && !owns(key, ring: ring) {
                store.remove(key)
                surplusDropped += 1
                version &+= 1
            }
            if offer.local { confirmed[sender.id] = offer.version }
            let blobs = wanted.filter { offered.contains($0) }.compactMap { key in store.read(key).map { Blob(key: key, bytes: $0) } }
            copiesSent += blobs.count
            return batches(of: blobs).map { .send(to: sender, .store(request: takeRequest(), blobs: $0, replication: true)) }
        case .stored, .fetched, .deleted:
            return []
        }
    }

    /// Records a write made by this node itself (a local write, `WL`).
    public mutating func noteWrite(_ key: NodeID) {
        version &+= 1
        recent.append((version, key))
        if recent.count > Self.recentLimit {
            recentFloor = recent[recent.count / 2].version
            recent.removeFirst(recent.count / 2)
        }
    }

    /// Records a removal made by this node itself.
    public mutating func noteRemoval() { version &+= 1 }

    // MARK: Maintenance

    public mutating func tick(now: Instant, ring: ChordRing, store: some PieceStore) -> [Output] {
        guard nextMaintenanceAt <= now else { return [] }
        nextMaintenanceAt = now.advanced(byNanoseconds: maintenanceIntervalNanoseconds)
        if nextFullCheckAt <= now {
            nextFullCheckAt = now.advanced(byNanoseconds: fullCheckIntervalNanoseconds)
            confirmed = [:]
            globalSignature = []
            offers = [:]
        }
        guard ring.predecessor != nil, !ring.successors.isEmpty, store.count > 0 else { return [] }
        var outputs: [Output] = []
        // Local: owned keys to the successors that hold a stale picture.
        let stale = ring.successors.prefix(replicas - 1).filter { confirmed[$0.id] != version }
        var owned: [NodeID]?
        for successor in stale where !offers.values.contains(where: { $0.peer.id == successor.id && $0.local }) {
            let keys: [NodeID]
            if let since = confirmed[successor.id], since >= recentFloor {
                keys = recent.filter { $0.version > since }.map(\.key).filter {
                    owns($0, ring: ring) && !store.isLocalOnly($0)
                }
            } else {
                if owned == nil { owned = store.keys.filter { owns($0, ring: ring) && !store.isLocalOnly($0) } }
                keys = owned ?? []
            }
            outputs += offer(keys, to: successor, local: true)
        }
        // Global: keys held but not owned, offered to their owners.
        let signature = [ring.predecessor?.id ?? me.id] + ring.successors.map(\.id) + [NodeID(high: 0, low: version)]
        if globalLookup == nil, globalQueue.isEmpty, nextGlobalAt <= now, signature != globalSignature {
            globalSignature = signature
            nextGlobalAt = now.advanced(byNanoseconds: globalIntervalNanoseconds)
            globalQueue = store.keys.filter { !owns($0, ring: ring) && !store.isLocalOnly($0) }
                .sorted { me.id.distance(to: $0) < me.id.distance(to: $1) }
            outputs += nextGlobalLookup()
        }
        return outputs
    }

    /// The end of a global-loop lookup.
    public mutating func lookupFinished(
        token: UInt64, _ result: Result<LookupResult, LookupFailure>, ring: ChordRing
    ) -> [Output] {
        guard token == globalLookup else { return [] }
        globalLookup = nil
        guard case .success(let found) = result, let first = globalQueue.first else {
            globalQueue = []
            return []
        }
        let owner = found.owner
        var count = 0
        while count < globalQueue.count,
            globalQueue[count] == first || globalQueue[count].isIn(after: first, upTo: owner.id)
        {
            count += 1
        }
        let batch = Array(globalQueue.prefix(count))
        globalQueue.removeFirst(count)
        var outputs = owner.id == me.id ? [] : offer(batch, to: owner, local: false)
        outputs += nextGlobalLookup()
        return outputs
    }

    /// True when this node owns `key`: it lies in (predecessor, me].
    public func owns(_ key: NodeID, ring: ChordRing) -> Bool {
        guard let predecessor = ring.predecessor else { return ring.successors.isEmpty }
        return key.isIn(after: predecessor.id, upTo: me.id)
    }

    /// Forgets what a node that left confirmed.
    public mutating func forget(_ id: NodeID) {
        confirmed[id] = nil
        offers = offers.filter { $0.value.peer.id != id }
    }

    // MARK: Internals

    private mutating func nextGlobalLookup() -> [Output] {
        guard let first = globalQueue.first else { return [] }
        let token = takeRequest()
        globalLookup = token
        return [.lookup(first, token: token)]
    }

    private mutating func offer(_ keys: [NodeID], to peer: RingPeer, local: Bool) -> [Output] {
        if keys.isEmpty {
            if local { confirmed[peer.id] = version }
            return []
        }
        let perMessage = max(1, messageBytes / 16)
        var outputs: [Output] = []
        var start = 0
        while start < keys.count {
            let chunk = Array(keys[start..<min(keys.count, start + perMessage)])
            let request = takeRequest()
            offers[request] = (peer, chunk, version, local)
            outputs.append(.send(to: peer, .offer(request: request, keys: chunk)))
            start += perMessage
        }
        return outputs
    }

    private func batches(of blobs: [Blob]) -> [[Blob]] {
        var result: [[Blob]] = []
        var current: [Blob] = []
        var bytes = 0
        for blob in blobs {
            if !current.isEmpty, bytes + blob.bytes.count > messageBytes {
                result.append(current)
                current = []
                bytes = 0
            }
            current.append(blob)
            bytes += blob.bytes.count + 20
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    private mutating func takeRequest() -> UInt64 {
        defer { nextRequest &+= 1 }
        return nextRequest | Self.tokenBit
    }
}
