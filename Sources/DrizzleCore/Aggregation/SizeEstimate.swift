/// A node's answer to "how many nodes are in the cluster?", as gossip aggregation computed it.
public struct SizeEstimate: Hashable, Sendable {
    /// Where the figure comes from.
    public enum Source: String, Hashable, Sendable {
        /// The result of an epoch this node took part in, once all its cycles ran.
        case epoch
        /// The epoch in progress (only shown before any epoch result exists): still converging.
        case converging
        /// Learned from a peer's message while this node had no epoch result of its own.
        case peer
    }

    /// The estimated number of nodes.
    public var size: Double
    /// The epoch that produced it.
    public var epoch: UInt64
    /// Cycles since the figure stopped changing (0 for an epoch result in its last cycle); for an
    /// estimate still converging, the cycles its epoch has run so far.
    public var ageCycles: Int
    /// How many instance estimates were combined (0 when learned from a peer).
    public var instances: Int
    public var source: Source

    public init(size: Double, epoch: UInt64, ageCycles: Int, instances: Int, source: Source) {
        self.size = size
        self.epoch = epoch
        self.ageCycles = ageCycles
        self.instances = instances
        self.source = source
    }
}

/// The settings a cluster's size estimators share (every node must use the same ones).
public struct SizeSettings: Hashable, Sendable {
    /// How the initiators of an epoch's instances are chosen, without coordination.
    public enum Initiation: Hashable, Sendable {
        /// Every node that starts an epoch on time is a candidate in every instance; per instance the
        /// candidate with the lowest ticket (a hash of epoch, instance and node id) wins and the others'
        /// averages are abandoned where they meet it. Exactly one initiator per instance, no N̂ needed.
        case everyNode
        /// Jelasity et al.'s rule: a node starting an epoch is a candidate in each instance with
        /// probability c / N̂ (N̂ its latest estimate, or its peer count before it has one). An
        /// instance with no candidate stays empty for the epoch (probability about e^-c).
        case probability(expectedInitiators: Double)
    }

    /// How the instance estimates are combined into one.
    public enum Combination: String, Hashable, Sendable, CaseIterable {
        case mean
        /// Robust to an instance thrown off by an early lost message or a crashed initiator.
        case median
    }

    /// The most concurrent instances: their values must fit one datagram beside a certificate.
    public static let maximumInstances = 16

    /// Cycles per epoch; the aggregation restarts at each epoch so the estimate follows churn.
    public var epochCycles: Int
    /// Concurrent, independent instances (each with its own initiator), combined by `combination`.
    public var instances: Int
    public var combination: Combination
    public var initiation: Initiation
    /// Times an unanswered exchange is sent again, one cycle apart, before it is abandoned; the
    /// receiver answers a repeat from memory, so a lost reply no longer changes the mass. 0 gives
    /// the papers' model (a lost reply or push silently changes the mass until the next epoch).
    public var retries: Int
    /// A node that learns of an epoch at most this many cycles after it started takes part in it;
    /// later, it waits for the next epoch (its zero would add variance too late to average out).
    public var joinWindowCycles: Int

    /// Values are clamped: at least 2 cycles per epoch, 1 to `maximumInstances` instances, 0 to 8
    /// retries; the join window defaults to 2 cycles.
    public init(
        epochCycles: Int = 30, instances: Int = 1, combination: Combination = .median,
        initiation: Initiation = .everyNode, retries: Int = 4, joinWindowCycles: Int? = nil
    ) {
        self.epochCycles = max(2, epochCycles)
        self.instances = min(Self.maximumInstances, max(1, instances))
        self.combination = combination
        self.initiation = initiation
        self.retries = min(8, max(0, retries))
        self.joinWindowCycles = min(self.epochCycles - 1, max(0, joinWindowCycles ?? 2))
    }

