/// Total-order delivery of bus events by Lamport time, sans-IO (Lamport 1978, with the stability
/// condition spread by a gossiped heartbeat vector as in van Renesse, Minsky and Hayden 1998).
///
/// Every node keeps a Lamport clock. Publishing ticks it and stamps the event `(clock, me)`;
/// receiving an event or a heartbeat vector moves it past every time seen. The heartbeat vector
/// maps each member to the newest `(epoch, lamport, published)` known for it and is merged by
/// element-wise maximum in a push-pull exchange. A member's *bound* is the Lamport time up to
/// which this node holds all of that member's events: its heartbeat time once every event it
/// counts has arrived, otherwise the time of the last event before the first gap. An event is
/// delivered once every member of the *configuration* (the members that count) has a bound at
/// or past its time; pending events leave in `(lamport, origin)` order.
///
/// Guarantees: a node delivers each event at most once and strictly in `(lamport, origin)` order,
/// whatever the network does, so any two nodes agree on the order of the events both delivered.
/// Liveness and completeness need the failure detector: a member that is down (suspected members
/// still count) leaves the configuration once it has been dead for `settle` while this node saw a
/// majority of the configuration, and only once this node holds every event the cluster knows it
/// published. Seeing a majority means having heard directly from more than half of the
/// configuration (itself included) since the first of the members now down went down, counted
/// against the configuration as it was then (so that a minority cannot shrink the configuration
/// one death at a time until it looks like a majority); the `settle` clock starts no earlier than
/// the majority did (so that when a partition heals, the first member heard from across it does
/// not let this node drop the others there, alive but not yet heard from). In a partition without a majority side every node waits; after
/// the partition heals the vectors merge and delivery resumes in the same order everywhere. An event
/// that arrives after delivery has passed its time (its origin was declared dead and dropped while
/// it published) is counted as late and never delivered.
public struct EventOrder: Sendable {
    /// The newest state of one member's clock known here.
    public struct Heartbeat: Hashable, Sendable, Comparable {
        public var epoch: UInt32
        public var lamport: UInt64
        public var published: UInt64

        public init(epoch: UInt32, lamport: UInt64, published: UInt64) {
            self.epoch = epoch
            self.lamport = lamport
            self.published = published
        }

        public static func < (lhs: Heartbeat, rhs: Heartbeat) -> Bool {
            (lhs.epoch, lhs.lamport, lhs.published) < (rhs.epoch, rhs.lamport, rhs.published)
        }

        /// Element-wise newest: a newer epoch replaces the counts of an older one.
        func merged(with other: Heartbeat) -> Heartbeat {
            if other.epoch != epoch { return other.epoch > epoch ? other : self }
            return Heartbeat(epoch: epoch, lamport: max(lamport, other.lamport), published: max(published, other.published))
        }
    }

    public struct Configuration: Hashable, Sendable {
        /// How long a dead member still counts (so every survivor learns all it published).
        public var settleNanoseconds: Int64
        /// After this long dead, a member leaves the configuration even with events missing.
        public var missingTimeoutNanoseconds: Int64
        /// A node that just stepped into a cluster publishes only after this long, so that every
        /// member has learned of it (membership and its heartbeat entry spread in a few gossip
        /// rounds) before its first event: otherwise a node that does not yet count it could
        /// deliver past that event's time and have to drop it as late.
        public var joinGraceNanoseconds: Int64
        /// Events still missing this long after a vector showed them are asked for (`gaps`).
        public var repairAfterNanoseconds: Int64

        public init(
            settleNanoseconds: Int64 = 5_000_000_000, missingTimeoutNanoseconds: Int64 = 60_000_000_000,
            joinGraceNanoseconds: Int64 = 2_000_000_000, repairAfterNanoseconds: Int64 = 2_000_000_000
        ) {
            self.repairAfterNanoseconds = max(0, repairAfterNanoseconds)
            self.settleNanoseconds = max(0, settleNanoseconds)
            self.missingTimeoutNanoseconds = max(settleNanoseconds, missingTimeoutNanoseconds)
            self.joinGraceNanoseconds = max(0, joinGraceNanoseconds)
        }
    }

