
/// How long a message takes on a link.
public enum LatencyDistribution: Hashable, Sendable {
    case constant(nanoseconds: Int64)
    /// Uniform in [low, high].
    case uniform(low: Int64, high: Int64)
    /// Normal with `mean` and standard deviation `deviation`, never below `floor`.
    case normal(mean: Int64, deviation: Int64, floor: Int64)

    /// 1 ms ± 0.5 ms, uniform: the default LAN-like link.
    public static let lan = LatencyDistribution.uniform(low: 500_000, high: 1_500_000)

    public func sample(using random: inout SimRandom) -> Int64 {
        switch self {
        case .constant(let value): return value
        case .uniform(let low, let high):
            return high <= low ? low : low + Int64(random.next() % UInt64(high - low + 1))
        case .normal(let mean, let deviation, let floor):
            return max(floor, mean + Int64((random.normal() * Double(deviation)).rounded()))
        }
    }
}

/// The simulated network: latency per link, loss, partitions. Partitions and slow links are kept
/// in sparse maps (a full N×N table would be 10⁸ entries at 10,000 nodes).
public struct NetworkModel: Sendable {
    public var latency: LatencyDistribution
    /// Probability that a message is lost, in [0, 1].
    public var lossRate: Double
    /// Links with their own latency, keyed by (from, to).
    public var slowLinks: [Link: LatencyDistribution] = [:]
    /// Partition group of each node that is not in group 0; messages cross no group boundary.
    public private(set) var groups: [Int: Int] = [:]

    public struct Link: Hashable, Sendable {
        public var from: Int
        public var to: Int
        public init(from: Int, to: Int) {
            self.from = from
            self.to = to
        }
    }

    public init(latency: LatencyDistribution = .lan, lossRate: Double = 0) {
        self.latency = latency
        self.lossRate = min(1, max(0, lossRate))
    }

    /// Splits the network: each node listed goes to its group; everyone else stays in group 0.
    public mutating func partition(_ assignment: [Int: Int]) { groups = assignment.filter { $0.value != 0 } }

    /// Removes every partition.
    public mutating func heal() { groups = [:] }

    /// The delay of one message from `from` to `to`, or `nil` when it is lost or cut off.
    /// `lossless` messages (a reliable stream) are not subject to the loss rate.
    public func delivery(from: Int, to: Int, lossless: Bool = false, using random: inout SimRandom) -> Int64? {
        guard groups[from, default: 0] == groups[to, default: 0] else { return nil }
        if !lossless, lossRate > 0, random.unit() < lossRate { return nil }
        return (slowLinks[Link(from: from, to: to)] ?? latency).sample(using: &random)
    }
}
