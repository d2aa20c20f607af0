/// How long a suspected member has before it is declared dead.
///
/// Without Lifeguard: a fixed `minimum`. With Lifeguard's dynamic suspicion: the timeout starts at
/// `maximum` and falls toward `minimum` as independent members confirm the suspicion,
/// `max(min, max − (max − min) · log(c + 1) / log(k + 1))` for c confirmations of k expected.
public struct Suspicion: Hashable, Sendable {
    public var startedAt: Instant
    public var minimumNanoseconds: Int64
    public var maximumNanoseconds: Int64
    public var expectedConfirmations: Int
    /// Members that reported the suspicion (the first reporter included).
    public private(set) var reporters: Set<NodeID>

    public init(
        startedAt: Instant, reporter: NodeID, minimumNanoseconds: Int64, maximumNanoseconds: Int64,
        expectedConfirmations: Int
    ) {
        self.startedAt = startedAt
        self.minimumNanoseconds = minimumNanoseconds
        self.maximumNanoseconds = max(minimumNanoseconds, maximumNanoseconds)
        self.expectedConfirmations = max(0, expectedConfirmations)
        reporters = [reporter]
    }

    /// Records a confirmation; true when it came from a member not heard before.
    @discardableResult
    public mutating func confirm(by reporter: NodeID) -> Bool { reporters.insert(reporter).inserted }

    /// Independent confirmations beyond the first report.
    public var confirmations: Int { reporters.count - 1 }

    /// The current timeout, shrinking with confirmations.
    public var timeoutNanoseconds: Int64 {
        guard expectedConfirmations > 0, maximumNanoseconds > minimumNanoseconds else { return minimumNanoseconds }
        let fraction = Self.log(Double(confirmations + 1)) / Self.log(Double(expectedConfirmations + 1))
        let span = Double(maximumNanoseconds - minimumNanoseconds)
        return max(minimumNanoseconds, maximumNanoseconds - Int64(span * min(1, fraction)))
    }

    /// When the member is declared dead unless it refutes.
    public var deadline: Instant { startedAt.advanced(byNanoseconds: timeoutNanoseconds) }

    /// Natural logarithm without Foundation (the core imports none): ln x = 2·atanh((x−1)/(x+1)).
    static func log(_ x: Double) -> Double {
        guard x > 0 else { return 0 }
        var exponent = 0.0
        var mantissa = x
        while mantissa > 2 { mantissa /= 2; exponent += 1 }
        while mantissa < 1 { mantissa *= 2; exponent -= 1 }
        let y = (mantissa - 1) / (mantissa + 1)
        var term = y
        var sum = 0.0
        var power = 1.0
        for _ in 0..<30 {
            sum += term / power
            term *= y * y
            power += 2
        }
        return 2 * sum + exponent * 0.693_147_180_559_945_3
    }
}

/// Lifeguard's local health: a node that misses acks it should have got (it is itself slow or
/// overloaded) raises its multiplier and probes and suspects more slowly, until probes succeed again.
public struct LocalHealth: Hashable, Sendable {
    public private(set) var score = 0
    public let maximum: Int

    public init(maximum: Int = 8) { self.maximum = max(0, maximum) }

    /// Timeouts and intervals are multiplied by this.
    public var multiplier: Int64 { Int64(score + 1) }

    public mutating func worsen(by amount: Int = 1) { score = min(maximum, score + max(0, amount)) }
    public mutating func improve() { score = max(0, score - 1) }
}