    /// Which of an origin's events (one epoch) have arrived.
    struct Progress: Sendable {
        var epoch: UInt32
        /// Events 1...contiguous have all arrived.
        var contiguous: UInt64 = 0
        /// Lamport time of event `contiguous`.
        var lastLamport: UInt64 = 0
        /// Arrived events beyond the first gap: sequence → Lamport time.
        var ahead: [UInt64: UInt64] = [:]
    }

    public let me: NodeID
    public let epoch: UInt32
    public let configuration: Configuration
    /// The Lamport clock.
    public private(set) var clock: UInt64 = 0
    /// Events this node published in this epoch.
    public private(set) var published: UInt64 = 0
    private var vector: [NodeID: Heartbeat] = [:]
    /// The vector's ids (this node's included) in order with their epochs, and their digest: the
    /// shape a compact vector is written against. Rebuilt when an id or an epoch is new.
    private var layout: Layout?
    private var progress: [NodeID: Progress] = [:]
    /// Received events not yet delivered, in order.
    private var pending: [BusEvent] = []
    /// Members whose bound delivery waits for (never including this node).
    public private(set) var members: Set<NodeID> = []
    /// Members of the configuration currently believed down: since when, and whether they left.
    private var down: [NodeID: (since: Instant, left: Bool)] = [:]
    /// The configuration's size when the members now down began to go down: the majority is of
    /// that, so that dropping some of them one by one never turns a minority into a majority.
    private var quorumBase = 0
    /// Members this node heard from directly since then (see `heard(from:)`).
    private var heardSinceDown: Set<NodeID> = []
    /// Since when those make a majority (nil while they do not).
    private var quorumSince: Instant?
    /// Members dropped from the configuration, with their heartbeat then: their later events in
    /// that epoch come too late to be placed and are never delivered.
    private var removed: [NodeID: Heartbeat] = [:]
    /// Per origin behind here: its published count as the vectors showed it, and when (see `gaps`).
    private var shown: [NodeID: (epoch: UInt32, published: UInt64, at: Instant)] = [:]
    /// The member with the lowest bound at the last full look (see `deliverStable`).
    private var blocker: NodeID?
    /// The last delivered position; nothing at or before it is delivered again.
    public private(set) var frontier: OrderKey?
    /// Where this node stepped into the cluster's order (its first heartbeat vector); events up
    /// to it are history here.
    public private(set) var start: OrderKey?
    /// True once this node took the cluster's Lamport times.
    public var inStep: Bool { start != nil }
    /// When it did (its raw clock).
    public private(set) var steppedAt: Instant?

    /// True when this node may publish at `now`: alone, or in step for the join grace.
    public func canPublish(at now: Instant) -> Bool {
        guard let steppedAt else { return members.isEmpty }
        return now.nanoseconds &- steppedAt.nanoseconds >= configuration.joinGraceNanoseconds
    }
    public private(set) var deliveredCount = 0
    public private(set) var duplicates = 0
    /// Events that arrived after delivery had passed their time.
    public private(set) var late = 0
    /// Events that predate this node's start in the cluster (not delivered here).
    public private(set) var history = 0

    public init(me: NodeID, epoch: UInt32, configuration: Configuration = Configuration()) {
        self.me = me
        self.epoch = epoch
        self.configuration = configuration
    }

    /// This node's own heartbeat.
    public var heartbeat: Heartbeat { Heartbeat(epoch: epoch, lamport: clock, published: published) }

    /// Events received but not yet stable.
    public var pendingCount: Int { pending.count }

    /// The heartbeat vector to send: every entry known, this node's own up to date.
    public var vectorEntries: [(NodeID, Heartbeat)] {
        var entries = vector
        entries[me] = heartbeat
        return entries.map { ($0.key, $0.value) }
    }

    /// The Lamport time up to which everything is stable here.
    public var stableTime: UInt64 {
        var bound = clock
        for member in members { bound = min(bound, self.bound(of: member)) }
        return bound
    }

    /// The member holding delivery back the most, with its bound (nil when none does).
    public var slowestMember: (NodeID, UInt64)? {
        members.map { ($0, bound(of: $0)) }.min { $0.1 < $1.1 }
    }