    /// The ticket of `instance` (an initiator's id) in `slot` during `epoch`: lower wins. A fixed
    /// mixing function, so every node ranks candidates the same way without trusting a claimed number.
    public static func ticket(epoch: UInt64, slot: Int, instance: NodeID) -> UInt64 {
        var x = epoch &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: slot) &* 0xD1B5_4A32_D192_ED03
        x = mix(x ^ instance.high)
        return mix(x ^ instance.low)
    }

    /// True when `candidate` beats `incumbent` for `slot` in `epoch` (ties, impossible in practice,
    /// go to the lower id).
    public static func precedes(_ candidate: NodeID, _ incumbent: NodeID, epoch: UInt64, slot: Int) -> Bool {
        let a = ticket(epoch: epoch, slot: slot, instance: candidate)
        let b = ticket(epoch: epoch, slot: slot, instance: incumbent)
        return a != b ? a < b : candidate < incumbent
    }

    /// SplitMix64's finalizer.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Combines instance estimates; `nil` when there are none.
    func combine(_ sizes: [Double]) -> Double? {
        guard !sizes.isEmpty else { return nil }
        switch combination {
        case .mean:
            return sizes.reduce(0, +) / Double(sizes.count)
        case .median:
            let sorted = sizes.sorted()
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }
    }
}

/// What a size estimator asks its shell to do.
public enum SizeOutput: Hashable, Sendable {
    /// Send `message` to `to` (a datagram: it may be lost).
    case send(to: NodeID, message: SizeMessage)
}

/// A network-size estimator driven by a shell, sans-IO: one `tick` per gossip cycle, `receive` for
/// each message; randomness is injected. `PushPullAverage` and `PushSum` conform.
public protocol SizeEstimator: Sendable {
    /// This node.
    var me: NodeID { get }
    var settings: SizeSettings { get }
    /// The epoch this node is in; 0 before it starts or learns one.
    var epoch: UInt64 { get }
    /// True when the node takes part in the current epoch (it started it or joined within the window).
    var isParticipating: Bool { get }
    /// The node's best answer: the newest epoch result, a peer's before it has one, or the
    /// converging value during its very first epoch.
    var estimate: SizeEstimate? { get }
    /// The estimate of the epoch in progress (nil while this node holds no mass in any instance).
    var runningEstimate: SizeEstimate? { get }
    /// The averaging form of `slot`'s state: the instance and a value whose cluster mean is
    /// 1 / size (push-pull: the value itself; push-sum: weight / sum). For measurements.
    func averagingValue(inSlot slot: Int) -> InstanceValue?
    /// Exchanges given up after every retry went unanswered (each may have changed the mass).
    var abandonedExchanges: Int { get }

    /// One gossip cycle: starts or ends epochs, resends unanswered exchanges, starts a new one with
    /// a random member of `peers` (which may contain this node).
    mutating func tick<Peers: RandomAccessCollection<NodeID>>(
        peers: Peers, using generator: inout some RandomNumberGenerator
    ) -> [SizeOutput]

    /// The number of members alive in this node's view, itself included (the membership layer's
    /// count). A view that grows by more than a quarter during an epoch starts the next one early
    /// (see `EpochClock`); a shell that never calls this keeps epochs strictly periodic.
    mutating func observeView(size: Int)

    /// Handles a message from `peer`.
    mutating func receive(
        _ message: SizeMessage, from peer: NodeID, using generator: inout some RandomNumberGenerator
    ) -> [SizeOutput]
}

extension RandomAccessCollection where Element == NodeID {
    /// A uniformly random member other than `me`, or nil when there is none (bounded retries).
    func randomPeer(excluding me: NodeID, using generator: inout some RandomNumberGenerator) -> NodeID? {
        guard !isEmpty else { return nil }
        for _ in 0..<16 {
            let offset = Int.random(in: 0..<count, using: &generator)
            let candidate = self[index(startIndex, offsetBy: offset)]
            if candidate != me { return candidate }
        }
        return nil
    }
}
