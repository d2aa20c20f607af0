import DrizzleCore
import Testing

/// A few order instances that exchange events and vectors by hand, so each rule can be seen alone.
private struct Bus {
    static let ids = (1...5).map { NodeID(high: 0, low: UInt64($0)) }
    var nodes: [EventOrder]

    init(count: Int, settle: Int64 = 5_000_000_000) {
        let members = Array(Self.ids.prefix(count))
        nodes = members.map { id in
            var order = EventOrder(me: id, epoch: 1, configuration: .init(settleNanoseconds: settle, joinGraceNanoseconds: 0))
            order.adopt(members)
            return order
        }
    }

    /// Node `from` sends its vector to node `to`; returns what `to` delivers.
    mutating func vector(from: Int, to: Int) -> [BusEvent] {
        nodes[to].heard(from: nodes[from].me)
        return nodes[to].merge(nodes[from].vectorEntries, now: at)
    }

    /// Everyone sends its vector to everyone; returns what each delivers.
    mutating func exchangeAll() -> [[BusEvent]] {
        var delivered = nodes.map { _ in [BusEvent]() }
        for from in nodes.indices {
            for to in nodes.indices where to != from { delivered[to] += vector(from: from, to: to) }
        }
        return delivered
    }

    mutating func publish(_ index: Int, _ text: String) throws -> BusEvent {
        try nodes[index].publish(topic: "t", payload: Array(text.utf8), physical: Instant(nanoseconds: 0), now: at)
    }
}

private let at = Instant(nanoseconds: 1_000_000_000_000)

@Suite("Total order: Lamport delivery and its stability rule")
struct EventOrderTests {
    @Test("an event waits until every member has been heard past its time, then every node delivers the same order")
    func stableDelivery() throws {
        var bus = Bus(count: 3)
        _ = bus.exchangeAll()
        #expect(bus.nodes.allSatisfy { $0.inStep })
        let a = try bus.publish(0, "a")
        let b = try bus.publish(1, "b")
        // The publisher holds its own event: the others have not been heard past its time.
        #expect(bus.nodes[0].receive(a).isEmpty)
        #expect(bus.nodes[1].receive(b).isEmpty)
        // Events reach everyone, in different orders. Holding an event from every member at time
        // 1 is itself proof that nothing earlier is missing: node 2 delivers both at once.
        #expect(bus.nodes[2].receive(b).isEmpty)
        #expect(bus.nodes[2].receive(a).map(\.key) == [a.key, b.key])
        // Node 0 has both but has not heard node 2 past time 1: it waits for node 2's vector.
        #expect(bus.nodes[0].receive(b).isEmpty)
        #expect(bus.vector(from: 2, to: 0).map(\.key) == [a.key, b.key])
        #expect(bus.nodes[1].receive(a).isEmpty)
        #expect(bus.vector(from: 2, to: 1).map(\.key) == [a.key, b.key])
        #expect(bus.nodes.allSatisfy { $0.pendingCount == 0 && $0.deliveredCount == 2 })
        // Delivered once: a second copy is a duplicate.
        #expect(bus.nodes[2].receive(a).isEmpty)
        #expect(bus.nodes[2].duplicates == 1)
    }

    @Test("a gap in an origin's events holds back its later ones until the missing event arrives")
    func gapHoldsDelivery() throws {
        var bus = Bus(count: 2)
        _ = bus.exchangeAll()
        let first = try bus.publish(0, "1")
        let second = try bus.publish(0, "2")
        _ = bus.nodes[0].receive(first)
        _ = bus.nodes[0].receive(second)
        // Node 1 gets only the second event, and node 0's vector says it published two.
        _ = bus.nodes[1].receive(second)
        #expect(bus.vector(from: 0, to: 1).isEmpty, "the second event must wait for the first")
        #expect(bus.nodes[1].stableTime < second.lamport)
        let delivered = bus.nodes[1].receive(first)
        #expect(delivered.map(\.sequence) == [1, 2])
    }