    // MARK: Membership

    /// Members known from the start (a warm-started simulation, a node adopting a member list).
    public mutating func adopt<IDs: Sequence<NodeID>>(_ ids: IDs) {
        for id in ids where id != me {
            members.insert(id)
            down[id] = nil
        }
    }

    /// A member's state changed: active ones count; dead or left ones stop counting after
    /// `settle` (see the type's description).
    public mutating func memberChanged(_ id: NodeID, active: Bool, left: Bool, now: Instant) {
        guard id != me else { return }
        if active {
            members.insert(id)
            down[id] = nil
            removed[id] = nil
        } else if members.contains(id), down[id] == nil || down[id]?.left != left {
            if down.isEmpty {
                quorumBase = members.count + 1
                heardSinceDown = []
                quorumSince = nil
            }
            down[id] = (down[id]?.since ?? now, left)
        }
    }

    /// This node received an authenticated message from `id` (any kind). While members are down,
    /// that is the evidence of a majority: suspicion spreads too slowly through a partition to
    /// tell this node which members it still reaches.
    public mutating func heard(from id: NodeID) {
        guard !down.isEmpty, down[id] == nil else { return }
        heardSinceDown.insert(id)
    }

    // MARK: Events

    /// Stamps a new event from this node. The caller spreads it and hands it to `receive`.
    public mutating func publish(
        topic: String, payload: [UInt8], physical: Instant, now: Instant
    ) throws(PublishError) -> BusEvent {
        guard !topic.isEmpty else { throw .topicEmpty }
        guard topic.utf8.count <= BusEvent.maximumTopicBytes else { throw .topicTooLong(bytes: topic.utf8.count) }
        guard payload.count <= BusEvent.maximumPayloadBytes else { throw .payloadTooLarge(bytes: payload.count) }
        // Alone, a node is its own cluster; with members it must first take their times.
        guard canPublish(at: now) else { throw .notInStep }
        clock += 1
        published += 1
        return BusEvent(
            lamport: clock, origin: me, epoch: epoch, sequence: published, physical: physical.nanoseconds,
            topic: topic, payload: payload)
    }

    /// An event arrived (or was published here). Returns the events that became deliverable, in order.
    public mutating func receive(_ event: BusEvent) -> [BusEvent] {
        clock = max(clock, event.lamport)
        let origin = event.origin
        var state = progress[origin] ?? Progress(epoch: event.epoch)
        if event.epoch > state.epoch { state = Progress(epoch: event.epoch) }
        guard event.epoch == state.epoch else {
            late += 1
            return []
        }
        guard event.sequence > state.contiguous, state.ahead[event.sequence] == nil else {
            duplicates += 1
            return []
        }
        state.ahead[event.sequence] = event.lamport
        while let next = state.ahead.removeValue(forKey: state.contiguous + 1) {
            state.contiguous += 1
            state.lastLamport = next
        }
        progress[origin] = state
        if let cut = removed[origin], event.epoch <= cut.epoch, event.sequence > cut.published || event.epoch < cut.epoch {
            // Published by a member this node had already dropped: too late to place.
            late += 1
            return []
        }
        record(Heartbeat(epoch: event.epoch, lamport: event.lamport, published: event.sequence), of: origin)
        if let frontier, event.key <= frontier {
            late += 1
            return []
        }
        insert(event)
        return deliverStable()
    }

    /// Merges a heartbeat vector from a peer. Returns the events that became deliverable.
    public mutating func merge(_ entries: [(NodeID, Heartbeat)], now: Instant) -> [BusEvent] {
        var fresh: [NodeID] = []
        for (id, beat) in entries where id != me {
            if vector[id] == nil { fresh.append(id) }
            record(beat, of: id)
            clock = max(clock, beat.lamport)
        }
        if let start {
            // A member first heard of now: what it published by the time this node stepped in is history.
            for id in fresh where progress[id] == nil {
                if let beat = vector[id], beat.lamport <= start.lamport { markHistory(id, upTo: beat) }
            }
        } else if !entries.isEmpty {
            takeStep()
            steppedAt = now
        }
        return deliverStable()
    }

