import DrizzleCore
import Testing

/// A few rings wired together in memory: every message is delivered at once, in the order sent.
private struct RingNetwork {
    var rings: [String: ChordRing] = [:]
    var now = Instant(unixSeconds: 1_767_225_600)
    var finished: [UInt64: Result<LookupResult, LookupFailure>] = [:]
    private var queue: [(from: String, to: String, message: RingMessage)] = []

    init(_ peers: [RingPeer]) {
        for peer in peers { rings[peer.address] = ChordRing(me: peer, now: now) }
    }

    mutating func absorb(_ outputs: [ChordRing.Output], from address: String) {
        for output in outputs {
            switch output {
            case .send(let to, let message): queue.append((address, to, message))
            case .lookupFinished(let token, let result): finished[token] = result
            case .predecessorChanged, .successorsChanged: break
            }
        }
        deliver()
    }

    /// Runs `body` on the ring at `address` and delivers what it sends.
    mutating func on(_ address: String, _ body: (inout ChordRing, Instant) -> [ChordRing.Output]) {
        guard var ring = rings[address] else { return }
        let outputs = body(&ring, now)
        rings[address] = ring
        absorb(outputs, from: address)
    }

    /// Advances the clock and ticks every ring, in address order.
    mutating func tick(advancingNanoseconds step: Int64) {
        now = now.advanced(byNanoseconds: step)
        for address in rings.keys.sorted() { on(address) { ring, now in ring.tick(now: now) } }
    }

    private mutating func deliver() {
        while !queue.isEmpty {
            let (from, to, message) = queue.removeFirst()
            guard let sender = rings[from]?.me.id, var ring = rings[to] else { continue }
            let outputs = ring.receive(message, from: sender, address: from, now: now)
            rings[to] = ring
            for output in outputs {
                switch output {
                case .send(let next, let reply): queue.append((to, next, reply))
                case .lookupFinished(let token, let result): finished[token] = result
                case .predecessorChanged, .successorsChanged: break
                }
            }
        }
    }
}

@Suite("Ring arithmetic on the 128-bit circle")
struct RingMathTests {
    @Test("adding a power of two carries from the low word into the high word and wraps at 2^128")
    func advancedCarries() {
        #expect(NodeID(high: 0, low: .max).advanced(byPowerOfTwo: 0) == NodeID(high: 1, low: 0))
        #expect(NodeID(high: 5, low: 1 << 63).advanced(byPowerOfTwo: 63) == NodeID(high: 6, low: 0))
        #expect(NodeID(high: 5, low: 1 << 62).advanced(byPowerOfTwo: 63) == NodeID(high: 5, low: 3 << 62))
        #expect(NodeID(high: .max, low: .max).advanced(byPowerOfTwo: 0) == NodeID(high: 0, low: 0))
        #expect(NodeID(high: 2, low: 9).advanced(byPowerOfTwo: 64) == NodeID(high: 3, low: 9))
        #expect(NodeID(high: .max, low: 7).advanced(byPowerOfTwo: 64) == NodeID(high: 0, low: 7))
        #expect(NodeID(high: 1 << 63, low: 3).advanced(byPowerOfTwo: 127) == NodeID(high: 0, low: 3))
        #expect(NodeID(high: 0, low: 0).advanced(byPowerOfTwo: 100) == NodeID(high: 1 << 36, low: 0))
    }

    @Test("the clockwise distance wraps around zero and the two ways round add up to the circle")
    func distance() {
        let top = NodeID(high: .max, low: .max)
        let zero = NodeID(high: 0, low: 0)
        #expect(top.distance(to: zero) == NodeID(high: 0, low: 1))
        #expect(zero.distance(to: top) == top)
        #expect(NodeID(high: 1, low: 0).distance(to: NodeID(high: 0, low: .max)) == top)
        #expect(NodeID(high: 4, low: 4).distance(to: NodeID(high: 4, low: 4)) == zero)
        let a = NodeID(high: 3, low: .max)
        let b = NodeID(high: 0xF0, low: 2)
        let there = a.distance(to: b)
        // there + back = 2^128 ≡ 0: adding the words carries out of the top.
        let back = b.distance(to: a)
        let (low, carry) = there.low.addingReportingOverflow(back.low)
        #expect(low == 0 && there.high &+ back.high &+ (carry ? 1 : 0) == 0)
    }

