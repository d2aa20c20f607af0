import DrizzleCore
import DrizzleCrypto
import Testing

/// A two-or-more node ring put together by hand (its neighbours adopted), for the data rules.
private func ring(_ me: RingPeer, successors: [RingPeer], predecessor: RingPeer?) -> ChordRing {
    var ring = ChordRing(me: me, now: Instant(nanoseconds: 0))
    ring.adopt(successors: successors, predecessor: predecessor, now: Instant(nanoseconds: 0))
    return ring
}

private func blob(_ text: String) -> Blob {
    let bytes = Array(text.utf8)
    return Blob(key: bytes.withUnsafeBytes { Fixture.suite.digest128($0) }, bytes: bytes)
}

private func peer(_ high: UInt64) -> RingPeer { RingPeer(id: NodeID(high: high, low: 0), address: "n\(high)") }

private func reply(_ outputs: [Replication.Output]) -> DataMessage? {
    for case .send(_, let message) in outputs { return message }
    return nil
}

@Suite("Data messages and replica maintenance")
struct ReplicationTests {
    let a = peer(100), b = peer(200), c = peer(300), d = peer(400)

    @Test("data messages round-trip and every truncation or random body decodes to nil")
    func codec() {
        let messages: [DataMessage] = [
            .store(request: 1, blobs: [blob("x"), blob("yy")], replication: true),
            .stored(request: 2, accepted: 3, refused: [blob("z").key]),
            .fetch(request: 3, keys: [blob("x").key]),
            .fetched(request: 4, blobs: [blob("x")], missing: [blob("q").key]),
            .delete(request: 5, keys: [blob("x").key]), .deleted(request: 6, removed: 9),
            .offer(request: 7, keys: [blob("x").key, blob("y").key]),
            .offerReply(request: 8, wanted: [blob("x").key], buried: [], surplus: [blob("y").key]),
        ]
        for message in messages {
            let frame = message.frame
            #expect(DataMessage(frame: frame) == message)
            for cut in 0..<frame.body.count {
                #expect(DataMessage(frame: Frame(type: frame.type, body: Array(frame.body.prefix(cut)))) == nil)
            }
            #expect(DataMessage(frame: Frame(type: frame.type, body: frame.body + [0])) == nil)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let type = UInt8.random(in: 0x50...0x57, using: &generator)
            let body = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = DataMessage(frame: Frame(type: type, body: body))
        }
    }

    @Test("a store refuses a blob whose bytes do not hash to its key, and keeps the good ones")
    func storeChecksHashes() {
        var replication = Replication(me: b, replicas: 3, now: Instant(nanoseconds: 0))
        var store = MemoryPieceStore()
        let good = blob("good"), forged = Blob(key: blob("other").key, bytes: Array("evil".utf8))
        let outputs = replication.serve(
            .store(request: 1, blobs: [good, forged], replication: false), from: a,
            ring: ring(b, successors: [c, d], predecessor: a), store: &store, suite: Fixture.suite)
        #expect(reply(outputs) == .stored(request: 1, accepted: 1, refused: [forged.key]))
        #expect(store.contains(good.key) && !store.contains(forged.key))
    }

    @Test("a deleted key is refused as a replica copy but a client may write it again")
    func tombstones() {
        var replication = Replication(me: b, replicas: 3, now: Instant(nanoseconds: 0))
        var store = MemoryPieceStore()
        let here = ring(b, successors: [c, d], predecessor: a)
        let piece = blob("piece")
        _ = replication.serve(.store(request: 1, blobs: [piece], replication: false), from: a, ring: here, store: &store, suite: Fixture.suite)
        let deleted = replication.serve(.delete(request: 2, keys: [piece.key]), from: a, ring: here, store: &store, suite: Fixture.suite)
        #expect(reply(deleted) == .deleted(request: 2, removed: 1))
        let copy = replication.serve(.store(request: 3, blobs: [piece], replication: true), from: c, ring: here, store: &store, suite: Fixture.suite)
        #expect(reply(copy) == .stored(request: 3, accepted: 0, refused: [piece.key]))
        let offered = replication.serve(.offer(request: 4, keys: [piece.key]), from: c, ring: here, store: &store, suite: Fixture.suite)
        #expect(reply(offered) == .offerReply(request: 4, wanted: [], buried: [piece.key], surplus: []))
        let rewrite = replication.serve(.store(request: 5, blobs: [piece], replication: false), from: a, ring: here, store: &store, suite: Fixture.suite)
        #expect(reply(rewrite) == .stored(request: 5, accepted: 1, refused: []))
        #expect(store.contains(piece.key) && !store.isBuried(piece.key))
    }

