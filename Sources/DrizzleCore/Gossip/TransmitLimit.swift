/// How many times a node retransmits one rumor before it stops, as a function of cluster size.
///
/// Two formulas from the field, selectable so experiments can compare them:
/// - memberlist: `multiplier · ⌈log10(n + 1)⌉` (multiplier 4 gives 12 at 100 nodes, 16 at 1,000);
/// - swift-cluster-membership: `multiplier · ⌈log2(n + 1)⌉`.
/// `.unlimited` leaves stopping to the rumor-mongering rule alone (Demers' model).
public enum TransmitLimit: Hashable, Sendable {
    case unlimited
    case memberlist(multiplier: Int)
    case log2(multiplier: Int)

    /// The limit for a cluster of `clusterSize` nodes; `Int.max` when unlimited. Never below 1.
    public func limit(clusterSize: Int) -> Int {
        let n = max(0, clusterSize)
        switch self {
        case .unlimited:
            return .max
        case .memberlist(let multiplier):
            return max(1, multiplier * Self.ceilingLog(n + 1, base: 10))
        case .log2(let multiplier):
            return max(1, multiplier * Self.ceilingLog(n + 1, base: 2))
        }
    }

    /// ⌈log_base(value)⌉ for value ≥ 1, in integers (no floating point rounding at powers of the base).
    static func ceilingLog(_ value: Int, base: Int) -> Int {
        var power = 1
        var exponent = 0
        while power < value {
            let (next, overflow) = power.multipliedReportingOverflow(by: base)
            if overflow { return exponent + 1 }
            power = next
            exponent += 1
        }
        return exponent
    }
}
