public import DrizzleCore
import DrizzleCrypto

/// `drizzle sim order`: the message bus's total order under loss and wrong clocks. Every node runs
/// the real `NodeCore`; events spread as rumors and are delivered in Lamport order once the
/// gossiped heartbeat vectors show them stable (`EventOrder`).
///
/// The cluster starts converged (every node adopts the full member list) with every clock off by
/// an offset uniform in ±`clockOffsetSeconds` and no synchronisation (the clock experiment covers
/// that). It runs until every node has exchanged heartbeat vectors and may publish
/// (`bus.canPublish`: in step for the join grace), then
/// `publishers` nodes chosen by the seed publish `events` events between them at `ratePerSecond`
/// (cluster-wide, one publisher at random per event), each carrying its true publish time. The
/// run ends when every live node holds nothing pending and has delivered every event of the live
/// publishers (or `timeoutSeconds` after the last publish).
///
/// It reports whether the nodes agree (the hash of each node's delivered sequence against the
/// first live node's), delivery latency in true time, the part of it spent waiting for stability,
/// and how far the Lamport order and an order by physical timestamps (`BusEvent.physical`, the
/// publisher's clock) stray from the true publish order: pairs inverted, counted by merge sort.
public struct OrderExperiment: Sendable {
    public var nodes = 1000
    public var publishers = 50
    public var events = 10_000
    public var lossRate = 0.05
    public var clockOffsetSeconds = 5.0
    /// One publisher crashes once half the events are out.
    public var crashPublisher = false
    /// Events published per second, cluster-wide.
    public var ratePerSecond = 100.0
    /// Heartbeat vectors are exchanged with one random member this often (the core's default:
    /// every gossip round, 200 ms).
    public var vectorIntervalNanoseconds: Int64 = 200_000_000
    public var seed: UInt64 = 1
    public var signed = true
    /// Give up this long after the last publish.
    public var timeoutSeconds = 300.0
    public var membership = MembershipConfiguration()
    public var bus = EventOrder.Configuration()
    /// Splits the cluster in two halves (nodes below `nodes / 2`, the rest) from `startSeconds`
    /// after the first publish for `durationSeconds`; publishers are then drawn from both halves.
    public var partition: (startSeconds: Double, durationSeconds: Double)?

    public init() {}

    /// A latency distribution, in seconds.
    public struct Latency: Sendable, Hashable {
        public var samples: Int
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var maximum: Double
    }

    /// How far an order strays from the true publish order.
    public struct Inversions: Sendable, Hashable {
        /// Pairs of events the order puts the other way round from their true publish times.
        public var pairs: Int
        /// The largest true-time gap between two events it inverts, in seconds.
        public var largestGapSeconds: Double
    }

    public struct Result: Sendable {
        public var liveNodes: Int
        /// Live nodes whose delivered sequence hashes to the same value as the first live node's.
        public var agreeing: Int
        /// Events published, and those by the publisher that crashed.
        public var published: Int
        public var publishedByCrashed: Int
        /// Events every live node must deliver: those of live publishers plus those of the
        /// crashed one that some live node delivered.
        public var expected: Int
        public var deliveredLow: Int
        public var deliveredHigh: Int
        /// Every live node delivered the expected events and holds nothing pending.
        public var complete: Bool
        /// True publish to delivery, over every (live node, event).
        public var delivery: Latency?
        /// True publish to first arrival, over every (live node, event).
        public var arrival: Latency?
        /// First arrival to delivery: what waiting for stability adds, both for earlier events
        /// still missing here and for the heartbeat vector.
        public var stabilityWait: Latency?
        /// Counts per millisecond of latency (index: milliseconds), for plotting distributions.
        public var deliveryHistogram: [Int]
        public var arrivalHistogram: [Int]
        /// From the moment this node held the event and every event before it in the order, to
        /// delivery: what waiting for the heartbeat vector alone adds.
        public var vectorWait: Latency?
        /// Against the true publish order, over the first live node's delivered events.
        public var lamport: Inversions
        public var physical: Inversions
        public var pairs: Int
        /// Seconds from the start until every node was in step.
        public var warmupSeconds: Double
        /// Seconds from the last publish until the run ended.
        public var drainSeconds: Double
        /// Deliveries out of `(lamport, origin)` order at some node (must be 0).
        public var outOfOrder: Int
        /// With a partition: deliveries, before the heal, of events published after the cut on
        /// the other side, and of any event published after the cut.
        public var deliveredAcrossPartition: Int
        public var deliveredDuringPartition: Int
        /// Events counted as late (arrived after delivery passed them), summed over live nodes.
        public var late: Int
        /// Publishes the core refused, with the reason (must be empty).
        public var refusals: [String]
        public var crashed: Int?
        public var datagrams: Int
        public var datagramsLost: Int
        public var bytes: Int
        public var simulatedSeconds: Double
    }