    /// Drops down members whose time has come, then delivers what became stable.
    public mutating func tick(now: Instant) -> [BusEvent] {
        guard !down.isEmpty else { return deliverStable() }
        // This node and the members it heard from since the first of those now down went down,
        // against the configuration as it was then.
        let live = heardSinceDown.filter { members.contains($0) && down[$0] == nil }.count + 1
        if live * 2 > max(quorumBase, members.count + 1) {
            quorumSince = quorumSince ?? now
        } else {
            quorumSince = nil
        }
        for (id, state) in down {
            // A member that left said so; one that died must stay dead for `settle` while this
            // node sees a majority (not merely since it went down: when a partition heals, the
            // first member heard from across it makes a majority at once, while the others there,
            // alive, are still marked dead here until they refute it).
            let since: Instant
            if state.left {
                since = state.since
            } else if let quorumSince {
                since = max(state.since, quorumSince)
            } else {
                continue
            }
            let elapsed = now.nanoseconds &- since.nanoseconds
            guard elapsed >= configuration.settleNanoseconds else { continue }
            if holdsEverything(of: id) || elapsed >= configuration.missingTimeoutNanoseconds {
                members.remove(id)
                down[id] = nil
                removed[id] = vector[id] ?? Heartbeat(epoch: 0, lamport: 0, published: 0)
            }
        }
        return deliverStable()
    }

    // MARK: Gaps

    /// Events the merged vectors say exist but this node does not hold, as ranges of sequence
    /// numbers per origin (its current epoch), at most `limit` events in all: what to ask a peer
    /// for (see `EventRequest`). Only events the vectors showed at least `repairAfter` ago count
    /// (fresher ones are usually still on their way as rumors); origins already dropped from the
    /// configuration are left out.
    public mutating func gaps(now: Instant, limit: Int = 256) -> [EventRequest.Range] {
        var ranges: [EventRequest.Range] = []
        var budget = limit
        // The layout's ids are the vector's, already in order (cached): no sort per merged vector.
        for id in currentLayout().ids where id != me && removed[id] == nil {
            guard let beat = vector[id] else { continue }
            guard budget > 0, ranges.count < EventRequest.maximumRanges else { break }
            let state = progress[id].flatMap { $0.epoch == beat.epoch ? $0 : nil }
            let held = state?.contiguous ?? 0
            guard beat.published > held else {
                shown[id] = nil
                continue
            }
            // What the vectors showed `repairAfter` ago is due; what they show now is due next time.
            var due: UInt64 = 0
            if let seen = shown[id], seen.epoch == beat.epoch {
                guard now.nanoseconds &- seen.at.nanoseconds >= configuration.repairAfterNanoseconds else { continue }
                due = min(seen.published, beat.published)
            }
            shown[id] = (beat.epoch, beat.published, now)
            var sequence = held + 1
            while sequence <= due, budget > 0, ranges.count < EventRequest.maximumRanges {
                if state?.ahead[sequence] != nil {
                    sequence += 1
                    continue
                }
                var last = sequence
                while last < due, last - sequence + 1 < UInt64(budget), state?.ahead[last + 1] == nil {
                    last += 1
                }
                let range = EventRequest.Range(origin: id, epoch: beat.epoch, first: sequence, last: last)
                ranges.append(range)
                budget -= range.count
                sequence = last + 1
            }
        }
        return ranges
    }

    // MARK: Compact vectors

    /// The shape of the vector: its ids (this node's included) in order, their epochs, and a
    /// digest of both. Two nodes with the same layout exchange vectors without ids or epochs.
    struct Layout: Sendable {
        var ids: [NodeID]
        var digest: UInt64
    }

    /// Merges `beat` into `id`'s entry; a new id or a new epoch changes the layout.
    private mutating func record(_ beat: Heartbeat, of id: NodeID) {
        if let old = vector[id] {
            let merged = old.merged(with: beat)
            if merged.epoch != old.epoch { layout = nil }
            vector[id] = merged
        } else {
            vector[id] = beat
            layout = nil
        }
    }

