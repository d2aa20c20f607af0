import DrizzleCore
import DrizzleSim

/// Frames from three peers, sealed by the harness and fed to a whole `NodeCore` with virtual time
/// passing, so the fuzzer drives membership, gossip, ring, data, clock and bus state machines with
/// arbitrary but authenticated messages (a compromised or buggy peer). Signatures use the
/// simulator's `--no-crypto` suite: authentication is the envelope target's business; here it
/// would only cost time.
///
/// Input: records `[sender][advance][type][length: UInt16 BE][body]`. `sender` 0xFF ticks the node
/// without a message; otherwise bits 0–1 pick the peer (1–3, 0 meaning 1) and bit 6 sends over
/// the reliable transport (TCP's limits). Virtual time advances `advance` × 10 ms before the
/// record; the node ticks after each record that advanced time.
enum NodeTarget {
    typealias Core = NodeCore<NullSigner, NullSuite>
    static let tickOnly: UInt8 = 0xFF
    static let reliableFlag: UInt8 = 0x40
    static let step: Int64 = 10_000_000

    /// The four identities (the target is 0), the same in every run.
    static let directory: SimDirectory<NullSigner> = {
        var random = SimRandom(seed: 0x00F0_22ED)
        return SimIdentities.unsigned(count: 4, random: &random, now: FuzzIdentities.now)
    }()

    static func makeCore(_ position: Int) -> Core {
        var trust = TrustStore()
        try? trust.trust(directory.authority, suite: NullSuite())
        return Core(
            signer: directory.signers[position], certificate: directory.certificates[position], trust: trust,
            suite: NullSuite(), address: NodeSimNode<NullSigner, NullSuite>.address(of: position), epoch: 1,
            now: FuzzIdentities.now)
    }

    /// A fresh target and its peers' links, copied for each run (building them costs more than
    /// most inputs).
    static let freshNode = makeCore(0)
    static let freshPeers = (1...3).map { directory.link(for: $0, suite: NullSuite()) }

    static func run(_ input: [UInt8]) -> FuzzTarget.Outcome {
        var node = freshNode
        var peers = freshPeers
        var store = MemoryPieceStore()
        var random = SimRandom(seed: 7)
        var now = FuzzIdentities.now
        var reader = ByteReader(input)
        var accepted = false
        while let sender = reader.readUInt8(), let advance = reader.readUInt8() {
            now = now.advanced(byNanoseconds: Int64(advance) * step)
            if sender != tickOnly {
                guard let type = reader.readUInt8(), let length = reader.readUInt16(),
                    let body = reader.readBytes(min(Int(length), reader.remaining))
                else { break }
                let peer = max(1, Int(sender & 0x03))
                let reliable = sender & reliableFlag != 0
                if let bytes = peers[peer - 1].seal(
                    [Frame(type: type, body: body)], to: 0, reliable: reliable, at: now)
                {
                    let before = node.link.opener.drops.total
                    _ = node.receive(
                        bytes, from: NodeSimNode<NullSigner, NullSuite>.address(of: peer), reliable: reliable, now: now,
                        using: &random, store: &store)
                    if node.link.opener.drops.total == before { accepted = true }
                }
            }
            if advance > 0 || sender == tickOnly { _ = node.tick(now: now, using: &random, store: &store) }
        }
        return accepted ? .accepted : .rejected
    }

    /// One envelope node 0 received in the recorded exchange.
    struct Arrival {
        var peer: Int
        var advanceSteps: Int
        var reliable: Bool
        var frames: [Frame]
    }

    /// Four real cores (no crypto) joining through node 0 for six virtual seconds, publishing
    /// events, looking up keys, storing, fetching and deleting data: every envelope node 0 receives
    /// from the others, opened.
    static let recordedExchange: [Arrival] = {
        var cores = (0...3).map(makeCore)
        var stores = Array(repeating: MemoryPieceStore(), count: 4)
        var openers = (0...3).map { _ in
            var trust = TrustStore()
            try? trust.trust(directory.authority, suite: NullSuite())
            return EnvelopeOpener(suite: NullSuite(), trust: trust, maximumLength: EnvelopeHeader.streamLimit)
        }
        var random = SimRandom(seed: 11)
        var now = FuzzIdentities.now
        var lastArrival = now
        var arrivals: [Arrival] = []
        var queue: [(from: Int, effects: [Core.Effect])] = []
        for peer in 1...3 {
            queue.append((peer, cores[peer].join(seeds: [NodeSimNode<NullSigner, NullSuite>.address(of: 0)], now: now)))
        }
        let blob = Blob(key: NullSuite().digest128Of([1, 2, 3]), bytes: [1, 2, 3])
        for tick in 0..<600 {
            now = now.advanced(byNanoseconds: step)
            for position in 0...3 {
                queue.append((position, cores[position].tick(now: now, using: &random, store: &stores[position])))
            }
            switch tick {
            case 150, 300:
                let payload = Array("event \(tick)".utf8)
                if let effects = try? cores[tick / 150].publish(topic: "fuzz", payload: payload, now: now, using: &random) {
                    queue.append((tick / 150, effects))
                }
            case 200: queue.append((2, cores[2].lookup(blob.key, token: 9, now: now)))
            case 250, 350, 450:
                let message: DataMessage =
                    switch tick {
                    case 250: .store(request: 1, blobs: [blob], replication: false)
                    case 350: .fetch(request: 2, keys: [blob.key])
                    default: .delete(request: 3, keys: [blob.key])
                    }
                queue.append((3, cores[3].request(message, to: NodeSimNode<NullSigner, NullSuite>.address(of: 0), now: now)))
            default: break
            }
            while !queue.isEmpty {
                let (from, effects) = queue.removeFirst()
                for case .send(let address, let bytes, let reliable) in effects {
                    guard let target = NodeSimNode<NullSigner, NullSuite>.index(of: address), target != from else { continue }
                    if target == 0, case .success(let opened) = openers[from].open(bytes, at: now) {
                        let steps = Int((now.nanoseconds - lastArrival.nanoseconds) / step)
                        arrivals.append(Arrival(peer: from, advanceSteps: steps, reliable: reliable, frames: opened.frames))
                        lastArrival = now
                    }
                    queue.append(
                        (target, cores[target].receive(
                            bytes, from: NodeSimNode<NullSigner, NullSuite>.address(of: from), reliable: reliable, now: now,
                            using: &random, store: &stores[target])))
                }
            }
        }
        return arrivals
    }()

    /// The recorded exchange as records, thirty envelopes to a seed (inputs stay short, so each
    /// run is quick; the fuzzer splices seeds together).
    static var seeds: [[UInt8]] {
        func records(_ arrivals: ArraySlice<Arrival>) -> [UInt8] {
            var writer = ByteWriter()
            for arrival in arrivals where arrival.peer != 0 {
                for (index, frame) in arrival.frames.enumerated() where frame.body.count <= Int(UInt16.max) {
                    writer.write(UInt8(arrival.peer) | (arrival.reliable ? reliableFlag : 0))
                    writer.write(UInt8(index == 0 ? min(arrival.advanceSteps, 254) : 0))
                    writer.write(frame.type)
                    writer.write(UInt16(frame.body.count))
                    writer.write(bytes: frame.body)
                }
            }
            return writer.finish()
        }
        return stride(from: 0, to: recordedExchange.count, by: 30).map {
            records(recordedExchange[$0..<min($0 + 30, recordedExchange.count)])
        }
    }
}

extension NullSuite {
    fileprivate func digest128Of(_ bytes: [UInt8]) -> NodeID { bytes.withUnsafeBytes { digest128($0) } }
}