    @Test("a dead member counts until settle; then leaves the configuration only while a majority is in view")
    func deadMembersAndQuorum() throws {
        var bus = Bus(count: 4, settle: 1_000)
        _ = bus.exchangeAll()
        let event = try bus.publish(0, "x")
        _ = bus.nodes[0].receive(event)
        // Node 3 is dead to node 0 and never answers: delivery waits for it during settle.
        bus.nodes[0].memberChanged(Bus.ids[3], active: false, left: false, now: at)
        _ = bus.vector(from: 1, to: 0)
        _ = bus.vector(from: 2, to: 0)
        #expect(bus.nodes[0].tick(now: at).isEmpty, "still settling")
        _ = bus.nodes[1].receive(event)
        _ = bus.nodes[2].receive(event)
        _ = bus.vector(from: 1, to: 0)
        _ = bus.vector(from: 2, to: 0)
        // 3 of 4 still in view: a majority, so node 3 goes and the event is delivered.
        #expect(bus.nodes[0].tick(now: at.advanced(byNanoseconds: 2_000)).map(\.key) == [event.key])
        #expect(!bus.nodes[0].members.contains(Bus.ids[3]))

        // Half the configuration down (a 2/2 partition): no majority, so delivery waits.
        var split = Bus(count: 4, settle: 1_000)
        _ = split.exchangeAll()
        let held = try split.publish(0, "y")
        _ = split.nodes[0].receive(held)
        _ = split.nodes[1].receive(held)
        for dead in [2, 3] { split.nodes[0].memberChanged(Bus.ids[dead], active: false, left: false, now: at) }
        _ = split.vector(from: 1, to: 0)
        #expect(split.nodes[0].tick(now: at.advanced(byNanoseconds: 10_000_000_000)).isEmpty)
        #expect(split.nodes[0].members.count == 3, "without a majority nobody is dropped")
        // The partition heals: they are alive again, their vectors arrive, delivery resumes.
        for back in [2, 3] { split.nodes[0].memberChanged(Bus.ids[back], active: true, left: false, now: at) }
        _ = split.nodes[2].receive(held)
        _ = split.nodes[3].receive(held)
        _ = split.vector(from: 2, to: 0)
        #expect(split.vector(from: 3, to: 0).map(\.key) == [held.key])
    }

    @Test("a minority cannot shrink the configuration one death at a time; a majority it heard from can")
    func noQuorumErosion() throws {
        // Five nodes split 2/3. Node 0 hears only node 1; the other three die to it one by one
        // (suspicion spreads slowly through a partition, so two still look alive at the first death).
        var minority = Bus(count: 5, settle: 1_000)
        _ = minority.exchangeAll()
        let held = try minority.publish(0, "m")
        _ = minority.nodes[0].receive(held)
        var now = at
        for dead in [2, 3, 4] {
            minority.nodes[0].memberChanged(Bus.ids[dead], active: false, left: false, now: now)
            _ = minority.vector(from: 1, to: 0)
            now = now.advanced(byNanoseconds: 10_000_000_000)
            #expect(minority.nodes[0].tick(now: now).isEmpty)
        }
        #expect(minority.nodes[0].members.count == 4, "a minority drops nobody")

        // Node 0 on the majority side: it hears nodes 1 and 2, so the two dead go and it delivers.
        var majority = Bus(count: 5, settle: 1_000)
        _ = majority.exchangeAll()
        let event = try majority.publish(0, "M")
        for index in 0...2 { _ = majority.nodes[index].receive(event) }
        for dead in [3, 4] { majority.nodes[0].memberChanged(Bus.ids[dead], active: false, left: false, now: at) }
        _ = majority.vector(from: 1, to: 0)
        _ = majority.vector(from: 2, to: 0)
        // The settle clock runs from the tick that first sees the majority, not from the deaths.
        #expect(majority.nodes[0].tick(now: at.advanced(byNanoseconds: 9_000_000_000)).isEmpty)
        #expect(majority.nodes[0].tick(now: at.advanced(byNanoseconds: 10_000_000_000)).map(\.key) == [event.key])
        #expect(majority.nodes[0].members == Set([Bus.ids[1], Bus.ids[2]]))
    }

    @Test("a member that left is dropped after settle without a majority; its later events count as late")
    func leftMembersAndLateEvents() throws {
        var bus = Bus(count: 2, settle: 1_000)
        _ = bus.exchangeAll()
        bus.nodes[0].memberChanged(Bus.ids[1], active: false, left: true, now: at)
        _ = bus.nodes[0].tick(now: at.advanced(byNanoseconds: 2_000))
        #expect(bus.nodes[0].members.isEmpty)
        let mine = try bus.publish(0, "alone")
        #expect(bus.nodes[0].receive(mine).map(\.key) == [mine.key])
        // An event the departed member had stamped earlier arrives now: never delivered out of order.
        let stale = BusEvent(lamport: 1, origin: Bus.ids[1], epoch: 1, sequence: 1, physical: 0, topic: "t", payload: [])
        #expect(bus.nodes[0].receive(stale).isEmpty)
        #expect(bus.nodes[0].late == 1)
    }