    private mutating func currentLayout() -> Layout {
        if let layout { return layout }
        // The vector may hold this node's own entry too (its own events pass through `receive`).
        var ids = vector.keys.filter { $0 != me }
        ids.append(me)
        ids.sort()
        // FNV-1a over (id, epoch) in order: a check that both sides hold the same ids and epochs,
        // not a defence (every sender is an authenticated member, who could send any vector).
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: UInt64) {
            for shift in stride(from: 56, through: 0, by: -8) {
                digest = (digest ^ (value >> UInt64(shift) & 0xFF)) &* 0x0000_0100_0000_01B3
            }
        }
        for id in ids {
            mix(id.high)
            mix(id.low)
            mix(UInt64(id == me ? epoch : vector[id]?.epoch ?? 0))
        }
        let fresh = Layout(ids: ids, digest: digest)
        layout = fresh
        return fresh
    }

    /// The vector in compact form: for each id of the layout, in order, how far its Lamport time
    /// lies below the largest and how many events it published.
    public mutating func compactVector() -> CompactVector {
        let shape = currentLayout()
        var beats: [Heartbeat] = []
        beats.reserveCapacity(shape.ids.count)
        var base: UInt64 = 0
        for id in shape.ids {
            let beat = id == me ? heartbeat : vector[id] ?? Heartbeat(epoch: 0, lamport: 0, published: 0)
            base = max(base, beat.lamport)
            beats.append(beat)
        }
        return CompactVector(
            digest: shape.digest, base: base, below: beats.map { base - $0.lamport }, published: beats.map(\.published))
    }

    /// Merges a compact vector. Returns nil, merging nothing, when the sender's layout is not this
    /// node's (an id or an epoch differs): the sender must then send its full vector.
    public mutating func merge(_ compact: CompactVector, now: Instant) -> [BusEvent]? {
        let shape = currentLayout()
        guard compact.digest == shape.digest, compact.below.count == shape.ids.count,
            compact.published.count == shape.ids.count
        else { return nil }
        var highest = clock
        for (index, id) in shape.ids.enumerated() where id != me {
            guard let old = vector[id] else { continue }
            let lamport = compact.base - compact.below[index]
            let beat = Heartbeat(
                epoch: old.epoch, lamport: max(old.lamport, lamport), published: max(old.published, compact.published[index]))
            if beat != old { vector[id] = beat }
            highest = max(highest, lamport)
        }
        clock = highest
        // Same layout: the sender knows no member this node does not, so nothing is history here.
        if start == nil {
            takeStep()
            steppedAt = now
        }
        return deliverStable()
    }

    // MARK: Internals

    /// The first vector from the cluster: everything up to the newest time in it is history here;
    /// this node delivers what comes after.
    private mutating func takeStep() {
        let point = OrderKey(lamport: clock, origin: NodeID(high: .max, low: .max))
        start = point
        for (id, beat) in vector { markHistory(id, upTo: beat) }
        let before = pending.count
        pending.removeAll { $0.key <= point }
        history += before - pending.count
        frontier = max(frontier ?? point, point)
    }

    /// Counts `id`'s events up to `beat` as held (they predate this node's start in the cluster).
    private mutating func markHistory(_ id: NodeID, upTo beat: Heartbeat) {
        var state = progress[id] ?? Progress(epoch: beat.epoch)
        if beat.epoch > state.epoch { state = Progress(epoch: beat.epoch) }
        guard beat.epoch == state.epoch, state.contiguous < beat.published else { return }
        state.ahead = state.ahead.filter { $0.key > beat.published }
        state.contiguous = beat.published
        state.lastLamport = max(state.lastLamport, beat.lamport)
        while let next = state.ahead.removeValue(forKey: state.contiguous + 1) {
            state.contiguous += 1
            state.lastLamport = next
        }
        progress[id] = state
    }

    private func holdsEverything(of id: NodeID) -> Bool {
        guard let beat = vector[id] else { return true }
        guard let state = progress[id], state.epoch == beat.epoch else { return beat.published == 0 }
        return state.contiguous >= beat.published
    }

    /// Up to which Lamport time this node holds all of `id`'s events.
    func bound(of id: NodeID) -> UInt64 {
        guard let beat = vector[id] else { return 0 }
        guard let state = progress[id], state.epoch == beat.epoch else {
            return beat.published == 0 ? beat.lamport : 0
        }
        return state.contiguous >= beat.published ? max(beat.lamport, state.lastLamport) : state.lastLamport
    }

    private mutating func insert(_ event: BusEvent) {
        // Events mostly arrive near the end of the order: search from the back.
        var index = pending.endIndex
        while index > pending.startIndex, event.key < pending[index - 1].key { index -= 1 }
        pending.insert(event, at: index)
    }

    private mutating func deliverStable() -> [BusEvent] {
        guard let first = pending.first else { return [] }
        // The member that held delivery back last time usually still does: check it alone
        // before going over every member (a large cluster calls this on every arrival).
        if let blocker, members.contains(blocker), bound(of: blocker) < first.lamport { return [] }
        var stable = clock
        for member in members {
            let bound = self.bound(of: member)
            if bound < stable {
                stable = bound
                blocker = member
            }
        }
        guard first.lamport <= stable else { return [] }
        let count = pending.prefix { $0.lamport <= stable }.count
        let ready = Array(pending.prefix(count))
        pending.removeFirst(count)
        if let last = ready.last { frontier = last.key }
        deliveredCount += ready.count
        return ready
    }
}

