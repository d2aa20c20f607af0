/// Arithmetic on the 128-bit identifier circle (ids taken modulo 2^128), as Chord uses it.
extension NodeID {
    /// This id plus 2^`exponent` on the circle (`exponent` in 0..<128).
    public func advanced(byPowerOfTwo exponent: Int) -> NodeID {
        precondition((0..<128).contains(exponent), "exponent outside the 128-bit ring")
        if exponent >= 64 {
            return NodeID(high: high &+ (1 << UInt64(exponent - 64)), low: low)
        }
        let (sum, carry) = low.addingReportingOverflow(1 << UInt64(exponent))
        return NodeID(high: carry ? high &+ 1 : high, low: sum)
    }

    /// The clockwise distance from `self` to `other` (0 when equal).
    public func distance(to other: NodeID) -> NodeID {
        let (low, borrow) = other.low.subtractingReportingOverflow(self.low)
        return NodeID(high: other.high &- self.high &- (borrow ? 1 : 0), low: low)
    }

    /// True when `self` lies on the clockwise arc from `start` (excluded) to `end` (included):
    /// Chord's `(start, end]`. When `start == end` the arc is the whole circle.
    public func isIn(after start: NodeID, upTo end: NodeID) -> Bool {
        if start == end { return true }
        return start.distance(to: self) != NodeID(high: 0, low: 0) && start.distance(to: self) <= start.distance(to: end)
    }

    /// True when `self` lies strictly between `start` and `end` clockwise: Chord's `(start, end)`.
    /// When `start == end` this is every id but `start`.
    public func isStrictly(after start: NodeID, before end: NodeID) -> Bool {
        if start == end { return self != start }
        let offset = start.distance(to: self)
        return offset != NodeID(high: 0, low: 0) && offset < start.distance(to: end)
    }

    /// The id as a fraction of the circle, in [0, 1) (for plots and summaries).
    public var fractionOfRing: Double { Double(high) / 18_446_744_073_709_551_616.0 }
}