    static let tick: Int64 = 100_000_000
    static let start = Instant(unixSeconds: 1_767_225_600)
    static let topic = "sim"

    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        var random = SimRandom(seed: seed, stream: "identities")
        if signed {
            let directory = SimIdentities.signed(count: nodes, random: &random, now: Self.start)
            return single(directory: directory, suite: SodiumSuite(), progress: progress)
        } else {
            let directory = SimIdentities.unsigned(count: nodes, random: &random, now: Self.start)
            return single(directory: directory, suite: NullSuite(), progress: progress)
        }
    }

    /// The payload: true publish time (8 bytes, big-endian) and the event's number (4 bytes).
    static func payload(publishedAt time: Instant, number: Int) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(time.nanoseconds)
        writer.write(UInt32(truncatingIfNeeded: number))
        return writer.finish()
    }

    static func publishTime(_ payload: [UInt8]) -> Int64? {
        var reader = ByteReader(payload)
        return reader.readInt64()
    }

    private func single<Signer: MessageSigner, Suite: CryptoSuite>(
        directory: SimDirectory<Signer>, suite: Suite, progress: (Int, Int) -> Void
    ) -> Result {
        typealias Node = NodeSimNode<Signer, Suite>
        let count = directory.count
        var clocks = SimRandom(seed: seed, stream: "clocks")
        let offsets = (0..<count).map { _ in Int64(((clocks.unit() * 2 - 1) * clockOffsetSeconds * 1e9).rounded()) }
        let everyone = (0..<count).map { index in
            MemberUpdate(
                id: directory.ids[index], incarnation: 0, state: .alive, address: Node.address(of: index),
                serial: directory.certificates[index].serial, reporter: directory.ids[index])
        }
        let nodes = (0..<count).map { index in
            let local = Self.start.advanced(byNanoseconds: offsets[index])
            var node = NodeSimNode(
                position: index, directory: directory, suite: suite, membership: membership,
                clock: ClockSync.Configuration(mode: .off), events: bus,
                vectorIntervalNanoseconds: vectorIntervalNanoseconds, now: local)
            node.recordsChanges = false
            node.recordsDeliveries = true
            node.core.adopt(everyone, now: local)
            return node
        }
        let simulator = Simulator(
            nodes: nodes, network: NetworkModel(latency: .lan, lossRate: lossRate), roundNanoseconds: Self.tick,
            seed: seed, start: Self.start)
        for (index, offset) in offsets.enumerated() { simulator.clockErrors[index] = ClockError(offsetNanoseconds: offset) }

        // Who publishes, who crashes, who is watched.
        var workload = SimRandom(seed: seed, stream: "workload")
        let half = count / 2
        var candidates = Array(0..<count)
        for index in candidates.indices.reversed() where index > 0 {
            candidates.swapAt(index, Int(workload.next() % UInt64(index + 1)))
        }
        var chosen: [Int]
        if partition != nil {
            // Alternate between the halves so that both sides publish.
            let low = candidates.filter { $0 < half }
            let high = candidates.filter { $0 >= half }
            chosen = []
            var next = (0, 0)
            while chosen.count < min(publishers, count) {
                if chosen.count % 2 == 0, next.0 < low.count || next.1 >= high.count {
                    chosen.append(low[next.0])
                    next.0 += 1
                } else {
                    chosen.append(high[next.1])
                    next.1 += 1
                }
            }
        } else {
            chosen = Array(candidates.prefix(min(publishers, count)))
        }
        let publisherIndices = chosen
        var faults = SimRandom(seed: seed, stream: "faults")
        let victim = crashPublisher ? publisherIndices[Int(faults.next() % UInt64(publisherIndices.count))] : nil
        let observer = (0..<count).first { $0 != victim } ?? 0

        // Warm-up: every node takes the cluster's Lamport times from a heartbeat vector and waits
        // out the join grace.
        let warmupLimit = Int(30e9) / Int(Self.tick)
        simulator.run(rounds: warmupLimit) { sim in
            sim.nodes.indices.allSatisfy { sim.nodes[$0].core.bus.canPublish(at: sim.localTime(of: $0)) }
        }
        let firstPublish = simulator.now.advanced(byNanoseconds: Self.tick)
        let warmupSeconds = Double(simulator.now.nanoseconds - Self.start.nanoseconds) / 1e9

        var refusals: [String] = []
        // The workload: event k at firstPublish + k / rate, from a random live publisher.
        let spacing = Int64((1e9 / max(ratePerSecond, 1e-3)).rounded())
        for number in 0..<events {
            let time = firstPublish.advanced(byNanoseconds: Int64(number) * spacing)
            if let victim, number == events / 2 {
                simulator.schedule(at: time) { sim in sim.crash(victim) }
            }
            let pick = Int(workload.next() % UInt64(publisherIndices.count))
            simulator.schedule(at: time) { sim in
                var publisher = publisherIndices[pick]
                if sim.down.contains(publisher) {
                    // The crashed publisher's share goes to the next live one.
                    publisher = publisherIndices[(pick + 1) % publisherIndices.count]
                }
                let payload = Self.payload(publishedAt: sim.now, number: number)
                sim.act(on: publisher) { node, now, random, effects in
                    do {
                        node.perform(
                            try node.core.publish(topic: Self.topic, payload: payload, now: now, using: &random), at: now,
                            into: &effects)
                    } catch {
                        refusals.append("\(error)")
                    }
                }
            }
        }
        let lastPublish = firstPublish.advanced(byNanoseconds: Int64(max(0, events - 1)) * spacing)
        var cut: (from: Instant, to: Instant)?
        if let partition {
            let from = firstPublish.advanced(byNanoseconds: Int64(partition.startSeconds * 1e9))
            let to = from.advanced(byNanoseconds: Int64(partition.durationSeconds * 1e9))
            cut = (from, to)
            simulator.schedule(at: from) { sim in
                sim.network.partition(Dictionary(uniqueKeysWithValues: (half..<count).map { ($0, 1) }))
            }
            simulator.schedule(at: to) { sim in sim.network.heal() }
        }

        // Run a second at a time, draining what the nodes recorded.
        let bucket = 1_000_000.0  // latency histograms in 1 ms steps
        var deliveryHistogram: [Int] = []
        var arrivalHistogram: [Int] = []
        var waitHistogram: [Int] = []
        var vectorHistogram: [Int] = []
        var heldAll = [Int64](repeating: .min, count: count)
        func add(_ nanoseconds: Int64, to histogram: inout [Int]) {
            let slot = max(0, Int(Double(nanoseconds) / bucket))
            if slot >= histogram.count { histogram += [Int](repeating: 0, count: slot - histogram.count + 1) }
            histogram[slot] += 1
        }
        var arrived: [[OrderKey: Int64]] = Array(repeating: [:], count: count)
        var lastKey: [OrderKey?] = Array(repeating: nil, count: count)
        var outOfOrder = 0
        var across = 0
        var during = 0
        var sequence: [(key: OrderKey, published: Int64, physical: Int64)] = []
        sequence.reserveCapacity(events)
        func group(_ index: Int) -> Int { index < half ? 0 : 1 }

        func drain() {
            for index in simulator.nodes.indices {
                if index == victim {
                    // Latencies are measured over the live nodes.
                    simulator.nodes[index].arrivals.removeAll()
                    simulator.nodes[index].deliveries.removeAll()
                    continue
                }
                let offset = offsets[index]
                if !simulator.nodes[index].arrivals.isEmpty {
                    for (at, rumor) in simulator.nodes[index].arrivals {
                        guard let event = BusEvent(decoding: rumor.payload), let published = Self.publishTime(event.payload)
                        else { continue }
                        let truth = at.nanoseconds &- offset
                        arrived[index][event.key] = truth
                        add(truth &- published, to: &arrivalHistogram)
                    }
                    simulator.nodes[index].arrivals.removeAll(keepingCapacity: true)
                }
                guard !simulator.nodes[index].deliveries.isEmpty else { continue }
                for (at, event) in simulator.nodes[index].deliveries {
                    guard let published = Self.publishTime(event.payload) else { continue }
                    let truth = at.nanoseconds &- offset
                    add(truth &- published, to: &deliveryHistogram)
                    if let first = arrived[index].removeValue(forKey: event.key) {
                        add(truth &- first, to: &waitHistogram)
                        // Deliveries come in order: once every earlier event is here too, what is
                        // left is the wait for the heartbeat vector.
                        heldAll[index] = max(heldAll[index], first)
                        add(truth &- heldAll[index], to: &vectorHistogram)
                    }
                    if let previous = lastKey[index], event.key <= previous { outOfOrder += 1 }
                    lastKey[index] = event.key
                    if let cut, truth < cut.to.nanoseconds, published >= cut.from.nanoseconds {
                        during += 1
                        if let origin = directory.index[event.origin], group(origin) != group(index) { across += 1 }
                    }
                    if index == observer { sequence.append((event.key, published, event.physical)) }
                }
                simulator.nodes[index].deliveries.removeAll(keepingCapacity: true)
            }
        }

        let secondRounds = Int(1_000_000_000 / Self.tick)
        let publishRounds = Int((lastPublish.nanoseconds - simulator.now.nanoseconds) / Self.tick) + 1
        let limitRounds = simulator.rounds + publishRounds + Int(timeoutSeconds * 1e9) / Int(Self.tick)
        var complete = false
        var expected = 0
        var publishedByCrashed = 0
        while simulator.rounds < limitRounds {
            simulator.run(rounds: min(limitRounds, simulator.rounds + secondRounds))
            drain()
            progress(min(simulator.rounds, limitRounds), limitRounds)
            guard simulator.now > lastPublish else { continue }
            let live = simulator.nodes.indices.filter { !simulator.down.contains($0) }
            // Every event of a live publisher, and whatever of the crashed one's reached a live node.
            let victimID = victim.map { directory.ids[$0] }
            publishedByCrashed = publishedByCrashedCount(simulator, victim: victim)
            let fromLive = events - publishedByCrashed
            let quiet = live.allSatisfy { simulator.nodes[$0].core.bus.pendingCount == 0 }
            let settled = victimID.map { id in live.allSatisfy { !simulator.nodes[$0].core.bus.members.contains(id) } } ?? true
            let counts = live.map { simulator.nodes[$0].deliveredCount }
            if quiet, settled, let low = counts.min(), low == counts.max(), low >= fromLive {
                complete = true
                expected = low
                break
            }
        }
        drain()

        let live = simulator.nodes.indices.filter { !simulator.down.contains($0) }
        let reference = simulator.nodes[observer].deliveryHash
        let counts = live.map { simulator.nodes[$0].deliveredCount }
        if !complete {
            publishedByCrashed = publishedByCrashedCount(simulator, victim: victim)
            expected = events - publishedByCrashed
        }
        func latency(_ histogram: [Int]) -> Latency? {
            let total = histogram.reduce(0, +)
            guard total > 0 else { return nil }
            func quantile(_ q: Double) -> Double {
                let rank = Int((q * Double(total)).rounded(.up))
                var seen = 0
                for (slot, value) in histogram.enumerated() {
                    seen += value
                    if seen >= max(1, rank) { return (Double(slot) + 1) * bucket / 1e9 }
                }
                return Double(histogram.count) * bucket / 1e9
            }
            return Latency(
                samples: total, p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99),
                maximum: Double(histogram.count) * bucket / 1e9)
        }
        // The true publish times in the Lamport order, and in the order of physical timestamps.
        let lamportOrder = sequence.map(\.published)
        let physicalOrder = sequence.sorted { ($0.physical, $0.key) < ($1.physical, $1.key) }.map(\.published)
        let pairs = sequence.count * (sequence.count - 1) / 2
        return Result(
            liveNodes: live.count, agreeing: live.filter { simulator.nodes[$0].deliveryHash == reference }.count,
            published: events, publishedByCrashed: publishedByCrashed, expected: expected,
            deliveredLow: counts.min() ?? 0, deliveredHigh: counts.max() ?? 0, complete: complete,
            delivery: latency(deliveryHistogram), arrival: latency(arrivalHistogram),
            stabilityWait: latency(waitHistogram), deliveryHistogram: deliveryHistogram,
            arrivalHistogram: arrivalHistogram, vectorWait: latency(vectorHistogram),
            lamport: Inversions(pairs: Self.inversions(lamportOrder), largestGapSeconds: Self.largestGap(lamportOrder)),
            physical: Inversions(
                pairs: Self.inversions(physicalOrder), largestGapSeconds: Self.largestGap(physicalOrder)),
            pairs: pairs, warmupSeconds: warmupSeconds,
            drainSeconds: Double(simulator.now.nanoseconds - lastPublish.nanoseconds) / 1e9, outOfOrder: outOfOrder,
            deliveredAcrossPartition: across, deliveredDuringPartition: during,
            late: live.reduce(0) { $0 + simulator.nodes[$1].core.bus.late }, refusals: refusals, crashed: victim,
            datagrams: simulator.messagesSent, datagramsLost: simulator.messagesLost, bytes: simulator.bytesSent,
            simulatedSeconds: Double(simulator.now.nanoseconds - Self.start.nanoseconds) / 1e9)
    }

    /// Events the crashed publisher published before it went down.
    private func publishedByCrashedCount<Signer, Suite>(
        _ simulator: Simulator<NodeSimNode<Signer, Suite>>, victim: Int?
    ) -> Int {
        guard let victim else { return 0 }
        return Int(simulator.nodes[victim].core.bus.published)
    }

    /// Pairs (i < j) with values[i] > values[j], by merge sort: O(n log n).
    public static func inversions(_ values: [Int64]) -> Int {
        var items = values
        var buffer = values
        func sort(_ low: Int, _ high: Int) -> Int {
            guard high - low > 1 else { return 0 }
            let middle = (low + high) / 2
            var count = sort(low, middle) + sort(middle, high)
            var left = low
            var right = middle
            var out = low
            while left < middle, right < high {
                if items[left] <= items[right] {
                    buffer[out] = items[left]
                    left += 1
                } else {
                    // Every value still on the left is larger than this one.
                    count += middle - left
                    buffer[out] = items[right]
                    right += 1
                }
                out += 1
            }
            while left < middle {
                buffer[out] = items[left]
                left += 1
                out += 1
            }
            while right < high {
                buffer[out] = items[right]
                right += 1
                out += 1
            }
            for index in low..<high { items[index] = buffer[index] }
            return count
        }
        return sort(0, items.count)
    }

    /// The largest amount by which a value falls below one before it, in seconds (0 when sorted).
    static func largestGap(_ values: [Int64]) -> Double {
        var highest = Int64.min
        var gap: Int64 = 0
        for value in values {
            if value < highest { gap = max(gap, highest - value) }
            highest = max(highest, value)
        }
        return Double(gap) / 1e9
    }
}