/// The bus's anti-entropy message: the sender's heartbeat vector, in full (ids, epochs and
/// counts) or compact (counts only, in the order of a layout both sides share; see
/// `EventOrder.compactVector()`).
public struct HeartbeatVector: Hashable, Sendable {
    public enum Body: Hashable, Sendable {
        case full([NodeID: EventOrder.Heartbeat])
        case compact(CompactVector)
    }

    public var body: Body
    /// An answer to a push (it gets no answer itself).
    public var isReply: Bool
    /// The sender could not read the compact vector it was sent: answer with the full one.
    public var wantsFull: Bool

    public init(body: Body, isReply: Bool, wantsFull: Bool = false) {
        self.body = body
        self.isReply = isReply
        self.wantsFull = wantsFull
    }

    public init(entries: [NodeID: EventOrder.Heartbeat], isReply: Bool) {
        self.init(body: .full(entries), isReply: isReply)
    }

    /// The entries of a full vector (empty for a compact one).
    public var entries: [NodeID: EventOrder.Heartbeat] {
        if case .full(let entries) = body { return entries }
        return [:]
    }

    /// Bytes per full entry: id (16), epoch (4), lamport (8), published (8).
    static let entryLength = 36
    static let replyFlag: UInt8 = 1
    static let compactFlag: UInt8 = 2
    static let wantsFullFlag: UInt8 = 4

    public var frame: Frame {
        var writer = ByteWriter()
        var flags: UInt8 = isReply ? Self.replyFlag : 0
        if wantsFull { flags |= Self.wantsFullFlag }
        switch body {
        case .full(let entries):
            writer.write(flags)
            writer.write(UInt32(entries.count))
            for (id, beat) in entries.sorted(by: { $0.key < $1.key }) {
                writer.write(id.high)
                writer.write(id.low)
                writer.write(beat.epoch)
                writer.write(beat.lamport)
                writer.write(beat.published)
            }
        case .compact(let compact):
            writer.write(flags | Self.compactFlag)
            writer.write(compact.digest)
            writer.write(UInt32(compact.below.count))
            writer.write(compact.base)
            for (below, published) in zip(compact.below, compact.published) {
                writer.writeVarint(below)
                writer.writeVarint(published)
            }
        }
        return Frame(type: FrameType.heartbeatVector, body: writer.finish())
    }