    @Test("a node that joins late delivers what comes after it stepped in, not the history before")
    func joiningNodeSkipsHistory() throws {
        var bus = Bus(count: 2)
        _ = bus.exchangeAll()
        let old = try bus.publish(0, "old")
        _ = bus.nodes[0].receive(old)
        _ = bus.nodes[1].receive(old)
        _ = bus.exchangeAll()
        var newcomer = EventOrder(me: Bus.ids[2], epoch: 1)
        newcomer.adopt(Bus.ids.prefix(2))
        // With members but no vector yet it cannot publish.
        #expect(throws: PublishError.notInStep) {
            try newcomer.publish(topic: "t", payload: [], physical: at, now: at)
        }
        _ = newcomer.merge(bus.nodes[0].vectorEntries, now: at)
        #expect(newcomer.inStep)
        // In step, but it publishes only after the join grace (2 s by default).
        #expect(!newcomer.canPublish(at: at.advanced(byNanoseconds: 1_999_000_000)))
        #expect(newcomer.canPublish(at: at.advanced(byNanoseconds: 2_000_000_000)))
        #expect(newcomer.receive(old).isEmpty)
        #expect(newcomer.deliveredCount == 0 && newcomer.pendingCount == 0)
    }

    @Test("publishing refuses an empty or long topic and a payload over 512 bytes, with what to do")
    func publishLimits() {
        var order = EventOrder(me: Bus.ids[0], epoch: 1)
        #expect(throws: PublishError.topicEmpty) { try order.publish(topic: "", payload: [], physical: at, now: at) }
        #expect(throws: PublishError.topicTooLong(bytes: 65)) {
            try order.publish(topic: String(repeating: "t", count: 65), payload: [], physical: at, now: at)
        }
        #expect(throws: PublishError.payloadTooLarge(bytes: 513)) {
            try order.publish(topic: "t", payload: Array(repeating: 0, count: 513), physical: at, now: at)
        }
        #expect(PublishError.payloadTooLarge(bytes: 513).description.contains("the most is 512"))
        #expect(order.published == 0 && order.clock == 0, "a refused event leaves no trace")
    }

    @Test("events and heartbeat vectors survive encode and decode; truncations and over-limit fields do not")
    func codecs() throws {
        let event = BusEvent(
            lamport: 77, origin: Bus.ids[3], epoch: 9, sequence: 4, physical: -5, topic: "tópico",
            payload: Array(repeating: 7, count: 512))
        #expect(BusEvent(decoding: event.encoded) == event)
        for cut in [0, 1, 20, event.encoded.count - 1] {
            #expect(BusEvent(decoding: Array(event.encoded.prefix(cut))) == nil)
        }
        #expect(BusEvent(decoding: event.encoded + [0]) == nil)
        var zeroSequence = event
        zeroSequence.sequence = 0
        #expect(BusEvent(decoding: zeroSequence.encoded) == nil, "sequences start at 1")
        var huge = event
        huge.lamport = BusEvent.maximumCount
        #expect(BusEvent(decoding: huge.encoded) == nil, "a time that could overflow the clock is refused")
        let hostile = HeartbeatVector(entries: [Bus.ids[0]: .init(epoch: 1, lamport: .max, published: 0)], isReply: false)
        #expect(HeartbeatVector(frame: hostile.frame) == nil)

        let vector = HeartbeatVector(
            entries: [Bus.ids[0]: .init(epoch: 1, lamport: 5, published: 2), Bus.ids[1]: .init(epoch: 2, lamport: 0, published: 0)],
            isReply: true)
        #expect(HeartbeatVector(frame: vector.frame) == vector)
        var frame = vector.frame
        frame.body.removeLast()
        #expect(HeartbeatVector(frame: frame) == nil)
        frame = vector.frame
        frame.body[4] = 3  // claims three entries, holds two
        #expect(HeartbeatVector(frame: frame) == nil)
    }

    @Test("compact vectors: nodes with one layout exchange positions only; a different layout asks for the full vector")
    func compactVectors() throws {
        var bus = Bus(count: 4)
        _ = bus.exchangeAll()
        let event = try bus.publish(0, "c")
        _ = bus.nodes[0].receive(event)
        // Same ids and epochs everywhere: node 0's compact vector merges at node 1 by position.
        let compact = bus.nodes[0].compactVector()
        #expect(compact.below.count == 4)
        let frame = HeartbeatVector(body: .compact(compact), isReply: false).frame
        #expect(frame.body.count < 4 * 36, "\(frame.body.count) bytes")
        let decoded = try #require(HeartbeatVector(frame: frame))
        #expect(decoded.body == .compact(compact))
        _ = bus.nodes[1].receive(event)
        #expect(bus.nodes[1].merge(compact, now: at) != nil)
        #expect(bus.nodes[1].clock >= event.lamport)

        // A node of another run (new epoch) changes the layout: the compact vector is refused
        // until a full vector carries the new epoch, then it merges again.
        var restarted = EventOrder(me: Bus.ids[3], epoch: 2, configuration: .init(joinGraceNanoseconds: 0))
        restarted.adopt(Bus.ids.prefix(4))
        _ = restarted.merge(bus.nodes[0].vectorEntries, now: at)
        let fromRestarted = restarted.compactVector()
        #expect(bus.nodes[0].merge(fromRestarted, now: at) == nil, "layouts differ in node 3's epoch")
        _ = bus.nodes[0].merge(restarted.vectorEntries, now: at)
        #expect(bus.nodes[0].merge(restarted.compactVector(), now: at) != nil)

        // Damaged compact frames are refused: truncated, a byte too many, below above base.
        var cut = frame
        cut.body.removeLast()
        #expect(HeartbeatVector(frame: cut) == nil)
        var long = frame
        long.body.append(0)
        #expect(HeartbeatVector(frame: long) == nil)
        var negative = compact
        negative.below[0] = negative.base + 1
        #expect(HeartbeatVector(frame: HeartbeatVector(body: .compact(negative), isReply: false).frame) == nil)
        var unknownFlag = frame
        unknownFlag.body[0] |= 0x80
        #expect(HeartbeatVector(frame: unknownFlag) == nil)
    }

    @Test("LEB128 varints round-trip every width and refuse truncation and overlong encodings")
    func varints() {
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 35, .max] {
            var writer = ByteWriter()
            writer.writeVarint(value)
            let bytes = writer.finish()
            var reader = ByteReader(bytes)
            #expect(reader.readVarint() == value)
            #expect(reader.remaining == 0)
            var truncated = ByteReader(Array(bytes.dropLast()))
            #expect(truncated.readVarint() == nil, "\(value) truncated")
        }
        var overlong = ByteReader([UInt8](repeating: 0xFF, count: 10) + [0x01])
        #expect(overlong.readVarint() == nil)
        var tooWide = ByteReader([UInt8](repeating: 0xFF, count: 9) + [0x02])
        #expect(tooWide.readVarint() == nil, "bits beyond 64")
    }

    @Test("gaps: events the vectors showed two seconds ago and still missing are asked for, by range; the request codec refuses what it must")
    func pullRepairGaps() throws {
        var bus = Bus(count: 3)
        _ = bus.exchangeAll()
        // Node 0 publishes five events; node 2 gets only the 1st and the 4th.
        let events = try (0..<5).map { _ in try bus.publish(0, "e") }
        for event in events { _ = bus.nodes[0].receive(event) }
        _ = bus.nodes[2].receive(events[0])
        _ = bus.nodes[2].receive(events[3])
        _ = bus.nodes[2].merge(bus.nodes[0].vectorEntries, now: at)
        // Just shown: not yet due (the rumors may still be on their way).
        #expect(bus.nodes[2].gaps(now: at).isEmpty)
        #expect(bus.nodes[2].gaps(now: at.advanced(byNanoseconds: 1_000_000_000)).isEmpty)
        let due = bus.nodes[2].gaps(now: at.advanced(byNanoseconds: 2_000_000_000))
        let origin = Bus.ids[0]
        #expect(
            due == [
                EventRequest.Range(origin: origin, epoch: 1, first: 2, last: 3),
                EventRequest.Range(origin: origin, epoch: 1, first: 5, last: 5),
            ])
        // Node 1, which holds everything, has no gaps.
        _ = bus.nodes[1].merge(bus.nodes[0].vectorEntries, now: at)
        #expect(bus.nodes[1].gaps(now: at).isEmpty)
        for event in events { _ = bus.nodes[1].receive(event) }
        #expect(bus.nodes[1].gaps(now: at.advanced(byNanoseconds: 5_000_000_000)).isEmpty)

        let request = EventRequest(ranges: due)
        #expect(EventRequest(frame: request.frame) == request)
        var truncated = request.frame
        truncated.body.removeLast()
        #expect(EventRequest(frame: truncated) == nil)
        let backwards = EventRequest(ranges: [EventRequest.Range(origin: origin, epoch: 1, first: 5, last: 2)])
        #expect(EventRequest(frame: backwards.frame) == nil)
        let zero = EventRequest(ranges: [EventRequest.Range(origin: origin, epoch: 1, first: 0, last: 2)])
        #expect(EventRequest(frame: zero.frame) == nil, "sequences start at 1")
        let greedy = EventRequest(ranges: [EventRequest.Range(origin: origin, epoch: 1, first: 1, last: 257)])
        #expect(EventRequest(frame: greedy.frame) == nil, "at most 256 events per request")
    }
}