    @Test("a fetch that finds damaged bytes removes them and reports the key missing")
    func damagedFetch() {
        var replication = Replication(me: b, replicas: 3, now: Instant(nanoseconds: 0))
        var store = MemoryPieceStore()
        let piece = blob("piece")
        store.overwrite(piece.key, with: Array("rotten".utf8))
        let outputs = replication.serve(
            .fetch(request: 1, keys: [piece.key]), from: a, ring: ring(b, successors: [c, d], predecessor: a), store: &store,
            suite: Fixture.suite)
        #expect(reply(outputs) == .fetched(request: 1, blobs: [], missing: [piece.key]))
        #expect(!store.contains(piece.key))
        #expect(replication.damagedFound == 1)
    }

    @Test("an owner offers its keys to its successors and sends what they lack")
    func localMaintenance() {
        // b owns (a, b]; its successors c and d are the other replicas.
        let key = NodeID(high: 150, low: 0)
        var replication = Replication(me: b, replicas: 3, maintenanceIntervalNanoseconds: 1, now: Instant(nanoseconds: 0))
        var store = MemoryPieceStore()
        let here = ring(b, successors: [c, d], predecessor: a)
        _ = store.write(key, [1, 2, 3])
        replication.noteWrite(key)
        let offers = replication.tick(now: Instant(nanoseconds: 10), ring: here, store: store)
        let targets = offers.compactMap { output -> String? in
            if case .send(let to, .offer(_, let keys)) = output, keys == [key] { return to.address }
            return nil
        }
        #expect(Set(targets) == ["n300", "n400"])
        guard case .send(_, .offer(let request, _)) = offers.first else {
            Issue.record("no offer")
            return
        }
        let sends = replication.serve(
            .offerReply(request: request, wanted: [key], buried: [], surplus: []), from: offers.first.map { output in
                if case .send(let to, _) = output { return to }
                return c
            } ?? c, ring: here, store: &store, suite: Fixture.suite)
        guard case .send(_, .store(let copyRequest, let blobs, let isCopy))? = sends.first else {
            Issue.record("no store after the offer reply")
            return
        }
        #expect(isCopy && blobs == [Blob(key: key, bytes: [1, 2, 3])])
        // Maintenance ids carry the token bit, so their answers never reach a client's waiting request.
        #expect(request & Replication.tokenBit != 0 && copyRequest & Replication.tokenBit != 0)
    }

    @Test("the owner tells a node outside the replica set that its copy is surplus once the replicas confirmed")
    func surplus() {
        let key = NodeID(high: 150, low: 0)
        var replication = Replication(me: b, replicas: 2, maintenanceIntervalNanoseconds: 1, now: Instant(nanoseconds: 0))
        var store = MemoryPieceStore()
        let here = ring(b, successors: [c], predecessor: a)
        _ = store.write(key, [9])
        replication.noteWrite(key)
        // c confirms it holds everything b owns.
        let offers = replication.tick(now: Instant(nanoseconds: 10), ring: here, store: store)
        guard case .send(let to, .offer(let request, _))? = offers.first else {
            Issue.record("no offer")
            return
        }
        _ = replication.serve(
            .offerReply(request: request, wanted: [], buried: [], surplus: []), from: to, ring: here, store: &store,
            suite: Fixture.suite)
        // d (not a replica) offers its stale copy: surplus. c (a replica) offering it: nothing.
        let fromD = replication.serve(.offer(request: 50, keys: [key]), from: d, ring: here, store: &store, suite: Fixture.suite)
        #expect(reply(fromD) == .offerReply(request: 50, wanted: [], buried: [], surplus: [key]))
        let fromC = replication.serve(.offer(request: 51, keys: [key]), from: c, ring: here, store: &store, suite: Fixture.suite)
        #expect(reply(fromC) == .offerReply(request: 51, wanted: [], buried: [], surplus: []))
    }
}