    @Test("(start, end] and (start, end) on an arc that wraps past zero")
    func wrappingArcs() {
        let start = NodeID(high: .max, low: 0)
        let end = NodeID(high: 0, low: 10)
        #expect(!start.isIn(after: start, upTo: end))
        #expect(NodeID(high: .max, low: 1).isIn(after: start, upTo: end))
        #expect(NodeID(high: 0, low: 0).isIn(after: start, upTo: end))
        #expect(end.isIn(after: start, upTo: end))
        #expect(!NodeID(high: 0, low: 11).isIn(after: start, upTo: end))
        #expect(!NodeID(high: 1 << 63, low: 0).isIn(after: start, upTo: end))

        #expect(!start.isStrictly(after: start, before: end))
        #expect(NodeID(high: .max, low: .max).isStrictly(after: start, before: end))
        #expect(NodeID(high: 0, low: 9).isStrictly(after: start, before: end))
        #expect(!end.isStrictly(after: start, before: end))
        #expect(!NodeID(high: 7, low: 0).isStrictly(after: start, before: end))
    }

    @Test("an arc from a point to itself is the whole circle; the open arc leaves out the point")
    func fullCircle() {
        let point = NodeID(high: 42, low: 42)
        for id in [point, NodeID(high: 0, low: 0), NodeID(high: .max, low: .max), NodeID(high: 42, low: 43)] {
            #expect(id.isIn(after: point, upTo: point))
            #expect(id.isStrictly(after: point, before: point) == (id != point))
        }
    }
}

@Suite("Ring message codec")
struct RingMessageCodecTests {
    static let peers = [
        RingPeer(id: NodeID(high: 1, low: 2), address: "10.0.0.1:4000"),
        RingPeer(id: NodeID(high: .max, low: 0), address: "[::1]:4001"),
        RingPeer(id: NodeID(high: 0, low: .max), address: "nöde.example:9"),
    ]

    static let samples: [RingMessage] = [
        .findNext(lookup: 7, key: NodeID(high: 0xDEAD, low: 0xBEEF)),
        .next(lookup: .max, key: NodeID(high: 3, low: 4), done: true, peers: peers),
        .next(lookup: 1, key: NodeID(high: 0, low: 0), done: false, peers: []),
        .neighborsRequest(nonce: 99),
        .neighbors(nonce: 5, predecessor: peers[1], successors: peers),
        .neighbors(nonce: 6, predecessor: nil, successors: []),
        .notify(address: "192.168.1.20:7946"),
        .notify(address: ""),
    ]

    @Test("every ring message survives encode and decode", arguments: samples)
    func roundTrip(_ message: RingMessage) {
        #expect(RingMessage(frame: message.frame) == message)
    }

    @Test("every truncation, and a trailing byte, decode to nil", arguments: samples)
    func truncations(_ message: RingMessage) {
        let frame = message.frame
        for length in 0..<frame.body.count {
            #expect(RingMessage(frame: Frame(type: frame.type, body: Array(frame.body[0..<length]))) == nil)
        }
        #expect(RingMessage(frame: Frame(type: frame.type, body: frame.body + [0])) == nil)
    }

    @Test("another component's frame type, a bad flag, too many peers and bad UTF-8 decode to nil")
    func malformed() {
        let body = RingMessage.findNext(lookup: 1, key: NodeID(high: 1, low: 1)).frame.body
        #expect(RingMessage(frame: Frame(type: 0x3F, body: body)) == nil)
        #expect(RingMessage(frame: Frame(type: 0x45, body: body)) == nil)

        var next = RingMessage.next(lookup: 1, key: NodeID(high: 1, low: 1), done: true, peers: []).frame
        next.body[24] = 2  // done is 0 or 1
        #expect(RingMessage(frame: next) == nil)

        // Two well-formed peers in the predecessor's place: at most one is allowed.
        let two = RingMessage.neighbors(nonce: 1, predecessor: nil, successors: Array(Self.peers[0..<2])).frame
        let twoPredecessors = Array(two.body[0..<8]) + [2] + Array(two.body[10...]) + [0]
        #expect(RingMessage(frame: Frame(type: two.type, body: twoPredecessors)) == nil)

        // 33 well-formed peers: one more than a message may carry.
        let peer = RingPeer(id: NodeID(high: 8, low: 8), address: "x")
        var many = RingMessage.neighbors(nonce: 1, predecessor: nil, successors: Array(repeating: peer, count: 40))
            .frame
        #expect(many.body[9] == 32)
        many.body[9] = 33
        many.body += many.body.suffix(18)
        #expect(RingMessage(frame: many) == nil)

        var notify = RingMessage.notify(address: "ab").frame
        notify.body[1] = 0xFF  // not UTF-8
        #expect(RingMessage(frame: notify) == nil)
    }

    @Test("random bytes never crash the decoder; whatever decodes re-encodes to the same bytes")
    func randomBytes() {
        var random = SplitMix(seed: 2026)  // EnvelopeTests.swift
        var decoded = 0
        for _ in 0..<20_000 {
            let type = UInt8(0x40 + Int(random.next() % 5))
            let count = Int(random.next() % 120)
            let body = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            guard let message = RingMessage(frame: Frame(type: type, body: body)) else { continue }
            decoded += 1
            #expect(message.frame == Frame(type: type, body: body))
        }
        // Only the short fixed-size messages come out of random bytes, and rarely.
        #expect(decoded < 1_000)
    }
}