    public init?(frame: Frame) {
        guard frame.type == FrameType.heartbeatVector else { return nil }
        var reader = ByteReader(frame.body)
        guard let flags = reader.readUInt8(), flags & ~(Self.replyFlag | Self.compactFlag | Self.wantsFullFlag) == 0
        else { return nil }
        let isReply = flags & Self.replyFlag != 0
        let wantsFull = flags & Self.wantsFullFlag != 0
        if flags & Self.compactFlag != 0 {
            // Each entry takes at least 2 bytes: a count beyond that is a lie.
            guard !wantsFull, let digest = reader.readUInt64(), let count = reader.readUInt32(),
                let base = reader.readUInt64(), base < BusEvent.maximumCount, Int(count) <= reader.remaining / 2
            else { return nil }
            var below: [UInt64] = []
            var published: [UInt64] = []
            below.reserveCapacity(Int(count))
            published.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let gap = reader.readVarint(), gap <= base, let sent = reader.readVarint(),
                    sent < BusEvent.maximumCount
                else { return nil }
                below.append(gap)
                published.append(sent)
            }
            guard reader.remaining == 0 else { return nil }
            self.init(
                body: .compact(CompactVector(digest: digest, base: base, below: below, published: published)),
                isReply: isReply)
            return
        }
        guard let count = reader.readUInt32(), Int(count) == reader.remaining / Self.entryLength,
            reader.remaining % Self.entryLength == 0
        else { return nil }
        var entries: [NodeID: EventOrder.Heartbeat] = [:]
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let high = reader.readUInt64(), let low = reader.readUInt64(), let epoch = reader.readUInt32(),
                let lamport = reader.readUInt64(), lamport < BusEvent.maximumCount, let published = reader.readUInt64(),
                published < BusEvent.maximumCount
            else { return nil }
            entries[NodeID(high: high, low: low)] = EventOrder.Heartbeat(
                epoch: epoch, lamport: lamport, published: published)
        }
        self.init(body: .full(entries), isReply: isReply, wantsFull: wantsFull)
    }
}

/// Pull repair for the bus: the events (by origin, epoch and sequence number) a node's vectors say
/// exist but it does not hold. Total order delivers an event only after every earlier one, so one
/// event that rumor mongering missed would hold up delivery here until anti-entropy found it.
public struct EventRequest: Hashable, Sendable {
    public struct Range: Hashable, Sendable {
        public var origin: NodeID
        public var epoch: UInt32
        public var first: UInt64
        public var last: UInt64

        public init(origin: NodeID, epoch: UInt32, first: UInt64, last: UInt64) {
            self.origin = origin
            self.epoch = epoch
            self.first = first
            self.last = last
        }

        public var count: Int { Int(last - first + 1) }
    }

    /// At most this many ranges and events in one request.
    public static let maximumRanges = 64
    public static let maximumEvents = 256

    public var ranges: [Range]

    public init(ranges: [Range]) { self.ranges = ranges }

    public var frame: Frame {
        var writer = ByteWriter()
        writer.write(UInt16(ranges.count))
        for range in ranges {
            writer.write(range.origin.high)
            writer.write(range.origin.low)
            writer.write(range.epoch)
            writer.write(range.first)
            writer.write(range.last)
        }
        return Frame(type: FrameType.eventRequest, body: writer.finish())
    }

    public init?(frame: Frame) {
        guard frame.type == FrameType.eventRequest else { return nil }
        var reader = ByteReader(frame.body)
        guard let count = reader.readUInt16(), Int(count) <= Self.maximumRanges, reader.remaining == Int(count) * 36
        else { return nil }
        var ranges: [Range] = []
        var events = 0
        for _ in 0..<count {
            guard let high = reader.readUInt64(), let low = reader.readUInt64(), let epoch = reader.readUInt32(),
                let first = reader.readUInt64(), let last = reader.readUInt64(), first >= 1, first <= last,
                last < BusEvent.maximumCount
            else { return nil }
            let range = Range(origin: NodeID(high: high, low: low), epoch: epoch, first: first, last: last)
            events += range.count
            guard events <= Self.maximumEvents else { return nil }
            ranges.append(range)
        }
        self.init(ranges: ranges)
    }
}

/// A heartbeat vector without ids or epochs: for the i-th id of the layout whose digest it
/// carries, the Lamport time `base - below[i]` and the count `published[i]`.
public struct CompactVector: Hashable, Sendable {
    public var digest: UInt64
    public var base: UInt64
    public var below: [UInt64]
    public var published: [UInt64]

    public init(digest: UInt64, base: UInt64, below: [UInt64], published: [UInt64]) {
        self.digest = digest
        self.base = base
        self.below = below
        self.published = published
    }
}
