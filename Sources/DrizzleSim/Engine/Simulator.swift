public import DrizzleCore

/// What a simulated node asks the simulator to do.
public enum SimEffect: Sendable {
    /// Send `bytes` to node `to` through the simulated network. `reliable` messages (TCP in the
    /// runtime) are not lost to the loss rate, but a partition or a crash still stops them.
    case send(to: Int, bytes: [UInt8], reliable: Bool)
}

/// A node the simulator can drive: the shell around a protocol core. The simulator passes each
/// node its own clock's reading (virtual time plus the node's offset and drift).
public protocol SimulatedNode {
    /// A message from node `sender` arrived.
    mutating func receive(
        _ bytes: [UInt8], from sender: Int, reliable: Bool, at now: Instant, random: inout SimRandom,
        effects: inout [SimEffect])
    /// One round of periodic work.
    mutating func tick(at now: Instant, random: inout SimRandom, effects: inout [SimEffect])
}

/// A node's clock error: a fixed offset and a rate error in parts per million.
public struct ClockError: Hashable, Sendable {
    public var offsetNanoseconds: Int64
    public var driftPPM: Double

    public init(offsetNanoseconds: Int64 = 0, driftPPM: Double = 0) {
        self.offsetNanoseconds = offsetNanoseconds
        self.driftPPM = driftPPM
    }
}

/// The discrete-event simulator: virtual time, one thread, one event heap ordered by
/// (time, insertion order), seeded random streams for the network and the nodes. All nodes run
/// their rounds together every `roundNanoseconds` (the synchronous cycles of the gossip papers);
/// messages take the network's latency, so a reply arrives within the round when the latency is
/// small against the round.
public final class Simulator<Node: SimulatedNode> {
    private enum Event {
        case deliver(to: Int, from: Int, bytes: [UInt8], reliable: Bool)
        case round
        case action(Int)
    }

    public var nodes: [Node]
    public var network: NetworkModel
    public let roundNanoseconds: Int64
    /// Virtual time.
    public private(set) var now: Instant
    public private(set) var rounds = 0
    /// Per-node clock errors; nodes not listed keep perfect clocks.
    public var clockErrors: [Int: ClockError] = [:]
    /// Crashed nodes: they neither tick nor receive.
    public private(set) var down: Set<Int> = []

    public private(set) var messagesSent = 0
    public private(set) var messagesLost = 0
    public private(set) var bytesSent = 0
    public private(set) var eventsProcessed = 0

    private var queue = EventQueue<Event>()
    private var networkRandom: SimRandom
    private var nodeRandom: SimRandom
    private var actions: [Int: (Simulator) -> Void] = [:]
    private var nextAction = 0
    private let epoch: Instant
    private var effects: [SimEffect] = []

    /// - Parameters:
    ///   - start: virtual time of the first event (also where drift is measured from).
    public init(nodes: [Node], network: NetworkModel, roundNanoseconds: Int64, seed: UInt64, start: Instant) {
        self.nodes = nodes
        self.network = network
        self.roundNanoseconds = max(1, roundNanoseconds)
        self.now = start
        self.epoch = start
        networkRandom = SimRandom(seed: seed, stream: "network")
        nodeRandom = SimRandom(seed: seed, stream: "nodes")
        queue.schedule(.round, at: start.advanced(byNanoseconds: roundNanoseconds))
    }

    /// Node `index`'s clock at the current virtual time.
    public func localTime(of index: Int) -> Instant {
        guard let error = clockErrors[index] else { return now }
        let elapsed = Double(now.nanoseconds - epoch.nanoseconds)
        return now.advanced(byNanoseconds: error.offsetNanoseconds + Int64(elapsed * error.driftPPM / 1e6))
    }

    /// Runs `body` on node `index` as if it acted now (publishing, a command), sending what it asks.
    public func act(on index: Int, _ body: (inout Node, Instant, inout SimRandom, inout [SimEffect]) -> Void) {
        effects.removeAll(keepingCapacity: true)
        body(&nodes[index], localTime(of: index), &nodeRandom, &effects)
        dispatch(from: index)
    }

    /// Runs `action` at virtual time `time` (partitions, heals, crashes, workload).
    public func schedule(at time: Instant, _ action: @escaping (Simulator) -> Void) {
        nextAction += 1
        actions[nextAction] = action
        queue.schedule(.action(nextAction), at: time)
    }

    /// Crashes node `index`: messages to it are lost and it stops ticking.
    public func crash(_ index: Int) { down.insert(index) }

    /// Restarts node `index` with a fresh state.
    public func restart(_ index: Int, as node: Node) {
        nodes[index] = node
        down.remove(index)
    }

    /// Processes events until `rounds` rounds have run, or until `stop` holds, checked before
    /// each round once the previous round's messages have been delivered. A later call continues.
    public func run(rounds limit: Int, until stop: (Simulator) -> Bool = { _ in false }) {
        while let (time, event) = queue.pop() {
            now = time
            eventsProcessed += 1
            switch event {
            case .deliver(let to, let from, let bytes, let reliable):
                deliver(bytes, to: to, from: from, reliable: reliable)
            case .round:
                if rounds >= limit || stop(self) {
                    // Put the round back so that a later call resumes exactly here.
                    queue.schedule(.round, at: time)
                    return
                }
                rounds += 1
                for index in nodes.indices where !down.contains(index) {
                    effects.removeAll(keepingCapacity: true)
                    nodes[index].tick(at: localTime(of: index), random: &nodeRandom, effects: &effects)
                    dispatch(from: index)
                }
                queue.schedule(.round, at: time.advanced(byNanoseconds: roundNanoseconds))
            case .action(let id):
                runAction(id)
            }
        }
    }

    private func deliver(_ bytes: [UInt8], to: Int, from: Int, reliable: Bool) {
        guard !down.contains(to) else { return }
        effects.removeAll(keepingCapacity: true)
        nodes[to].receive(
            bytes, from: from, reliable: reliable, at: localTime(of: to), random: &nodeRandom, effects: &effects)
        dispatch(from: to)
    }

    private func runAction(_ id: Int) {
        if let action = actions.removeValue(forKey: id) { action(self) }
    }

    private func dispatch(from sender: Int) {
        for effect in effects {
            switch effect {
            case .send(let to, let bytes, let reliable):
                messagesSent += 1
                bytesSent += bytes.count
                guard to != sender, nodes.indices.contains(to),
                    let delay = network.delivery(from: sender, to: to, lossless: reliable, using: &networkRandom)
                else {
                    messagesLost += 1
                    continue
                }
                queue.schedule(
                    .deliver(to: to, from: sender, bytes: bytes, reliable: reliable),
                    at: now.advanced(byNanoseconds: delay))
            }
        }
    }
}