@Suite("Chord ring state machine")
struct ChordRingTests {
    static func peer(_ high: UInt64, _ name: String) -> RingPeer {
        RingPeer(id: NodeID(high: high, low: 0), address: name)
    }

    @Test("a second node joins a lone node: join, stabilize and notify make each the other's successor and predecessor")
    func twoNodeRing() throws {
        let a = Self.peer(1 << 60, "a")
        let b = Self.peer(3 << 62, "b")
        var network = RingNetwork([a, b])
        #expect(network.rings["a"]?.isAlone == true)
        network.on("b") { ring, now in ring.join(via: "a", now: now) }
        #expect(network.rings["b"]?.successor == a)
        for _ in 0..<6 { network.tick(advancingNanoseconds: 500_000_000) }
        let ringA = try #require(network.rings["a"])
        let ringB = try #require(network.rings["b"])
        #expect(ringA.successor == b && ringA.predecessor == b)
        #expect(ringB.successor == a && ringB.predecessor == a)
        #expect(!ringA.isAlone && !ringB.isAlone)

        // Each answers for its own arc, in no hops.
        network.on("a") { ring, now in ring.lookup(NodeID(high: 1 << 62, low: 0), token: 1, now: now) }
        network.on("a") { ring, now in ring.lookup(NodeID(high: 1 << 59, low: 0), token: 2, now: now) }
        network.on("b") { ring, now in ring.lookup(NodeID(high: .max, low: 0), token: 3, now: now) }
        let owners = try [1, 2, 3].map { token in try #require(network.finished[UInt64(token)]).get() }
        #expect(owners.map(\.owner) == [b, a, a])
        #expect(owners.allSatisfy { $0.hops == 0 })
    }

    @Test("the next hop is the closest preceding finger, not a closer successor, as Chord counts path length")
    func routesByFingers() throws {
        // u = 2^100. Node 0 has successors u, 2u, 3u; its fingers name u (starts up to u), 2u
        // (start 2^101) and then 2^120. For key 3.5u the closest preceding finger is 2u, though
        // the successor 3u is closer.
        let nodes = [
            Self.peer(0, "n0"), Self.peer(1 << 36, "n1"), Self.peer(2 << 36, "n2"), Self.peer(3 << 36, "n3"),
            Self.peer(1 << 56, "n4"), Self.peer(1 << 62, "n5"),
        ]
        var network = RingNetwork(nodes)
        for (index, node) in nodes.enumerated() {
            let successors = (1...3).map { nodes[(index + $0) % nodes.count] }
            let predecessor = nodes[(index + nodes.count - 1) % nodes.count]
            network.on(node.address) { ring, now in
                ring.adopt(successors: successors, predecessor: predecessor, now: now)
                return []
            }
        }
        // Fix-fingers refreshes one finger per 100 ms; two passes over 128 entries fill them all.
        for _ in 0..<260 { network.tick(advancingNanoseconds: 100_000_000) }
        let ring = try #require(network.rings["n0"])
        #expect(ring.fingers.entries[100] == nodes[1])
        #expect(ring.fingers.entries[101] == nodes[2])
        #expect(ring.fingers.entries[102] == nodes[4])

        let key = NodeID(high: 7 << 35, low: 0)
        let (done, peers) = ring.answer(for: key)
        #expect(!done)
        #expect(peers.first == nodes[2])
        #expect(Set(peers) == Set([nodes[1], nodes[2], nodes[3]]))

        network.on("n0") { ring, now in ring.lookup(key, token: 9, now: now) }
        let result = try #require(network.finished[9]).get()
        #expect(result.owner == nodes[4])
        #expect(result.replicas == [nodes[4], nodes[5], nodes[0]])
        // n2 is asked, then n3, whose successor owns the key.
        #expect(result.hops == 2)
    }

    @Test("before any finger is filled, the successor list carries the lookup")
    func routesBySuccessorsWithoutFingers() {
        let nodes = [Self.peer(0, "n0"), Self.peer(1, "n1"), Self.peer(2, "n2"), Self.peer(3, "n3")]
        var ring = ChordRing(me: nodes[0], now: Instant(unixSeconds: 0))
        ring.adopt(successors: Array(nodes[1...3]), predecessor: nodes[3], now: Instant(unixSeconds: 0))
        let (done, peers) = ring.answer(for: NodeID(high: 2, low: 5))
        #expect(!done)
        #expect(peers == [nodes[2], nodes[1]])
    }
}
